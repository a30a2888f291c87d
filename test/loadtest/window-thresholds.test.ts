// Sliding-window thresholds: exact percentiles of every window (HDR histograms of the seconds
// summed, not averaged), error rates and counts per window, the verdict naming the window that
// failed and when, the profile's problems, and abortOnFail stopping a run whose last window fails.
import t from 'tap';
import { parseProfile, ProfileError } from '../../loadtest/lib/profile/load.js';
import { encode, newHistogram, type SecondRecord } from '../../loadtest/lib/recorder.js';
import type { RunResult } from '../../loadtest/lib/result.js';
import { evaluate } from '../../loadtest/lib/thresholds/index.js';
import { json, runInProcess, startServer } from './helpers.js';

const EP = 'GET /api/catalog/products/:sku';

const profile = (thresholds: string) => `
name: windows
maxInFlight: 1
phases:
  - { name: one, duration: 10s, rate: 1 }
journeys:
  - name: j
    weight: 100
    steps: [{ request: "GET /api/catalog/products/{{n}}", endpoint: "GET /api/catalog/products/:sku" }, { request: GET /api/orders }]
thresholds:
${thresholds}
`;

/** A second whose requests of EP took these latencies (ms), `errors` of them failed. */
function second(t: number, latenciesMs: number[], errors = 0): SecondRecord {
  const h = newHistogram();
  for (const ms of latenciesMs) h.recordValue(ms * 1000);
  const latency = latenciesMs.length ? encode(h) : '';
  return { t, scheduled: 0, started: 0, dropped: 0, requests: latenciesMs.length, errors, latency, endpoints: latenciesMs.length ? { [EP]: { requests: latenciesMs.length, errors, latency } } : {} };
}

function resultOf(thresholds: string, seconds: SecondRecord[]): RunResult {
  const p = parseProfile(profile(thresholds), 'windows.yaml');
  return {
    version: 1,
    runId: 'w',
    profile: { ...p, journeys: [], thresholds: p.thresholds },
    target: { kind: 'url', url: 'http://127.0.0.1', label: 'x' },
    processes: [{ shard: '1/1', host: 'h', pid: 1, startedAt: '', endedAt: '', autocannon: undefined }],
    startedAt: '2025-01-01T00:00:00.000Z',
    endedAt: '2025-01-01T00:01:00.000Z',
    recording: { seconds, endpoints: {}, journeys: {}, latency: '', serviceTime: '', sales: {}, phases: [] },
    phases: [],
    fleet: { probe: null, samples: [], activities: [], metrics: undefined, errors: [] },
    oversell: undefined,
    setup: [],
    aborted: undefined,
    verdicts: [],
    passed: false,
  };
}

// 20 fast seconds (100 requests of 10 ms), then 2 slow seconds (10 of their 100 requests at
// 900 ms), then fast again. A 3 s window holding both slow seconds has 20 slow of 300 (6.7%): its
// p95 is 900 ms; one holding a single slow second has 3.3%: 10 ms. Each second alone has a p95 of
// 900 ms, so a mean of per-second percentiles would fail windows that hold.
const fast = (t: number) => second(t, Array<number>(100).fill(10));
const slow = (t: number) => second(t, [...Array<number>(90).fill(10), ...Array<number>(10).fill(900)]);
const seconds = [...Array.from({ length: 20 }, (_, i) => fast(i)), slow(20), slow(21), fast(22), ...Array.from({ length: 10 }, (_, i) => fast(23 + i))];

t.test('a window percentile is exact over the window’s requests, and the verdict says which window and when', (t) => {
  // 2 slow seconds in a 3 s window: 20 of 300 requests at 900 ms → p95 is 900 ms (the top 6.7%).
  const [p95] = evaluate(resultOf(`  - { metric: windowP95, max: 100ms, window: 3s, endpoint: "${EP}" }`, seconds));
  t.equal(p95!.ok, false);
  t.equal(p95!.label, `p95 of ${EP} ≤ 100.0 ms in every 3 s window`);
  t.match(p95!.measured, /^p95 over 3 s first above 100\.0 ms in 00:19–00:22 \(90\d\.\d ms\); worst 90\d\.\d ms in 00:19–00:22$/);
  // Over 10 s windows 20 of 1000 requests are slow (2%): p95 holds, p99 does not.
  const [wide, wide99] = evaluate(resultOf(`  - { metric: windowP95, max: 100ms, window: 10s }\n  - { metric: windowP99, max: 100ms, window: 10s }`, seconds));
  t.match(wide, { ok: true, measured: /^worst p95 over 10 s: 10\.0 ms in \d\d:\d\d–\d\d:\d\d \(1000 requests; 24 windows\)$/ });
  t.match(wide99, { ok: false, measured: /first above 100\.0 ms in 00:12–00:22/ });
  t.end();
});

