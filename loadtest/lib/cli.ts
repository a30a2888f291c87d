// The command line of ./loadtest/run.mjs. Exit codes (as k6): 0 every threshold holds, 99 a
// threshold failed (printed with its measured value), 1 a usage error (bad flag, bad profile,
// unreachable or unknown target), printed as one message that says what to do.
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { capacityCommand } from './capacity-command.js';
import { parseS3Url, type S3Location } from './generators/aws-layout.js';
import type { ShardReporter } from './generators/aws-task.js';
import { awsGeneratorCount, generatorCount } from './generators/count.js';
import { parsePlacementOverride } from './generators/placement.js';
import { runLocalGenerators } from './generators/local.js';
import { mergeResults } from './merge.js';
import { loadProfile, ProfileError } from './profile/load.js';
import { Progress } from './progress.js';
import { renderReport } from './report.js';
import { writeResult, type RunResult } from './result.js';
import { runProfile } from './runner.js';
import { parseShard } from './schedule.js';
import { resolveTarget } from './target.js';
import { UsageError } from './usage-error.js';

export const EXIT_PASS = 0;
export const EXIT_USAGE = 1;
export const EXIT_THRESHOLDS = 99;

export const USAGE = `usage:
  ./loadtest/run.mjs --profile <profile.yaml> --target local|<url>|<inventory.yaml> [options]
  ./loadtest/run.mjs merge <result.json or its folder>... [--out <dir>]
  ./loadtest/run.mjs check --profile <profile.yaml>
  ./loadtest/run.mjs capacity --profile <profile.yaml> --target <target> [--start, --factor, --hold …]  (capacity --help)

options:
  --generators N     run the profile as N shard processes on this machine, started together and
                     merged into one result (default: one per core when the profile's peak needs
                     more than one generator; 1 runs in this process)
  --on local|aws     where the generators run (default local); aws: N ECS Fargate tasks on the
                     loadgen stack of the inventory given with -i (default N: the profile's peak
                     over one generator's comfortable rate), started together, merged as one run
  -i <inventory>     the AWS environment whose loadgen stack runs the generators (--on aws)
  --spot             run the generator tasks on Fargate Spot (cheaper; a task may be interrupted,
                     and a generator that stops early fails the run)
  --yes              approve the loadgen stack's change set without asking (--on aws)
  --region <region>  run the loadgen stack and its tasks in this region instead of the inventory's
                     (--on aws; the environment's network stack must be there)
  --subnets <id,id>  place the tasks in these subnets instead of the loadgen stack's private ones
                     (--on aws; subnets of the stack's VPC, whose security group the tasks keep)
  --shard i/n        run the i-th of n shares of the profile (merge the results with "merge")
  --start-at <time>  ISO time at which the schedule starts (give every shard the same one), or
                     s3://bucket/key: wait for the start an AWS launcher writes there
  --results-s3 <s3://bucket/folder/>  also put this shard's status.json (live) and result.json
                     there (what a generator task on AWS is given)
  --run-id <id>      names the run ({{run}} in profiles); shards of one run share it
  --url <url>        load this URL instead of the one the inventory gives
  --load-balancer <app/name/id>  the ALB whose CloudWatch figures go in the report (aws)
  --state-dir <dir>  where the local target keeps state.json (default .saleday/local)
  --out <dir>        where results go (default build/loadtest)
  --quiet            no live progress
exit codes: 0 every threshold holds, 99 a threshold failed, 1 usage error`;

export interface CliContext {
  /** the repository root (defaults for --out and --state-dir) */
  root: string;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream & { isTTY?: boolean };
}

export async function main(argv: string[], ctx: CliContext): Promise<number> {
  const out = ctx.stdout ?? process.stdout;
  const err = ctx.stderr ?? process.stderr;
  try {
    return await dispatch(argv, ctx, out, err);
  } catch (e) {
    if (e instanceof UsageError || e instanceof ProfileError) {
      err.write(`${e.message}\n`);
      return EXIT_USAGE;
    }
    throw e;
  }
}

