// Generators on AWS (issue 17), scripted: what the emulator cannot do — tasks whose states change
// over time, a task that fails, Ctrl-C, throttling, a task that overruns — with ECS and S3 answered
// by aws-sdk-client-mock and real shard results (two shards of one profile run here against a
// small HTTP server). The launch against the emulator is generators-aws-moto.test.ts.
import { DescribeTasksCommand, ECSClient, RunTaskCommand } from '@aws-sdk/client-ecs';
import { S3Client } from '@aws-sdk/client-s3';
import t from 'tap';
import { ecsApi, objectStore } from '../../loadtest/lib/generators/aws-api.js';
import { START_FILE } from '../../loadtest/lib/generators/aws-layout.js';
import { overridePlacement } from '../../loadtest/lib/generators/aws-command.js';
import { ShardReporter } from '../../loadtest/lib/generators/aws-task.js';
import { runAwsGenerators, type AwsGeneratorsOptions } from '../../loadtest/lib/generators/aws.js';
import type { Clock } from '../../loadtest/lib/generators/clock.js';
import { parsePlacementOverride, type PlacementOverride } from '../../loadtest/lib/generators/placement.js';
import type { FleetSize, ScalingActivity, ScalingProbe, TargetMetrics } from '../../loadtest/lib/probes/probe.js';
import { parseProfile } from '../../loadtest/lib/profile/load.js';
import { Progress, type Status } from '../../loadtest/lib/progress.js';
import { decode } from '../../loadtest/lib/recorder.js';
import type { RunResult } from '../../loadtest/lib/result.js';
import { UsageError } from '../../loadtest/lib/usage-error.js';
import { healthyScript, PLACEMENT, ScriptedFleet, virtualClock, type Step } from './aws-fleet.js';
import { json, runInProcess, startServer } from './helpers.js';

const PROFILE = `name: aws-shards\nseed: 5\nmaxInFlight: 8\ndrain: 2s\nphases:\n  - { name: flat, duration: 2s, rate: 40 }\njourneys:\n  - name: one\n    weight: 100\n    steps:\n      - name: get\n        request: GET /thing\nthresholds:\n  - { metric: errorRate, max: 1% }\n`;
const RUN = 'awsrun1';

const STATUS: Status = { phase: 'flat', phaseIndex: 0, phases: 1, elapsedS: 1, totalS: 1, scheduledRate: 15, achievedRate: 15, requestsRate: 15, p99Ms: 2, errors: 0, requests: 15, inFlight: 1, queued: 0, dropped: 0, fleet: undefined };

class Lines extends Progress {
  readonly lines: string[] = [];
  readonly updates: Status[] = [];
  constructor() {
    super(process.stderr, true);
  }
  override line(text: string): void {
    this.lines.push(text);
  }
  override update(s: Status): void {
    this.updates.push(s);
  }
}

const shards: RunResult[] = [];
t.before(async () => {
  const { url } = await startServer(t, (_req, res) => json(res, 200, { ok: true }));
  // One after the other: two schedules in one process would slow each other down.
  for (const index of [0, 1]) shards.push(await runInProcess(PROFILE, url, { shard: { index, count: 2 }, runId: RUN }));
});

function launch(fleet: ScriptedFleet, extra: Partial<AwsGeneratorsOptions> = {}, clock = virtualClock()): { run: Promise<RunResult>; progress: Lines; clock: ReturnType<typeof virtualClock> } {
  const progress = new Lines();
  const run = runAwsGenerators({
    placement: PLACEMENT,
    ecs: ecsApi(new ECSClient({ region: 'eu-west-1' }), clock),
    store: objectStore(new S3Client({ region: 'eu-west-1' }), clock),
    count: 2,
    runId: RUN,
    profile: parseProfile(PROFILE, 'loadtest/profiles/aws-shards.yaml'),
    harnessArgs: ['--profile', 'loadtest/profiles/aws-shards.yaml', '--target', 'https://shop.example.com'],
    spot: false,
    progress,
    clock,
    pollMs: 5000,
    ...extra,
  });
  return { run, progress, clock };
}