t.test('error rate and error count over a window', (t) => {
  const errs = [...Array.from({ length: 10 }, (_, i) => second(i, Array<number>(10).fill(5))), second(10, Array<number>(10).fill(5), 4), second(11, Array<number>(10).fill(5), 4), second(12, Array<number>(2).fill(5), 0)];
  const [rate, count, ok, quiet] = evaluate(
    resultOf(
      ['  - { metric: windowErrorRate, max: 10%, window: 5s }', '  - { metric: windowErrors, max: 5, window: 2s }', '  - { metric: windowErrors, max: 8, window: 30s }', `  - { metric: windowErrorRate, max: 0%, window: 1s, minRequests: 11, endpoint: "${EP}" }`].join('\n'),
      errs,
    ),
  );
  t.match(rate, { ok: false, label: 'error rate ≤ 10.00% in every 5 s window', measured: 'first failing 5 s window: 16.00% in 00:07–00:12 (8 of 50 requests); worst: 19.05% in 00:08–00:13 (8 of 42 requests)' });
  t.match(count, { ok: false, measured: /^first failing 2 s window: 8 errors in 00:10–00:12 \(of 20 requests\); worst: 8 errors in 00:10–00:12/ });
  t.match(ok, { ok: true, measured: 'worst 30 s window: 8 errors in 00:00–00:13 (of 122 requests)' }, 'a run shorter than the window is one window');
  t.match(quiet, { ok: false, measured: 'no window had 11 requests of GET /api/catalog/products/:sku' }, 'minRequests leaves quiet windows out');
  t.end();
});

t.test('a bad window threshold is refused with the fix', (t) => {
  try {
    parseProfile(profile('  - { metric: windowP95, max: 1s, window: 1500ms, endpoint: GET /nope }\n  - { metric: windowErrors, max: 2.5, window: 10s }\n  - { metric: windowErrorRate, max: 1%, window: 10s, journey: j }'), 'windows.yaml');
    t.fail('accepted');
  } catch (err) {
    t.ok(err instanceof ProfileError);
    t.match((err as ProfileError).problems, [
      { path: 'thresholds[2].journey', problem: /unknown key "journey"/ },
    ]);
  }
  try {
    parseProfile(profile('  - { metric: windowP95, max: 1s, window: 1500ms, endpoint: GET /nope }\n  - { metric: windowErrors, max: 2.5, window: 10s }'), 'windows.yaml');
    t.fail('accepted');
  } catch (err) {
    t.match((err as ProfileError).problems, [
      { path: 'thresholds[0].window', problem: 'is 1500 ms: windows slide by whole seconds', fix: /window: 60s/ },
      { path: 'thresholds[0].endpoint', problem: /unknown endpoint "GET \/nope"/ },
      { path: 'thresholds[1].max', problem: '2.5 is not a count of errors' },
    ]);
  }
  t.end();
});

t.test('abortOnFail stops the run when the last window fails, and says which window', async (t) => {
  // Healthy for the first 3 seconds, then every answer is a 500.
  let began: number | undefined;
  const { url } = await startServer(t, (_req, res) => {
    began ??= Date.now();
    json(res, Date.now() - began < 3000 ? 200 : 500, {});
  });
  const result = await runInProcess(
    `
name: window-abort
maxInFlight: 8
phases:
  - { name: long, duration: 30s, rate: 20 }
journeys:
  - name: ping
    weight: 100
    steps: [{ request: GET /ping }]
thresholds:
  - { metric: windowErrorRate, max: 50%, window: 2s, abortOnFail: true }
`,
    url,
  );
  t.ok(result.aborted, 'the run was aborted');
  t.ok(result.aborted!.atS >= 4 && result.aborted!.atS < 15, `aborted at ${result.aborted!.atS.toFixed(1)} s, once a whole 2 s window had mostly failures`);
  t.match(result.aborted!.reason, /^error rate ≤ 50\.00% in every 2 s window failed: \d+\.\d+% in 00:0\d–00:0\d \(\d+ of \d+ requests\)$/);
  t.match(result.verdicts, [{ kind: 'windowErrors', ok: false, measured: /first failing 2 s window: .* in 00:0[2-5]–00:0[4-7]/ }, { label: 'the run ran to the end', ok: false }]);
});