async function dispatch(argv: string[], ctx: CliContext, out: NodeJS.WritableStream, err: CliContext['stderr'] & object): Promise<number> {
  // The capacity search has flags of its own (capacity-command.ts).
  if (argv[0] === 'capacity') return capacityCommand(argv.slice(1), { root: ctx.root, out, err });
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        profile: { type: 'string' },
        target: { type: 'string' },
        generators: { type: 'string' },
        on: { type: 'string' },
        inventory: { type: 'string', short: 'i' },
        spot: { type: 'boolean' },
        yes: { type: 'boolean' },
        region: { type: 'string' },
        subnets: { type: 'string' },
        'results-s3': { type: 'string' },
        shard: { type: 'string' },
        'start-at': { type: 'string' },
        'run-id': { type: 'string' },
        url: { type: 'string' },
        'load-balancer': { type: 'string' },
        'state-dir': { type: 'string' },
        out: { type: 'string' },
        quiet: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n${USAGE}`);
  }
  const { values: v, positionals } = parsed;
  if (v.help) {
    out.write(`${USAGE}\n`);
    return EXIT_PASS;
  }
  const outRoot = resolve(v.out ?? join(ctx.root, 'build', 'loadtest'));
  const command = positionals[0];

  if (command === 'merge') {
    const files = positionals.slice(1);
    if (files.length < 2) throw new UsageError(`merge needs the results of at least two shards\n${USAGE}`);
    const results = await Promise.all(files.map(readResult));
    const merged = mergeResults(results);
    const dir = await writeResult(merged, outRoot, renderReport(merged), '-merged');
    printVerdict(merged, dir, out);
    return merged.passed ? EXIT_PASS : EXIT_THRESHOLDS;
  }
  if (command === 'check') {
    if (!v.profile) throw new UsageError(`check needs --profile <profile.yaml>\n${USAGE}`);
    const profile = loadProfile(v.profile);
    out.write(`${v.profile}: ok (${profile.phases.length} phases, ${profile.journeys.length} journeys, ${profile.thresholds.length} thresholds)\n`);
    return EXIT_PASS;
  }
  if (command !== undefined) throw new UsageError(`unknown command "${command}"\n${USAGE}`);
  if (!v.profile) throw new UsageError(`--profile is required (e.g. --profile loadtest/profiles/smoke.yaml)\n${USAGE}`);
  if (!v.target) throw new UsageError(`--target is required: local, a URL or an inventory file\n${USAGE}`);
  const shard = v.shard === undefined ? undefined : parseShard(v.shard);
  if (v.shard !== undefined && !shard) throw new UsageError(`--shard ${v.shard} is not i/n with 1 ≤ i ≤ n (e.g. --shard 1/2)`);
  let startAt: Date | undefined;
  let startSignal: S3Location | undefined;
  if (v['start-at']?.startsWith('s3://')) {
    startSignal = parseS3Url(v['start-at']);
    if (!startSignal) throw new UsageError(`--start-at ${v['start-at']} is not s3://<bucket>/<key>`);
  } else if (v['start-at'] !== undefined) {
    startAt = new Date(v['start-at']);
    if (Number.isNaN(startAt.getTime())) throw new UsageError(`--start-at ${v['start-at']} is not an ISO time (e.g. 2025-11-28T09:00:00Z)`);
  }
  const resultsS3 = v['results-s3'] === undefined ? undefined : parseS3Url(v['results-s3']);
  if (v['results-s3'] !== undefined && !resultsS3) throw new UsageError(`--results-s3 ${v['results-s3']} is not s3://<bucket>/<folder>/`);
  if (startSignal && !resultsS3) throw new UsageError(`--start-at s3://… is how a generator task on AWS waits for its launcher: give --results-s3 too (or an ISO time)`);
  const on = v.on ?? 'local';
  if (on !== 'local' && on !== 'aws') throw new UsageError(`--on ${on} is not local or aws`);
  if (on === 'local' && (v.inventory !== undefined || v.spot || v.yes || v.region !== undefined || v.subnets !== undefined)) {
    throw new UsageError(`-i, --spot, --yes, --region and --subnets choose where generators run on AWS: add --on aws (or drop them)`);
  }
  const parsedOverride = parsePlacementOverride(v.region, v.subnets);
  if (typeof parsedOverride === 'string') throw new UsageError(parsedOverride);
  const override = parsedOverride;
  if (on === 'aws') {
    if (!v.inventory) throw new UsageError(`--on aws needs -i <inventory.yaml>: the AWS environment whose loadgen stack runs the generators (e.g. -i playbooks/inventories/staging.yaml)`);
    if (shard || startAt || startSignal || resultsS3) throw new UsageError('--on aws gives every task its shard, start and results folder itself: drop --shard, --start-at and --results-s3');
  }
  // A generator task on AWS reports to S3 from the start, so that a bad profile or target is told too.
  // The AWS parts load only when asked for: every other run starts without the ECS and S3 clients.
  const reporter = resultsS3 ? await shardReporter(resultsS3) : undefined;
  await reporter?.begin();
  let result: RunResult;
  try {
    result = await run();
  } catch (e) {
    await reporter?.fail(e, e instanceof UsageError || e instanceof ProfileError);
    throw e;
  }
  await reporter?.finish(result);

  async function run(): Promise<RunResult> {
    const profile = loadProfile(v.profile!);
    const generators = on === 'aws' ? awsGeneratorCount(v.generators, profile) : generatorCount(v.generators, profile, { shard: !!shard, startAt: !!startAt || !!startSignal });
    const targetOptions = { stateDir: resolve(v['state-dir'] ?? join(ctx.root, '.saleday', 'local')), ...(v.url ? { url: v.url } : {}), ...(v['load-balancer'] ? { loadBalancer: v['load-balancer'] } : {}) };
    const target = await resolveTarget(v.target!, targetOptions);
    const progress = new Progress(err, v.quiet ?? false);
    const runId = v['run-id'] ?? Date.now().toString(36);
    if (on === 'aws') {
      const { runOnAws } = await import('./generators/aws-command.js');
      return runOnAws({ root: ctx.root, profileFile: v.profile!, profile, target, count: generators, runId, inventoryFile: v.inventory!, spot: v.spot ?? false, yes: v.yes ?? false, override, progress });
    }
    if (generators > 1) return runLocalGenerators({ profileFile: resolve(v.profile!), target: v.target!, targetOptions, count: generators, runId, progress });
    return runProfile({
      profile,
      target,
      ...(shard ? { shard } : {}),
      ...(v['run-id'] ? { runId: v['run-id'] } : {}),
      ...(startAt ? { startAt } : {}),
      ...(reporter && startSignal ? { ready: () => reporter.ready(startSignal) } : {}),
      progress: reporter ? reporter.progress(progress) : progress,
    });
  }
  const suffix = shard && shard.count > 1 ? `-shard-${shard.index + 1}-of-${shard.count}` : '';
  const dir = await writeResult(result, outRoot, renderReport(result), suffix);
  printVerdict(result, dir, out);
  if (shard && shard.count > 1) out.write(`merge the shards with: ./loadtest/run.mjs merge <the ${shard.count} result folders>\n`);
  return result.passed ? EXIT_PASS : EXIT_THRESHOLDS;
}

