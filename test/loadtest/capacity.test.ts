// Capacity search: the plan (defaults, the profile's capacity: section, flags over it), the step
// rates, the stop rule against a fake step runner (stop at the first failing step, the highest
// rate that held, what broke first and the service that was the limit), and one bounded search
// through ./loadtest/run.mjs against a tiny real HTTP server that refuses more than 60 requests
// a second.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import t from 'tap';
import { capacityPlan, findBottleneck, searchCapacity, stepRates, summarizeStep, type CapacityPlan } from '../../loadtest/lib/capacity.js';
import { parseProfile, ProfileError } from '../../loadtest/lib/profile/load.js';
import type { FleetSample } from '../../loadtest/lib/probes/probe.js';
import type { EndpointTotals } from '../../loadtest/lib/recorder.js';
import type { RunResult, Verdict } from '../../loadtest/lib/result.js';
import { json, runCli, startServer, tempDir, writeProfile } from './helpers.js';

const profileText = (extra = '', thresholds = '  - { metric: errorRate, max: 1%, endpoint: GET /api/catalog/ping }') => `
name: capacity
maxInFlight: 32
drain: 5s
phases:
  - { name: calm, duration: 10s, rate: 10 }
  - { name: peak, duration: 10s, rate: 10, rampTo: 60 }
journeys:
  - name: ping
    weight: 100
    steps: [{ request: GET /api/catalog/ping }]
thresholds:
${thresholds}
${extra}
`;

t.test('the plan: defaults from the profile, its capacity: section, flags over it', (t) => {
  const bare = parseProfile(profileText(), 'c.yaml');
  t.same(capacityPlan(bare, {}), { start: 30, factor: 1.5, increment: undefined, holdMs: 60_000, maxRate: Infinity, maxSteps: 12 }, 'half the peak, ×1.5, 60 s, 12 steps');
  const written = parseProfile(profileText('capacity: { start: 20, increment: 10, hold: 90s, maxRate: 100, maxSteps: 5 }'), 'c.yaml');
  t.same(capacityPlan(written, {}), { start: 20, factor: undefined, increment: 10, holdMs: 90_000, maxRate: 100, maxSteps: 5 });
  t.same(capacityPlan(written, { factor: 2, holdMs: 5000 }), { start: 20, factor: 2, increment: undefined, holdMs: 5000, maxRate: 100, maxSteps: 5 }, 'a --factor replaces the profile’s increment');
  try {
    parseProfile(profileText('capacity: { start: 20, increment: 10, factor: 2, maxRate: 10, hold: soon }'), 'c.yaml');
    t.fail('accepted');
  } catch (err) {
    t.ok(err instanceof ProfileError);
    t.match((err as ProfileError).problems, [
      { path: 'capacity', problem: 'has both factor and increment' },
      { path: 'capacity.hold', problem: /"soon" is not a positive duration/ },
      { path: 'capacity.maxRate', problem: 'is 10, below start (20)' },
    ]);
  }
  t.end();
});

t.test('step rates: ×factor or +increment, clamped to maxRate, at most maxSteps', (t) => {
  const plan = (p: Partial<CapacityPlan>): CapacityPlan => ({ start: 10, factor: 1.5, increment: undefined, holdMs: 1000, maxRate: Infinity, maxSteps: 6, ...p });
  t.same(stepRates(plan({})), [10, 15, 22.5, 33.8, 50.7, 76.1]);
  t.same(stepRates(plan({ factor: undefined, increment: 25, maxRate: 70 })), [10, 35, 60, 70]);
  t.same(stepRates(plan({ start: 80, maxRate: 50 })), [50], 'a start above maxRate tries maxRate once');
  t.end();
});

/** A step's result as the runner would hand it back, with what the fake shop did at `rate`. */
function fakeResult(rate: number, opts: { passed: boolean; verdicts?: Verdict[]; endpoints?: Record<string, EndpointTotals>; samples?: FleetSample[] }): RunResult {
  const p = parseProfile(profileText(), 'c.yaml');
  return {
    version: 1,
    runId: 'c',
    profile: { ...p, journeys: [], phases: [{ name: 'step', startMs: 0, durationMs: 2000, rate, rampTo: rate }], durationMs: 2000, thresholds: p.thresholds },
    target: { kind: 'url', url: 'http://127.0.0.1', label: 'x' },
    processes: [],
    startedAt: '2025-01-01T00:00:00.000Z',
    endedAt: '2025-01-01T00:00:02.000Z',
    recording: { seconds: [], endpoints: opts.endpoints ?? {}, journeys: {}, latency: '', serviceTime: '', sales: {}, phases: [] },
    phases: [{ name: 'step', startMs: 0, durationMs: 2000, rate, rampTo: rate, scheduled: rate * 2, started: rate * 2, dropped: 0, scheduledRate: rate, achievedRate: rate }],
    fleet: { probe: opts.samples ? 'fake' : null, samples: opts.samples ?? [], activities: [], metrics: undefined, errors: [] },
    oversell: undefined,
    setup: [],
    aborted: undefined,
    verdicts: opts.verdicts ?? [{ path: 'thresholds[0]', label: 'error rate of GET /api/catalog/ping ≤ 1.00%', kind: 'errorRate', ok: opts.passed, measured: opts.passed ? '0.00%' : '25.00% (50 of 200 requests failed)' }],
    passed: opts.passed,
  };
}

