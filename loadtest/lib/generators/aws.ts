// Generators on AWS: the shards of one run as ECS Fargate tasks (Spot when the user allows it) on
// the loadgen stack, top to bottom: launch one task per shard → wait until every task is RUNNING
// and its harness has done its setup (status.json says ready) → write one start time to S3 that
// every task waits for → show the tasks' summed status from their status.json → wait until every
// task has stopped (the harness ends at the profile's end plus drain; a watchdog stops a task that
// runs past that) → fetch each shard's result.json, merge them exactly, name each generator's share
// and any that failed or fell behind. Ctrl-C stops every task.
//
// Why a start object rather than a start time fixed at launch: Fargate takes from seconds to
// minutes to place a task (longer on Spot), so a time fixed before RunTask is either too early for
// some task (it would start late and fall behind) or wastes minutes for all. The tasks are told
// where the start will be written, and it is written once the last of them is ready, as the local
// generators do with their parent.
import { FleetWatch, scaleInWait } from '../fleet-watch.js';
import { mergeResults } from '../merge.js';
import type { ScalingProbe } from '../probes/probe.js';
import type { Profile } from '../profile/types.js';
import type { Progress } from '../progress.js';
import type { RunResult } from '../result.js';
import { evaluate } from '../thresholds/index.js';
import { formatMs } from '../units.js';
import { UsageError } from '../usage-error.js';
import { retryThrottled, type LoadgenEcs, type ObjectStore, type TaskState } from './aws-api.js';
import { inFolder, RESULT_FILE, runFolder, s3Url, shardFolder, START_FILE, STATUS_FILE, type S3Location, type ShardStatus, type StartSignal } from './aws-layout.js';
import { systemClock, type Clock } from './clock.js';
import { aggregateStatus } from './live.js';
import type { LoadgenPlacement } from './placement.js';
import { summarizeGenerator } from './summary.js';

export interface AwsGeneratorsOptions {
  placement: LoadgenPlacement;
  ecs: LoadgenEcs;
  store: ObjectStore;
  count: number;
  runId: string;
  profile: Profile;
  /** what every shard runs: --profile <path in the harness artifact> --target <url> (the launcher adds shard, run id, start and results) */
  harnessArgs: string[];
  spot: boolean;
  progress: Progress;
  /** aborts the run (Ctrl-C): every task is stopped */
  signal?: AbortSignal;
  clock?: Clock;
  /** how often tasks and their status are read (default 5 s) */
  pollMs?: number;
  /** from the moment every task is ready to the start (default 15 s: each task reads the start object every second or two) */
  startMarginMs?: number;
  /** how long the tasks may take to be placed, pull the image and do their setup (default 15 min) */
  readyTimeoutMs?: number;
  /** how long past the profile's end plus drain a task may run before the watchdog stops it (default 5 min) */
  overrunMs?: number;
  /**
   * the target's scaling probe (an inventory's Auto Scaling groups): the launcher watches the
   * fleet with the user's credentials, the tasks' role cannot; none for a plain URL
   */
  probe?: ScalingProbe | undefined;
}

interface Generator {
  index: number;
  shard: string;
  folder: S3Location;
  arn: string | undefined;
  task: TaskState | undefined;
  status: ShardStatus | undefined;
  /** why the launcher gave up on it (RunTask refused it, it was never ready, the watchdog stopped it) */
  failure: string | undefined;
}

/** Where a generator task's harness runs in the container (the bootstrap unpacks the artifact there). */
export const TASK_RESULTS_DIR = '/tmp/saleday-results';

export async function runAwsGenerators(opts: AwsGeneratorsOptions): Promise<RunResult> {
  const fleet: { watch: FleetWatch | undefined } = { watch: undefined };
  try {
    return await launchAndWatch(opts, fleet);
  } finally {
    // A run that failed or was interrupted leaves no probe sleeping.
    fleet.watch?.cancel();
  }
}