t.test('tasks go PROVISIONING → PENDING → RUNNING → STOPPED: one start once both are ready, one merged result', async (t) => {
  const fleet = new ScriptedFleet([healthyScript(), healthyScript()], shards, STATUS, RUN);
  t.teardown(() => fleet.restore());
  let startSeenAt: number | undefined;
  fleet.onDescribe = (call) => {
    if (startSeenAt === undefined && [...fleet.objects.keys()].some((k) => k.endsWith(START_FILE))) startSeenAt = call;
  };
  const { run, progress } = launch(fleet);
  const r = await run;

  const runs = fleet.ecs.commandCalls(RunTaskCommand).map((c) => c.args[0].input);
  t.equal(runs.length, 2, 'one task per shard');
  t.match(runs[0], {
    cluster: PLACEMENT.cluster,
    taskDefinition: PLACEMENT.taskDefinitionArn,
    launchType: 'FARGATE',
    networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-a', 'subnet-b'], securityGroups: ['sg-loadgen'], assignPublicIp: 'DISABLED' } },
  });
  t.notOk(runs[0]!.capacityProviderStrategy, 'on-demand: no Spot capacity provider');
  const env = Object.fromEntries(runs[1]!.overrides!.containerOverrides![0]!.environment!.map((e) => [e.name, e.value]));
  t.equal(runs[1]!.overrides!.containerOverrides![0]!.name, 'generator');
  t.match(env, { ARTIFACT_BUCKET: 'saleday-artifacts', ARTIFACT_KEY: 'artifacts/loadgen/abc.tgz', ARTIFACT_SHA256: 'abc', RESULTS_KEY_PREFIX: `loadgen-results/${RUN}/2-of-2/` }, 'the bootstrap is told where this shard\'s results go');
  t.same(JSON.parse(env.HARNESS_ARGS ?? '[]'), [
    '--profile', 'loadtest/profiles/aws-shards.yaml', '--target', 'https://shop.example.com',
    '--shard', '2/2', '--run-id', RUN,
    '--start-at', `s3://saleday-artifacts/loadgen-results/${RUN}/start-at.json`,
    '--results-s3', `s3://saleday-artifacts/loadgen-results/${RUN}/2-of-2/`,
    '--out', '/tmp/saleday-results',
  ]);

  // Calls 0-2: provisioning, pending, setting up; call 3: both ready → the start is written after it.
  t.equal(startSeenAt, 4, 'the start was written once both tasks were RUNNING and ready, not before');
  const start = JSON.parse(fleet.objects.get(`loadgen-results/${RUN}/start-at.json`)!) as { at: string };
  t.match(progress.lines.join('\n'), new RegExp(`2 generators ready \\(run ${RUN}\\): the schedule starts at ${start.at.replace(/[.]/g, '\\.')}`));
  for (const s of ['PROVISIONING', 'PENDING', 'RUNNING', 'STOPPED']) t.match(progress.lines.join('\n'), new RegExp(`generator 1/2 \\(task task1\\): ${s}`));
  t.ok(progress.updates.some((u) => u.generators?.count === 2 && u.requests === 2 * STATUS.requests), 'the live line sums both tasks\' status');

  const requests = (x: RunResult): number => Object.values(x.recording.endpoints).reduce((a, e) => a + e.requests, 0);
  t.equal(requests(r), requests(shards[0]!) + requests(shards[1]!), 'merged requests = the sum of the shards\'');
  t.equal(decode(r.recording.latency).totalCount, requests(r));
  t.same(r.generators!.map((g) => [g.shard, g.state, g.where]), [['1/2', 'ok', 'task task1 on FARGATE in eu-west-1a'], ['2/2', 'ok', 'task task2 on FARGATE in eu-west-1b']]);
  t.equal(r.passed, true, JSON.stringify(r.verdicts));
  t.same(fleet.stopped, [], 'tasks that end by themselves are not stopped');
  t.match(r.fleet, { probe: null, samples: [], activities: [] }, 'a plain URL target: no fleet watched, as before');
});

t.test('--spot asks for Fargate Spot capacity, not the launch type', async (t) => {
  const fleet = new ScriptedFleet([healthyScript(), healthyScript()], shards, STATUS, RUN);
  t.teardown(() => fleet.restore());
  await launch(fleet, { spot: true }).run;
  const input = fleet.ecs.commandCalls(RunTaskCommand)[0]!.args[0].input;
  t.same(input.capacityProviderStrategy, [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }]);
  t.notOk(input.launchType);
});

