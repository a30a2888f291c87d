// One run of a profile against a target, top to bottom: open the connections, run the setup
// tasks, read stock for the oversell check, release journeys on schedule while watching the
// fleet and the abortOnFail thresholds, let running journeys finish, wait for scale-in, read
// stock again, and hand back the result with its verdicts.
import { connect } from 'node:net';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { createFeeder, type Feeder } from './feeders/index.js';
import { FleetWatch, scaleInWait } from './fleet-watch.js';
import { JourneyEngine, type JourneySink } from './journeys.js';
import * as oversell from './oversell.js';
import { endpointsOf } from './profile/load.js';
import type { Profile } from './profile/types.js';
import { Progress } from './progress.js';
import { Recorder } from './recorder.js';
import { phaseResults, type ProcessInfo, type RunResult, type SetupResult } from './result.js';
import { Schedule, SINGLE, type Shard } from './schedule.js';
import { Scheduler } from './scheduler.js';
import { SessionStore, type SessionsSpec } from './sessions.js';
import type { Target } from './target.js';
import { checkAbort, evaluate } from './thresholds/index.js';
import { formatMs, formatSeconds } from './units.js';
import { UsageError } from './usage-error.js';
import { Wire } from './wire.js';

export interface RunOptions {
  profile: Profile;
  target: Target;
  shard?: Shard;
  runId?: string;
  /** when the schedule's time 0 is; shards of one run share it (default: as soon as setup is done) */
  startAt?: Date;
  /** called once setup and the stock read are done; resolves to the start agreed with the other generators (overrides startAt) */
  ready?: () => Promise<Date>;
  progress?: Progress;
  /** leave out the setup tasks (a capacity step after the first: the accounts exist) */
  skipSetup?: boolean;
  /** the sessions to use (a capacity search keeps its accounts signed in from step to step) */
  sessions?: SessionStore;
  /**
   * with `sessions`: sign every account of the sessions' feeder in after the setup, before the
   * phases (a capacity search's first step: its verdict is about its rate, not about every
   * account's first sign-in)
   */
  signIn?: boolean;
}