const fleetAt = (catalogCpu: number, ordersCpu: number, catalogN: number): FleetSample[] => [
  { t: 1, services: { catalog: { inService: catalogN, desired: catalogN, min: 1, max: 3, cpu: catalogCpu }, orders: { inService: 1, desired: 1, min: 1, max: 3, cpu: ordersCpu } } },
];

t.test('the search stops at the first failing step and names what broke and the limit', async (t) => {
  const plan: CapacityPlan = { start: 10, factor: 2, increment: undefined, holdMs: 1000, maxRate: Infinity, maxSteps: 10 };
  const tried: number[] = [];
  const outcome = await searchCapacity(plan, (rate) => {
    tried.push(rate);
    // the fake fleet holds up to 50 journeys/s; catalog runs hot and reaches its maximum
    return Promise.resolve({ result: fakeResult(rate, { passed: rate <= 50, samples: fleetAt(rate * 1.9, 20, rate > 20 ? 3 : 1) }) });
  });
  t.same(tried, [10, 20, 40, 80], 'no step after the first failing one');
  t.equal(outcome.highestHeld, 40);
  t.equal(outcome.stoppedBecause, 'a threshold failed');
  t.match(outcome.brokeAt, { rate: 80, failed: [{ label: 'error rate of GET /api/catalog/ping ≤ 1.00%', endpoint: 'GET /api/catalog/ping', measured: /25\.00%/ }], bottleneck: { service: 'catalog', reason: 'CPU 152% of a core per instance, 3 of at most 3 instances in service (at its maximum)' } });
  t.same(outcome.steps.map((s) => [s.rate, s.passed]), [[10, true], [20, true], [40, true], [80, false]]);

  const none = await searchCapacity(plan, (rate) => Promise.resolve({ result: fakeResult(rate, { passed: false }) }));
  t.equal(none.highestHeld, undefined, 'the first step failed: no rate held');
  t.equal(none.steps.length, 1);
  const all = await searchCapacity({ ...plan, maxRate: 30 }, (rate) => Promise.resolve({ result: fakeResult(rate, { passed: true }) }));
  t.match(all, { highestHeld: 30, brokeAt: undefined, stoppedBecause: 'maxRate reached' });
  t.same(all.steps.map((s) => s.rate), [10, 20, 30]);
});

t.test('without CPU figures the limit is the service of the endpoint with the most errors', (t) => {
  const endpoints: Record<string, EndpointTotals> = {
    'GET /api/catalog/ping': { requests: 200, errors: 3, statuses: { '200': 197, '503': 3 }, latency: '', serviceTime: '' },
    'POST /api/orders': { requests: 100, errors: 40, statuses: { '201': 60, '504': 30, timeout: 10 }, latency: '', serviceTime: '' },
  };
  const result = fakeResult(80, { passed: false, endpoints });
  t.same(findBottleneck(result, summarizeStep(3, 80, result)), { service: 'orders', reason: 'the most errors: 40 of 100 requests of POST /api/orders failed (504×30 timeout×10)' });
  const slow = fakeResult(80, { passed: false });
  t.match(findBottleneck(slow, summarizeStep(3, 80, slow)), { service: 'catalog', reason: /its endpoint GET \/api\/catalog\/ping failed/ }, 'else the endpoint the failed threshold names');
  t.end();
});