t.test('a task that exits 1 is named in the verdict, and the run cannot pass', async (t) => {
  const failing: Step[] = [
    { lastStatus: 'PROVISIONING' },
    { lastStatus: 'PENDING' },
    { lastStatus: 'RUNNING', harness: 'setup' },
    { lastStatus: 'RUNNING', harness: 'ready' },
    { lastStatus: 'RUNNING', harness: 'running' },
    { lastStatus: 'STOPPED', exitCode: 1, stoppedReason: 'Essential container in task exited', harness: 'failed', error: 'connect ECONNREFUSED shop' },
  ];
  const fleet = new ScriptedFleet([healthyScript(), failing], shards, STATUS, RUN);
  t.teardown(() => fleet.restore());
  const r = await launch(fleet).run;
  t.equal(r.passed, false);
  const g = r.generators!.find((x) => x.shard === '2/2')!;
  t.equal(g.state, 'failed');
  const verdict = r.verdicts.find((v) => v.path === 'generators')!;
  t.equal(verdict.ok, false);
  t.match(verdict.measured, /generator 2\/2 \(task task2 on FARGATE in eu-west-1b\) failed: connect ECONNREFUSED shop; exit code 1, stopped: Essential container in task exited/);
  t.equal(r.generators!.find((x) => x.shard === '1/2')!.state, 'ok', 'the other generator\'s share is still counted');
  t.equal(r.processes.length, 1, 'the merged result holds the shard that finished');
});

t.test('exit code 99 (a threshold failed in the shard) is not a failed generator', async (t) => {
  const script = healthyScript();
  script[script.length - 1] = { lastStatus: 'STOPPED', exitCode: 99, stoppedReason: 'Essential container in task exited' };
  const fleet = new ScriptedFleet([healthyScript(), script], shards, STATUS, RUN);
  t.teardown(() => fleet.restore());
  const r = await launch(fleet).run;
  t.same(r.generators!.map((g) => g.state), ['ok', 'ok']);
});

t.test('Ctrl-C stops every task and the run ends as interrupted', async (t) => {
  const fleet = new ScriptedFleet([healthyScript(), healthyScript()], shards, STATUS, RUN);
  t.teardown(() => fleet.restore());
  const controller = new AbortController();
  fleet.onDescribe = (call) => {
    if (call === 4) controller.abort();
  };
  const { run, progress } = launch(fleet, { signal: controller.signal });
  await t.rejects(run, new UsageError(`interrupted: the 2 generator tasks of run ${RUN} were stopped; no result was written`));
  t.same(fleet.stopped.map((s) => s.task.split('/').at(-1)).sort(), ['task1', 'task2'], 'StopTask for every task');
  t.match(fleet.stopped[0]!.reason, /interrupted \(Ctrl-C\)/);
  t.match(progress.lines.join('\n'), /interrupted: stopping 2 generator tasks/);
});

t.test('throttled DescribeTasks calls are retried with backoff', async (t) => {
  const fleet = new ScriptedFleet([healthyScript(), healthyScript()], shards, STATUS, RUN);
  t.teardown(() => fleet.restore());
  let throttled = 0;
  fleet.onDescribe = (call) => {
    if (call === 2 && throttled < 3) {
      throttled++;
      fleet.describeCalls--;
      throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $retryable: { throttling: true } });
    }
  };
  const { run, clock } = launch(fleet);
  const r = await run;
  t.equal(throttled, 3);
  t.equal(r.passed, true);
  t.equal(fleet.ecs.commandCalls(DescribeTasksCommand).length, fleet.describeCalls + 3, 'each throttled call was made again');
  t.match(clock.slept.slice(0, 8), [5000, 5000, 1000, 2000, 4000], 'backoff doubles between throttled attempts');
});