async function shardReporter(folder: S3Location): Promise<ShardReporter> {
  const [{ S3Client }, { objectStore }, { ShardReporter }] = await Promise.all([import('@aws-sdk/client-s3'), import('./generators/aws-api.js'), import('./generators/aws-task.js')]);
  return new ShardReporter({ store: objectStore(new S3Client({})), folder });
}

async function readResult(path: string): Promise<RunResult> {
  let file = path;
  try {
    if ((await stat(path)).isDirectory()) file = join(path, 'result.json');
    const r = JSON.parse(await readFile(file, 'utf8')) as RunResult;
    if (!r || r.version !== 1 || !r.recording) throw new Error('not a result');
    return r;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`${file}: ${code === 'ENOENT' ? 'no such file' : 'not a result.json of this harness'} (give each shard's result folder or result.json)`);
  }
}

export function printVerdict(result: RunResult, dir: string, out: NodeJS.WritableStream): void {
  const failed = result.verdicts.filter((v) => !v.ok);
  out.write(`\nverdict: ${result.passed ? 'PASS' : 'FAIL'}${failed.length ? ` (${failed.length} of ${result.verdicts.length} failed)` : ` (${result.verdicts.length} thresholds)`}\n`);
  for (const v of result.verdicts) out.write(`  ${v.ok ? '✓' : '✗'} ${v.label}: ${v.measured}${v.ok ? '' : `  [${v.path}]`}\n`);
  for (const g of result.generators ?? []) {
    out.write(`  generator ${g.shard} (${g.where}): ${g.state}, ${g.started}/${g.scheduled} journeys, ${g.requestRate.toFixed(1)} req/s, ${g.errors} errors\n`);
  }
  out.write(`result: ${join(dir, 'result.json')}\nreport: ${join(dir, 'report.html')}\n`);
}
