// `./loadtest/run.mjs --on aws -i <inventory> --generators N`: what the command line adds around
// the launcher (aws.ts): the checks that the tasks can run what was asked (a profile inside the
// harness artifact, a target reachable from AWS), the loadgen stack and harness artifact from the
// playbooks (prepareLoadgen, loaded from the built playbooks like run.mjs loads the harness: the
// harness never imports the playbooks), the SDK clients, and Ctrl-C.
import { ECSClient } from '@aws-sdk/client-ecs';
import { S3Client } from '@aws-sdk/client-s3';
import { existsSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Profile } from '../profile/types.js';
import type { Progress } from '../progress.js';
import type { RunResult } from '../result.js';
import type { Target } from '../target.js';
import { UsageError } from '../usage-error.js';
import { ecsApi, objectStore } from './aws-api.js';
import { runAwsGenerators } from './aws.js';
import type { LoadgenPlacement, PlacementOverride, PrepareLoadgenOptions } from './placement.js';

export interface AwsRunRequest {
  /** the repository root: the harness artifact holds its files under the same paths */
  root: string;
  profileFile: string;
  profile: Profile;
  target: Target;
  count: number;
  runId: string;
  inventoryFile: string;
  spot: boolean;
  yes: boolean;
  /** --region and --subnets, already checked */
  override?: PlacementOverride;
  progress: Progress;
}

/** Where the built playbooks keep prepareLoadgen (playbooks/lib/plays/loadgen.ts). */
export function loadgenPlayFile(root: string): string {
  return join(root, 'dist', 'playbooks', 'lib', 'plays', 'loadgen.js');
}

/** The profile's path inside the harness artifact, which is this repository's files. */
export function profileInArtifact(root: string, profileFile: string): string {
  const rel = relative(root, resolve(profileFile));
  if (!rel || rel.startsWith('..') || isAbsolute(rel)) {
    throw new UsageError(`--on aws: ${profileFile} is outside the repository; the generator tasks run the harness artifact built from it: copy the profile into loadtest/profiles/`);
  }
  return rel.split(sep).join('/');
}

/** The tasks run in AWS's private subnets: this machine and its local target are out of their reach (a private address may be the VPC's own: allowed). */
export function checkReachableFromAws(target: Target): void {
  if (target.kind === 'local') throw new UsageError(`--on aws: generators on AWS cannot reach the local target on this machine; give the environment's inventory or its https URL as --target`);
  const host = new URL(target.url).hostname;
  if (/^(localhost|127\.|0\.0\.0\.0$|\[::1\]$)/.test(host)) {
    throw new UsageError(`--on aws: generators on AWS cannot reach ${target.url} (this machine's loopback address); give the environment's URL`);
  }
}

/** The placement with --subnets in place of the stack's subnets (--region went to the loadgen play). */
export function overridePlacement(placement: LoadgenPlacement, override: PlacementOverride | undefined): LoadgenPlacement {
  return override?.subnets ? { ...placement, subnets: override.subnets } : placement;
}

export async function runOnAws(req: AwsRunRequest): Promise<RunResult> {
  const profilePath = profileInArtifact(req.root, req.profileFile);
  checkReachableFromAws(req.target);
  const play = loadgenPlayFile(req.root);
  if (!existsSync(play)) throw new UsageError(`${play} is missing: build the playbooks first (npm run build)`);
  const { prepareLoadgen } = (await import(pathToFileURL(play).href)) as { prepareLoadgen: (o: PrepareLoadgenOptions) => Promise<LoadgenPlacement> };
  let placement: LoadgenPlacement;
  try {
    placement = await prepareLoadgen({ inventoryFile: req.inventoryFile, yes: req.yes, region: req.override?.region, line: (text) => req.progress.line(text) });
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`the loadgen stack is not ready: ${(e as Error).message}`);
  }
  placement = overridePlacement(placement, req.override);
  if (req.override?.subnets) req.progress.line(`the tasks go in ${placement.subnets.join(', ')} (--subnets), not the loadgen stack's subnets`);
  const controller = new AbortController();
  const abort = (): void => controller.abort();
  process.once('SIGINT', abort);
  process.once('SIGTERM', abort);
  try {
    return await runAwsGenerators({
      placement,
      ecs: ecsApi(new ECSClient({ region: placement.region })),
      store: objectStore(new S3Client({ region: placement.region })),
      count: req.count,
      runId: req.runId,
      profile: req.profile,
      // The tasks load the resolved URL: their role may not read the stacks or the Auto Scaling groups.
      harnessArgs: ['--profile', profilePath, '--target', req.target.url],
      spot: req.spot,
      progress: req.progress,
      signal: controller.signal,
      // …so this machine watches them, with the user's credentials (none for a plain URL).
      probe: req.target.probe,
    });
  } finally {
    process.removeListener('SIGINT', abort);
    process.removeListener('SIGTERM', abort);
  }
}