t.test('a task still running past the profile\'s end plus drain is stopped by the watchdog and named', async (t) => {
  const stuck: Step[] = [...healthyScript().slice(0, 4), { lastStatus: 'RUNNING', harness: 'running' }];
  const fleet = new ScriptedFleet([healthyScript(), stuck], shards, STATUS, RUN);
  t.teardown(() => fleet.restore());
  const r = await launch(fleet, { overrunMs: 60_000 }).run;
  t.same(fleet.stopped.map((s) => s.task.split('/').at(-1)), ['task2']);
  t.match(fleet.stopped[0]!.reason, /ran past the profile's end/);
  t.match(r.verdicts.find((v) => v.path === 'generators')!.measured, /generator 2\/2 .* failed: still running 60.0 s after the profile's end plus drain; the watchdog stopped it/);
  t.equal(r.passed, false);
});

t.test('a task ECS never places is stopped at the ready timeout; the others start without it', async (t) => {
  const never: Step[] = [{ lastStatus: 'PROVISIONING' }];
  const fleet = new ScriptedFleet([healthyScript(), never], shards, STATUS, RUN);
  t.teardown(() => fleet.restore());
  const r = await launch(fleet, { readyTimeoutMs: 12_000 }).run;
  t.same(fleet.stopped.map((s) => s.task.split('/').at(-1)), ['task2']);
  t.match(r.generators!.find((g) => g.shard === '2/2'), { state: 'failed', error: /not ready within 12.0 s \(task PROVISIONING, harness silent\)/ });
});

t.test('the task side: status.json says ready, then the shard waits for the start object', async (t) => {
  const fleet = new ScriptedFleet([], [], STATUS, RUN);
  t.teardown(() => fleet.restore());
  const clock = virtualClock();
  const reporter = new ShardReporter({ store: objectStore(new S3Client({ region: 'eu-west-1' }), clock), folder: { bucket: 'b', key: `loadgen-results/${RUN}/1-of-2/` }, clock });
  await reporter.begin();
  t.match(JSON.parse(fleet.objects.get(`loadgen-results/${RUN}/1-of-2/status.json`)!), { state: 'setup' });
  let polls = 0;
  const sleep = clock.sleep.bind(clock);
  clock.sleep = async (ms) => {
    if (++polls === 3) fleet.objects.set(`loadgen-results/${RUN}/start-at.json`, JSON.stringify({ at: '2026-12-01T10:01:00.000Z' }));
    return sleep(ms);
  };
  const at = await reporter.ready({ bucket: 'b', key: `loadgen-results/${RUN}/start-at.json` });
  t.equal(at.toISOString(), '2026-12-01T10:01:00.000Z');
  t.equal(polls, 3, 'it looked until the start was there');
  t.match(JSON.parse(fleet.objects.get(`loadgen-results/${RUN}/1-of-2/status.json`)!), { state: 'ready' });
  await reporter.finish(shards[0]!);
  t.match(JSON.parse(fleet.objects.get(`loadgen-results/${RUN}/1-of-2/result.json`)!), { runId: RUN });
  t.match(JSON.parse(fleet.objects.get(`loadgen-results/${RUN}/1-of-2/status.json`)!), { state: 'done' });
});

// The launcher watches the fleet (the tasks' role cannot): a probe whose sizes follow a script over
// the virtual clock's time since the written start, so the verdicts do not depend on how often
// the launcher happened to sample.
const SCALING = `${PROFILE}  - { metric: scaleOut, service: catalog, reaches: 3, within: 30s, phase: flat }\n  - { metric: scaleIn, service: catalog, within: 2m }\n`;
const ACTIVITY: ScalingActivity = { time: '2026-12-01T10:00:40.000Z', service: 'catalog', from: 1, to: 3, cause: 'target tracking: CPU above 50%' };

class ScriptedProbe implements ScalingProbe {
  readonly kind = 'aws' as const;
  readonly intervalMs = 2000;
  readonly windows: Array<[Date, Date]> = [];
  /** called with each sample's seconds since the start */
  onSample: (s: number) => void = () => undefined;
  constructor(
    private readonly fleet: ScriptedFleet,
    private readonly clock: Clock,
    /** in-service catalog instances s seconds after the start (before it: the minimum) */
    private readonly inService: (s: number) => number,
    private readonly fails?: string,
  ) {}
  describe(): string {
    return 'scripted Auto Scaling groups';
  }
  sample(): Promise<Record<string, FleetSize>> {
    if (this.fails) return Promise.reject(new Error(this.fails));
    const start = this.fleet.objects.get(`loadgen-results/${RUN}/start-at.json`);
    const s = start ? (this.clock.now() - Date.parse((JSON.parse(start) as { at: string }).at)) / 1000 : -1;
    this.onSample(s);
    const n = s < 0 ? 1 : this.inService(s);
    return Promise.resolve({ catalog: { inService: n, desired: n, min: 1, max: 4 } });
  }
  activities(since: Date, until: Date): Promise<ScalingActivity[]> {
    this.windows.push([since, until]);
    return Promise.resolve([ACTIVITY]);
  }
  metrics(): Promise<TargetMetrics | undefined> {
    return Promise.resolve(undefined);
  }
}

/** Tasks that run a while (the fleet has time to grow while they do). */
function longScript(): Step[] {
  const s = healthyScript();
  return [...s.slice(0, 5), ...Array.from({ length: 8 }, (): Step => ({ lastStatus: 'RUNNING', harness: 'running' })), ...s.slice(5)];
}

function watched(inService: (s: number) => number, fails?: string, extra: Partial<AwsGeneratorsOptions> = {}): { fleet: ScriptedFleet; probe: ScriptedProbe; launched: ReturnType<typeof launch> } {
  const fleet = new ScriptedFleet([longScript(), longScript()], shards.map((r) => ({ ...r, profile: { ...r.profile, thresholds: parseProfile(SCALING, 'x.yaml').thresholds } })), STATUS, RUN);
  const clock = virtualClock();
  const probe = new ScriptedProbe(fleet, clock, inService, fails);
  const launched = launch(fleet, { profile: parseProfile(SCALING, 'loadtest/profiles/aws-shards.yaml'), probe, ...extra }, clock);
  return { fleet, probe, launched };
}

t.test('the launcher samples the fleet from the start until the tasks stop, then until scale-in', async (t) => {
  // catalog (minimum 1): 2 from the start (the profile lasts 2 s: already above its minimum after it), 3 from 20 s, back to 1 from 90 s
  const { fleet, probe, launched } = watched((s) => (s >= 90 ? 1 : s >= 20 ? 3 : 2));
  t.teardown(() => fleet.restore());
  const r = await launched.run;
  const start = Date.parse((JSON.parse(fleet.objects.get(`loadgen-results/${RUN}/start-at.json`)!) as { at: string }).at);
  t.equal(r.fleet.probe, 'scripted Auto Scaling groups');
  t.ok(r.fleet.samples.length >= 10, `sampled while the tasks ran (${r.fleet.samples.length} samples)`);
  t.ok(r.fleet.samples[0]!.t >= 0, 'from the schedule\'s time 0');
  const sizes = r.fleet.samples.map((s) => s.services.catalog!.inService);
  t.same(sizes.filter((n, i) => n !== sizes[i - 1]), [2, 3, 1], 'the growth and the return');
  const last = r.fleet.samples.at(-1)!;
  t.ok(last.t >= 90 && last.t < 90 + 2 * probe.intervalMs / 1000, `the scale-in wait ended when the fleet was back at its minimum (last sample at ${last.t} s), not at its 2 min`);
  t.equal(r.fleet.samples.filter((s) => s.t >= 90).length, 1, 'no sample after the fleet was back');
  t.same(r.fleet.activities, [ACTIVITY]);
  t.equal(probe.windows.length, 1);
  t.equal(probe.windows[0]![0].getTime(), start, 'activities from the start…');
  t.ok(probe.windows[0]![1].getTime() >= start + last.t * 1000, '…to the end of the watch');
  t.same(r.fleet.errors, []);
  t.match(r.verdicts.find((v) => v.kind === 'scaleOut'), { ok: true, measured: /catalog had 3 in service 2\d s after flat began/ });
  t.match(r.verdicts.find((v) => v.kind === 'scaleIn'), { ok: true, measured: /catalog back to 1 \(its minimum\) 8\d s after the last phase/ });
  t.equal(r.passed, true, JSON.stringify(r.verdicts));
  t.ok(launched.progress.updates.some((u) => u.fleet?.catalog && u.generators?.count === 2), 'the live line shows the fleet');
});

t.test('a fleet that never grows fails the scale-out threshold', async (t) => {
  const { fleet, launched } = watched(() => 1);
  t.teardown(() => fleet.restore());
  const r = await launched.run;
  t.match(r.verdicts.find((v) => v.kind === 'scaleOut'), { ok: false, measured: 'catalog peaked at 1 in service within 30.0 s of flat (needed 3)' });
  t.match(r.verdicts.find((v) => v.kind === 'scaleIn'), { ok: true });
  t.equal(r.passed, false);
});

t.test('Ctrl-C during the scale-in wait ends the wait, not the run: the result is kept', async (t) => {
  const controller = new AbortController();
  const { fleet, probe, launched } = watched((s) => (s >= 20 ? 3 : 2), undefined, { signal: controller.signal });
  t.teardown(() => fleet.restore());
  probe.onSample = (s) => {
    if (s >= 100) controller.abort();
  };
  const r = await launched.run;
  t.same(fleet.stopped, [], 'the tasks had already stopped by themselves');
  const last = r.fleet.samples.at(-1)!;
  t.ok(last.t >= 100 && last.t < 110, `no sample after Ctrl-C (last at ${last.t} s; the wait would run to 122 s)`);
  t.match(r.verdicts.find((v) => v.kind === 'scaleIn'), { ok: false, measured: /catalog still had 3 in service \(minimum 1\)/ });
  t.same(r.fleet.activities, [ACTIVITY], 'the activities are still read');
});

t.test('a probe that fails only adds an error: the run still ends with its result', async (t) => {
  const msg = 'DescribeAutoScalingGroups: AWS refused it (AccessDenied); the harness\'s credentials need autoscaling:Describe* and cloudwatch:GetMetricData';
  const { fleet, launched } = watched(() => 1, msg);
  t.teardown(() => fleet.restore());
  const r = await launched.run;
  t.same(r.fleet.errors, [msg]);
  t.same(r.fleet.samples, []);
  t.equal(launched.progress.lines.filter((l) => l.startsWith('scaling probe:')).length, 1, 'one line for the repeated error');
  t.same(r.generators!.map((g) => g.state), ['ok', 'ok']);
  t.match(r.verdicts.find((v) => v.kind === 'scaleOut'), { ok: false, measured: /the probe saw no service named catalog/ });
});

t.test('--region and --subnets: checked, and the given subnets replace the stack\'s in RunTask', async (t) => {
  t.same(parsePlacementOverride(undefined, undefined), {}, 'no flags: the inventory\'s and the stack\'s placement');
  t.same(parsePlacementOverride('us-gov-west-1', ' subnet-0a1b2c3d, subnet-0123456789abcdef0,subnet-0a1b2c3d'), { region: 'us-gov-west-1', subnets: ['subnet-0a1b2c3d', 'subnet-0123456789abcdef0'] });
  t.equal(parsePlacementOverride('eu-west', undefined), '--region eu-west is not an AWS region (e.g. --region eu-west-1)');
  t.match(parsePlacementOverride(undefined, 'subnet-0a1b2c3'), /"subnet-0a1b2c3" is not a subnet id/, 'too short');
  t.match(parsePlacementOverride(undefined, 'subnet-0a1b2c3d,'), /"" is not a subnet id/, 'an empty id');
  const override = parsePlacementOverride('eu-central-1', 'subnet-0a1b2c3d,subnet-4e5f6a7b') as PlacementOverride;
  t.same(overridePlacement(PLACEMENT, {}), PLACEMENT);
  const fleet = new ScriptedFleet([healthyScript(), healthyScript()], shards, STATUS, RUN);
  t.teardown(() => fleet.restore());
  await launch(fleet, { placement: overridePlacement(PLACEMENT, override) }).run;
  for (const call of fleet.ecs.commandCalls(RunTaskCommand)) {
    t.same(call.args[0].input.networkConfiguration!.awsvpcConfiguration!.subnets, ['subnet-0a1b2c3d', 'subnet-4e5f6a7b']);
    t.same(call.args[0].input.networkConfiguration!.awsvpcConfiguration!.securityGroups, ['sg-loadgen'], 'the stack\'s security group stays');
  }
});