async function launchAndWatch(opts: AwsGeneratorsOptions, fleet: { watch: FleetWatch | undefined }): Promise<RunResult> {
  const { placement, ecs, store, count, runId, progress } = opts;
  const clock = opts.clock ?? systemClock;
  const pollMs = opts.pollMs ?? 5000;
  const startFile = inFolder(runFolder(placement.results, runId), START_FILE);
  const gens: Generator[] = Array.from({ length: count }, (_, index) => ({
    index,
    shard: `${index + 1}/${count}`,
    folder: shardFolder(placement.results, runId, index, count),
    arn: undefined,
    task: undefined,
    status: undefined,
    failure: undefined,
  }));
  const stopped = (g: Generator): boolean => !g.arn || g.task?.lastStatus === 'STOPPED' || g.task?.lastStatus === 'MISSING';
  const stop = async (targets: Generator[], reason: string): Promise<void> => {
    await Promise.all(
      targets.filter((g) => !stopped(g)).map((g) =>
        ecs.stopTask(placement.cluster, g.arn!, reason).catch((e: unknown) => progress.line(`generator ${g.shard}: StopTask ${taskId(g.arn!)} failed: ${(e as Error).message}`)),
      ),
    );
  };
  const interrupted = async (): Promise<never> => {
    progress.clear();
    progress.line(`interrupted: stopping ${gens.filter((g) => !stopped(g)).length} generator tasks`);
    await stop(gens, `saleday run ${runId} interrupted (Ctrl-C)`);
    throw new UsageError(`interrupted: the ${count} generator tasks of run ${runId} were stopped; no result was written`);
  };

  // Launch: one task per shard, each told its share, the start object and its results folder.
  progress.line(`launching ${count} generator task${count > 1 ? 's' : ''} on ${opts.spot ? 'Fargate Spot' : 'Fargate'} in ${placement.cluster} (${placement.region}), run ${runId}`);
  for (const g of gens) {
    if (opts.signal?.aborted) return interrupted();
    const args = [...opts.harnessArgs, '--shard', g.shard, '--run-id', runId, '--start-at', s3Url(startFile), '--results-s3', s3Url(g.folder), '--out', TASK_RESULTS_DIR];
    try {
      const out = await ecs.runTask({
        cluster: placement.cluster,
        taskDefinition: placement.taskDefinitionArn,
        spot: opts.spot,
        subnets: placement.subnets,
        securityGroups: placement.securityGroups,
        container: placement.container,
        environment: { ARTIFACT_BUCKET: placement.artifact.bucket, ARTIFACT_KEY: placement.artifact.key, ARTIFACT_SHA256: placement.artifact.sha256, HARNESS_ARGS: JSON.stringify(args), RESULTS_KEY_PREFIX: g.folder.key },
        startedBy: `saleday-${runId}`,
      });
      if ('arn' in out) g.arn = out.arn;
      else {
        g.failure = `ECS did not start its task: ${out.failure}`;
        progress.line(`generator ${g.shard}: ${g.failure}`);
      }
    } catch (e) {
      await stop(gens, `saleday run ${runId}: launching failed`);
      throw new UsageError(`RunTask for generator ${g.shard} failed: ${(e as Error).message}; the tasks already started were stopped`);
    }
  }

  const profileEndMs = opts.profile.durationMs + opts.profile.drainMs;
  const readyBy = clock.now() + (opts.readyTimeoutMs ?? 15 * 60_000);
  let startAt: number | undefined;
  let deadline = Infinity;
  for (;;) {
    if (opts.signal?.aborted) return interrupted();
    const live = gens.filter((g) => !stopped(g));
    if (!live.length) break;
    let states: TaskState[];
    try {
      states = await ecs.describeTasks(placement.cluster, live.map((g) => g.arn!), placement.container);
    } catch (e) {
      if (opts.signal?.aborted) return interrupted();
      await stop(gens, `saleday run ${runId}: the launcher could not watch its tasks`);
      throw new UsageError(`DescribeTasks failed: ${(e as Error).message}; every generator task was stopped`);
    }
    for (const s of states) {
      const g = gens.find((x) => x.arn === s.arn);
      if (!g) continue;
      if (g.task?.lastStatus !== s.lastStatus) progress.line(`generator ${g.shard} (task ${taskId(s.arn)}): ${s.lastStatus}${s.lastStatus === 'STOPPED' ? ` — ${stopDescription(s)}` : ''}`);
      g.task = s;
    }
    await Promise.all(gens.filter((g) => g.task?.lastStatus === 'RUNNING').map(async (g) => (g.status = (await readJson<ShardStatus>(store, inFolder(g.folder, STATUS_FILE))) ?? g.status)));

    const alive = gens.filter((g) => !stopped(g));
    if (startAt === undefined) {
      const ready = alive.filter((g) => g.task?.lastStatus === 'RUNNING' && (g.status?.state === 'ready' || g.status?.state === 'running'));
      if (alive.length && ready.length === alive.length) {
        startAt = clock.now() + (opts.startMarginMs ?? 15_000);
        deadline = startAt + profileEndMs + (opts.overrunMs ?? 5 * 60_000);
        const at = new Date(startAt).toISOString();
        await retryThrottled(() => store.put(startFile, `${JSON.stringify({ at } satisfies StartSignal)}\n`), clock);
        progress.line(`${alive.length} generator${alive.length > 1 ? 's' : ''} ready (run ${runId}): the schedule starts at ${at}`);
        // The fleet is watched from here, from the schedule's time 0 on.
        if (opts.probe) fleet.watch = new FleetWatch({ probe: opts.probe, startMs: startAt, progress, clock });
      } else if (alive.length && clock.now() > readyBy) {
        const late = alive.filter((g) => !ready.includes(g));
        for (const g of late) g.failure = `not ready within ${formatMs(opts.readyTimeoutMs ?? 15 * 60_000)} (task ${g.task?.lastStatus ?? 'unknown'}, harness ${g.status?.state ?? 'silent'}); it was stopped`;
        await stop(late, `saleday run ${runId}: not ready in time`);
      } else {
        const counts = new Map<string, number>();
        for (const g of alive) {
          const what = g.task?.lastStatus === 'RUNNING' ? (g.status?.state === 'ready' ? 'ready' : 'setting up') : (g.task?.lastStatus ?? 'launched');
          counts.set(what, (counts.get(what) ?? 0) + 1);
        }
        progress.status(`waiting for ${alive.length} generator tasks: ${[...counts].map(([k, n]) => `${n} ${k}`).join(', ')}`);
      }
    } else {
      const s = aggregateStatus(gens.map((g) => g.status?.status), alive.length);
      if (s) progress.update({ ...s, fleet: fleet.watch?.last ?? s.fleet });
      if (clock.now() > deadline) {
        for (const g of alive) g.failure = `still running ${formatMs(opts.overrunMs ?? 5 * 60_000)} after the profile's end plus drain; the watchdog stopped it`;
        await stop(alive, `saleday run ${runId}: ran past the profile's end`);
      }
    }
    await clock.sleep(pollMs, opts.signal);
  }
  progress.clear();

  // Every task has stopped: what each one left.
  const results = new Map<Generator, RunResult>();
  for (const g of gens) {
    if (!g.arn) continue;
    g.status = (await readJson<ShardStatus>(store, inFolder(g.folder, STATUS_FILE))) ?? g.status;
    const r = await readJson<RunResult>(store, inFolder(g.folder, RESULT_FILE));
    if (r) results.set(g, r);
  }
  const failureOf = (g: Generator): string | undefined => {
    if (g.failure) return g.failure;
    const t = g.task;
    const harness = g.status?.error?.message;
    // 99 is the harness's "a threshold failed": the shard ran; the merged result judges it.
    if (t?.exitCode !== undefined && t.exitCode !== 0 && t.exitCode !== 99) return `${harness ? `${harness}; ` : ''}${stopDescription(t)}`;
    if (t?.exitCode === undefined) return `${harness ? `${harness}; ` : ''}${t ? stopDescription(t) : 'ECS lost the task'}`;
    if (!results.has(g)) return `${harness ?? stopDescription(t)}; it left no ${s3Url(inFolder(g.folder, RESULT_FILE))}`;
    return undefined;
  };
  if (!results.size) {
    const usage = gens.find((g) => g.status?.error?.usage)?.status?.error;
    if (usage) throw new UsageError(usage.message);
    throw new UsageError(`every generator failed: ${gens.map((g) => `${g.shard}: ${failureOf(g) ?? 'no result'}`).join('; ')}`);
  }
  const merged = mergeResults([...results.values()], { partial: true });
  if (fleet.watch && startAt !== undefined) {
    // After the tasks, the scale-in: as a single-process run, the fleet has the scaleIn thresholds'
    // `within` after the last phase to return to its minimum (Ctrl-C ends the wait, not the result).
    const wait = merged.aborted ? undefined : scaleInWait(opts.profile, startAt);
    const cancel = (): void => fleet.watch?.cancel();
    opts.signal?.addEventListener('abort', cancel, { once: true });
    try {
      await fleet.watch.stop(wait);
    } finally {
      opts.signal?.removeEventListener('abort', cancel);
    }
    progress.clear();
    const endedAt = new Date(Math.max(clock.now(), Date.parse(merged.endedAt)));
    merged.fleet = await fleet.watch.report(new Date(startAt), endedAt);
    merged.startedAt = new Date(startAt).toISOString();
    merged.endedAt = endedAt.toISOString();
  }
  merged.generators = gens.map((g) => summarizeGenerator(g.shard, where(g), results.get(g), failureOf(g)));
  merged.verdicts = evaluate(merged);
  merged.passed = merged.verdicts.every((v) => v.ok);
  return merged;
}

async function readJson<T>(store: ObjectStore, loc: S3Location): Promise<T | undefined> {
  try {
    const text = await store.get(loc);
    return text === undefined ? undefined : (JSON.parse(text) as T);
  } catch {
    // A status being rewritten or S3 slow for a moment: the next poll reads it again.
    return undefined;
  }
}

function taskId(arn: string): string {
  return arn.split('/').at(-1) ?? arn;
}

function where(g: Generator): string {
  if (!g.arn) return 'no task';
  const t = g.task;
  return `task ${taskId(g.arn)}${t?.capacityProvider ? ` on ${t.capacityProvider}` : ''}${t?.availabilityZone ? ` in ${t.availabilityZone}` : ''}`;
}

function stopDescription(t: TaskState): string {
  const parts = [
    t.exitCode !== undefined ? `exit code ${t.exitCode}` : 'the harness never exited',
    t.stoppedReason ? `stopped: ${t.stoppedReason}` : undefined,
    t.containerReason ? `container: ${t.containerReason}` : undefined,
  ].filter(Boolean);
  return parts.join(', ');
}