export async function runProfile(opts: RunOptions): Promise<RunResult> {
  const { profile, target } = opts;
  const shard = opts.shard ?? SINGLE;
  const shardLabel = `${shard.index + 1}/${shard.count}`;
  const progress = opts.progress ?? new Progress();
  const runId = opts.runId ?? `${Date.now().toString(36)}`;
  const feeders = new Map<string, Feeder>(Object.entries(profile.feeders).map(([n, s]) => [n, createFeeder(n, s, profile.seed)]));
  const schedule = new Schedule(profile.phases, shard);
  const { perSecond, perPhase } = schedule.counts();
  const processStart = new Date();

  await checkReachable(target.url);
  progress.line(`saleday loadtest: ${profile.name} → ${target.url}${shard.count > 1 ? ` (shard ${shardLabel})` : ''}; ${schedule.total} journeys over ${formatSeconds(profile.durationMs / 1000)}, up to ${profile.maxInFlight} in flight`);
  const wire = new Wire({ url: target.url, connections: profile.maxInFlight, timeoutMs: profile.timeoutMs });
  wire.start();

  const setup: SetupResult[] = [];
  for (const task of opts.skipSetup ? [] : profile.setup) setup.push(await runSetup(profile, task, feeders, wire, runId, shardLabel, progress));
  if (opts.signIn && opts.sessions && profile.sessions) await signInAll(profile, profile.sessions, opts.sessions, feeders, wire, runId, shardLabel, progress);

  const skus = profile.oversell ? oversell.watchedSkus(profile.oversell, profile.feeders) : [];
  const stockWatch = profile.oversell ? await oversell.before(target.url, profile.oversell, skus) : undefined;
  if (stockWatch?.error) progress.line(`oversell check: ${stockWatch.error}`);

  const startAt = opts.ready ? await opts.ready() : opts.startAt;
  if (startAt) {
    const wait = startAt.getTime() - Date.now();
    if (wait > 0) {
      progress.line(`waiting ${formatMs(wait)} for the agreed start at ${startAt.toISOString()}`);
      await delay(wait);
    }
  }
  const t0 = performance.now();
  const startedAt = new Date();
  const phaseEnds = profile.phases.map((p) => p.startMs + p.durationMs);
  const recorder = new Recorder(t0, perSecond, endpointsOf(profile), profile.journeys.map((j) => j.name), phaseEnds);
  // Sessions live for the run: accounts sign in once (or in a login storm) and reuse their tokens.
  const sessions = opts.sessions ?? (profile.sessions ? new SessionStore(profile.sessions, profile.seed, t0) : undefined);
  const engine = new JourneyEngine(profile, feeders, wire, recorder, { runId, shardLabel, ...(sessions ? { sessions } : {}) });
  const scheduler = new Scheduler(schedule, engine, wire, recorder, profile.maxQueued, t0);

  // The fleet, sampled while the run goes on.
  const watch = target.probe ? new FleetWatch({ probe: target.probe, startMs: startedAt.getTime(), progress }) : undefined;

  // The live view and abortOnFail, once a second.
  let aborted: RunResult['aborted'];
  let phaseShown = -1;
  const tick = (): void => {
    const now = performance.now();
    const elapsed = now - t0;
    recorder.tick(now);
    const phaseIndex = schedule.phaseIndexAt(elapsed);
    if (phaseIndex !== phaseShown && elapsed < profile.durationMs) {
      phaseShown = phaseIndex;
      const p = profile.phases[phaseIndex]!;
      progress.line(`phase ${p.name}: ${p.rate === p.rampTo ? `${p.rate}` : `${p.rate} → ${p.rampTo}`} journeys/s for ${formatSeconds(p.durationMs / 1000)}`);
    }
    const last = recorder.lastSecond;
    progress.update({
        phase: elapsed < profile.durationMs ? profile.phases[phaseIndex]!.name : 'drain',
        phaseIndex,
        phases: profile.phases.length,
        elapsedS: elapsed / 1000,
        totalS: profile.durationMs / 1000,
        scheduledRate: schedule.rateAt(elapsed - 1000) / shard.count,
        achievedRate: last?.started ?? 0,
        requestsRate: last?.requests ?? 0,
        p99Ms: recorder.lastP99Ms,
        errors: recorder.errors,
        requests: recorder.requests,
        inFlight: wire.inFlight,
        queued: wire.queued,
        dropped: scheduler.droppedCount,
        fleet: watch?.last,
        latency: last?.latency,
      });
    if (!aborted) {
      const failing = checkAbort(profile.thresholds, recorder, elapsed);
      if (failing) {
        aborted = { atS: elapsed / 1000, reason: `${failing.label} failed: ${failing.measured}` };
        progress.line(`aborting (abortOnFail): ${aborted.reason}`);
        scheduler.stop();
      }
    }
  };
  const ticker = setInterval(tick, 1000);

  await scheduler.run();
  // Journeys already started may finish, within the drain time.
  const drainUntil = performance.now() + profile.drainMs;
  while ((engine.active > 0 || wire.inFlight > 0) && performance.now() < drainUntil && !aborted) await delay(20);
  engine.cancelPauses();
  const cannon = await wire.close();
  const loadEnded = new Date();
  tick();
  clearInterval(ticker);

  // Scale-in: the fleet has `within` seconds after the last phase to return to its minimum.
  await watch?.stop(aborted ? undefined : scaleInWait(profile, startedAt.getTime()));
  progress.clear();

  const oversellResult = profile.oversell && stockWatch ? await oversell.after(target.url, profile.oversell, stockWatch, { sold: recorder.sales, unanswered: recorder.unansweredSales }, shard.count === 1) : undefined;

  const endedAt = new Date();
  const fleet: RunResult['fleet'] = watch ? await watch.report(startedAt, endedAt) : { probe: null, samples: [], activities: [], metrics: undefined, errors: [] };
  const recording = recorder.finish(performance.now());
  const processInfo: ProcessInfo = {
    shard: shardLabel,
    host: hostname(),
    pid: process.pid,
    startedAt: processStart.toISOString(),
    endedAt: loadEnded.toISOString(),
    autocannon: cannon ? { completed: cannon.requests.total } : undefined,
  };
  const result: RunResult = {
    version: 1,
    runId,
    profile: {
      name: profile.name,
      file: profile.file,
      description: profile.description,
      seed: profile.seed,
      maxInFlight: profile.maxInFlight,
      maxQueued: profile.maxQueued,
      durationMs: profile.durationMs,
      phases: profile.phases,
      journeys: profile.journeys.map((j) => ({ name: j.name, weight: j.weight, steps: j.steps.map((s) => ({ name: s.name, endpoint: s.endpoint })) })),
      thresholds: profile.thresholds,
    },
    target: { kind: target.kind, url: target.url, label: target.label },
    processes: [processInfo],
    startedAt: startedAt.toISOString(),
    endedAt: endedAt.toISOString(),
    recording,
    phases: phaseResults(profile.phases, perPhase, recording),
    fleet,
    oversell: oversellResult,
    setup,
    aborted,
    verdicts: [],
    passed: false,
  };
  result.verdicts = evaluate(result);
  result.passed = result.verdicts.every((v) => v.ok);
  return result;
}