t.test('./loadtest/run.mjs capacity against a server that holds 60 requests a second', async (t) => {
  const arrivals: number[] = [];
  const { url } = await startServer(t, (_req, res) => {
    const now = Date.now();
    arrivals.push(now);
    while (arrivals.length && arrivals[0]! <= now - 1000) arrivals.shift();
    json(res, arrivals.length > 60 ? 503 : 200, {});
  });
  const out = await tempDir(t);
  const file = await writeProfile(t, profileText());
  const run = await runCli(['capacity', '--profile', file, '--target', url, '--start', '20', '--factor', '2', '--hold', '3s', '--max-steps', '4', '--out', out]);
  t.equal(run.code, 0, run.stderr);
  t.match(run.stderr, /capacity search: capacity → http:\/\/127\.0\.0\.1:\d+; up to 4 steps of 3\.00 s \(20, 40, 80, 160 journeys\/s, …\)/, 'the plan is shown first');
  t.match(run.stderr, /step 1\/4 at 20 journeys\/s: held[\s\S]*step 2\/4 at 40 journeys\/s: held[\s\S]*step 3\/4 at 80 journeys\/s: FAILED/, 'progress: a line per step');
  t.notMatch(run.stderr, /step 4\/4/, 'stopped at the first failing step');
  t.match(run.stdout, /highest rate that held: 40 journeys\/s \(2 of 3 steps held; stopped: a threshold failed\)/);
  t.match(run.stdout, /broke at 80 journeys\/s:\n {4}✗ error rate of GET \/api\/catalog\/ping ≤ 1\.00%: \d+\.\d+% \(\d+ of \d+ requests failed\) {2}\(endpoint GET \/api\/catalog\/ping\) {2}\[thresholds\[0\]\]/);
  t.match(run.stdout, /limit: catalog — the most errors: \d+ of \d+ requests of GET \/api\/catalog\/ping failed \(503×\d+\)/);
  const dir = /^result: (.+)\/capacity\.json$/m.exec(run.stdout)![1]!;
  const report = JSON.parse(readFileSync(join(dir, 'capacity.json'), 'utf8'));
  t.match(report, { kind: 'capacity', highestHeld: 40, brokeAt: { rate: 80, bottleneck: { service: 'catalog' } }, plan: { start: 20, factor: 2, holdMs: 3000, maxRate: null } });
  t.equal(report.steps.length, 3);
  for (const s of report.steps) t.ok(existsSync(join(s.dir, 'result.json')) && existsSync(join(s.dir, 'report.html')), `step ${s.index + 1} wrote its own result and report`);
  const html = readFileSync(join(dir, 'report.html'), 'utf8');
  t.match(html, /Highest rate that held: <b>40 journeys\/s<\/b>/);
  t.match(html, /id="chart-steps"/);
  t.match(html, /"rates":\[20,40,80\]/, 'the chart has the steps');
  t.notMatch(html, /<script src=/, 'self-contained');
  // The step charts draw in headless Chromium (Debian's, as for report.html) without errors.
  const browser = await chromium.launchPersistentContext(await tempDir(t, 'saleday-chromium-'), {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  t.teardown(() => browser.close());
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`file://${join(dir, 'report.html')}`);
  await page.waitForFunction(() => (globalThis as unknown as { document: { body: { dataset: Record<string, string> } } }).document.body.dataset.chartsReady === '2', undefined, { timeout: 15_000 });
  t.same(errors, [], 'no script errors');
  t.equal(await page.locator('canvas').count(), 2, 'both step charts drawn');
  t.same(await page.locator('#steps tr td.mark').allTextContents(), ['✓ held', '✓ held', '✗ FAILED']);

  const required = await runCli(['capacity', '--profile', file, '--target', url, '--start', '20', '--hold', '2s', '--max-steps', '1', '--require', '50', '--out', out, '--quiet']);
  t.equal(required.code, 99, 'exit 99 when less than --require held');
  t.match(required.stdout, /required: 50 journeys\/s — NOT met/);
});

t.test('capacity usage errors exit 1 with what to do', async (t) => {
  const file = await writeProfile(t, profileText());
  const cases: Array<[string[], RegExp]> = [
    [['--target', 'http://127.0.0.1:1'], /capacity needs --profile/],
    [['--profile', file], /capacity needs --target/],
    [['--profile', file, '--target', 'http://127.0.0.1:1', '--factor', '0.5'], /--factor 0\.5 is not a number above 1/],
    [['--profile', file, '--target', 'http://127.0.0.1:1', '--factor', '2', '--increment', '5'], /give --factor or --increment, not both/],
    [['--profile', file, '--target', 'http://127.0.0.1:1', '--hold', 'long'], /--hold long is not a duration of 1s or more/],
    [['--profile', file, '--target', 'http://127.0.0.1:1', '--max-steps', '2.5'], /--max-steps 2\.5 is not a whole number/],
    [['--profile', file, '--target', 'http://127.0.0.1:1', '--rate', '5'], /Unknown option '--rate'[\s\S]*capacity --profile/],
    [['--profile', file, '--target', 'http://127.0.0.1:1', '--start', '5', '--hold', '1s'], /nothing answers at http:\/\/127\.0\.0\.1:1/],
  ];
  for (const [args, message] of cases) {
    const run = await runCli(['capacity', ...args, '--quiet']);
    t.equal(run.code, 1, `${args.join(' ')}: exit 1`);
    t.match(run.stderr, message);
    t.notMatch(run.stderr, /\n\s+at .+:\d+:\d+\)?\n/, 'no stack trace');
  }
});
