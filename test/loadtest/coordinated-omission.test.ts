// Acceptance 3: a server that stalls for 1 s in the middle of a constant-rate phase. With only
// 8 connections a closed-model tool would send 8 requests into the stall and wait: the stall
// would touch 8 of ~1,200 requests and vanish from the p99. The harness keeps starting journeys
// on schedule and measures each from its intended start, so the p99 shows the stall.
import t from 'tap';
import { decode, summarize } from '../../loadtest/lib/recorder.js';
import { runInProcess, startServer } from './helpers.js';

const STALL_MS = 1000;
let first: number | undefined;
let stallFrom = Infinity;
let held = 0;
const { url } = await startServer(t, (_req, res) => {
  const now = Date.now();
  if (first === undefined) {
    first = now;
    stallFrom = now + 2500;
  }
  const answer = (): void => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 2 });
    res.end('ok');
  };
  // From 2.5 s on, for one second, nothing is answered until the stall is over.
  if (now >= stallFrom && now < stallFrom + STALL_MS) {
    held++;
    setTimeout(answer, stallFrom + STALL_MS - now);
  } else answer();
});

const result = await runInProcess(
  `
name: stall
maxInFlight: 8
phases:
  - { name: constant, duration: 6s, rate: 200 }
journeys:
  - name: ping
    weight: 100
    steps:
      - request: GET /ping
thresholds:
  - { metric: p99, max: 500ms }
`,
  url,
);

t.test('the stall happened while the phase was running', (t) => {
  t.ok(held > 0, `${held} requests were held by the stall`);
  // The other ~190 journeys due in that second waited in the harness's queue, not on the wire.
  t.ok(held < 50, 'only the few connections that were free could send into the stall');
  t.end();
});

t.test('the p99 shows the 1 s stall', (t) => {
  const all = summarize(decode(result.recording.latency));
  t.ok(all.p99 >= 0.9 * STALL_MS, `p99 from the intended start is ${all.p99.toFixed(1)} ms`);
  t.ok(all.max >= 0.9 * STALL_MS, `max is ${all.max.toFixed(1)} ms`);
  const verdict = result.verdicts.find((v) => v.label.startsWith('p99'));
  t.equal(verdict?.ok, false, `the p99 ≤ 500 ms threshold fails: ${verdict?.measured}`);
  t.equal(result.passed, false);
  t.end();
});

t.test('time from the write alone would hide it', (t) => {
  const intended = summarize(decode(result.recording.latency));
  const fromWrite = summarize(decode(result.recording.serviceTime));
  t.ok(fromWrite.p99 < intended.p99, `p99 from the write ${fromWrite.p99.toFixed(1)} ms < p99 from the intended start ${intended.p99.toFixed(1)} ms`);
  t.end();
});

t.test('journeys kept starting on schedule through the stall', (t) => {
  const p = result.phases[0]!;
  t.equal(p.scheduled, 1200);
  t.equal(result.recording.journeys.ping!.completed, 1200, 'every journey was answered in the end');
  t.equal(result.recording.journeys.ping!.dropped, 0);
  const worst = Math.max(...result.recording.seconds.filter((s) => s.latency).map((s) => summarize(decode(s.latency)).p99));
  t.ok(worst >= 0.5 * STALL_MS, `the worst second's p99 is ${worst.toFixed(0)} ms`);
  t.end();
});