/** Fails at once, with what to do, when nothing listens at the target. */
async function checkReachable(url: string): Promise<void> {
  const u = new URL(url);
  const port = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
  await new Promise<void>((resolve, reject) => {
    const socket = connect({ host: u.hostname, port, timeout: 5000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('timeout', () => {
      socket.destroy();
      reject(new UsageError(`nothing answers at ${url} (connection timed out): is the shop up?`));
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      reject(new UsageError(`nothing answers at ${url} (${err.code ?? err.message}): bring the shop up (./playbooks/deploy.mjs) or give --target <url>`));
    });
  });
}

/**
 * Signs every account of the sessions' feeder in with the login journey, at the rate of the setup
 * task that registers them (else 5/s), so the phases start with every session made. An account
 * whose sign-in fails signs in when a step first needs its token, as without this.
 */
async function signInAll(
  profile: Profile,
  spec: SessionsSpec,
  sessions: SessionStore,
  feeders: Map<string, Feeder>,
  wire: Wire,
  runId: string,
  shardLabel: string,
  progress: Progress,
): Promise<void> {
  const rate = profile.setup.find((task) => task.each === spec.feeder)?.rate ?? 5;
  await runSetup(profile, { journey: spec.login, each: spec.feeder, rate }, feeders, wire, runId, shardLabel, progress, sessions);
}

/** Runs a setup task: its journey once per row of a users feeder, at the task's rate. */
async function runSetup(
  profile: Profile,
  task: Profile['setup'][number],
  feeders: Map<string, Feeder>,
  wire: Wire,
  runId: string,
  shardLabel: string,
  progress: Progress,
  sessions?: SessionStore,
): Promise<SetupResult> {
  const feeder = feeders.get(task.each)!;
  const journey = profile.journeys.find((j) => j.name === task.journey)!;
  let done = 0;
  let failed = 0;
  const sink: JourneySink = { request: () => undefined, journeyStarted: () => undefined, journeyDone: () => undefined, sold: () => undefined };
  const engine = new JourneyEngine(profile, feeders, wire, sink, { runId, shardLabel, ...(sessions ? { sessions } : {}) });
  const t0 = performance.now();
  const finished = new Promise<void>((resolve) => {
    if (feeder.size === 0) resolve();
    let next = 0;
    const release = (): void => {
      const due = Math.min(feeder.size, Math.floor(((performance.now() - t0) / 1000) * task.rate) + 1);
      for (; next < due; next++) {
        const { rng } = engine.plan(-1 - next);
        engine.start(-1 - next, t0 + (next / task.rate) * 1000, {
          journey,
          rng,
          rows: { [task.each]: feeder.row(next) },
          onDone: (ok) => {
            done++;
            if (!ok) failed++;
            progress.status(`setup ${task.journey} for each ${task.each}: ${done}/${feeder.size}${failed ? ` (${failed} failed)` : ''}`);
            if (done === feeder.size) resolve();
          },
        });
      }
      if (next < feeder.size) setTimeout(release, Math.max(1, 1000 / task.rate));
    };
    release();
  });
  await finished;
  progress.line(`setup ${task.journey} for each ${task.each}: ${done - failed} ok, ${failed} failed`);
  return { journey: task.journey, each: task.each, runs: done, failed };
}
