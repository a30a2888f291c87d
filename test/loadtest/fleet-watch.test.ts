// The fleet watch (loadtest/lib/fleet-watch.ts), the one sampling loop of the runner and the AWS
// launcher: its cadence, the stop, the scale-in wait (ends at the minimum, or at its deadline),
// probe errors, and the runner's use of it on a real (short) run.
import t from 'tap';
import { FleetWatch, scaleInWait } from '../../loadtest/lib/fleet-watch.js';
import type { Clock } from '../../loadtest/lib/generators/clock.js';
import { parseProfile } from '../../loadtest/lib/profile/load.js';
import type { FleetSize, ScalingProbe } from '../../loadtest/lib/probes/probe.js';
import { virtualClock } from './aws-fleet.js';
import { json, runInProcess, startServer } from './helpers.js';

const START = Date.parse('2026-12-01T10:00:00Z');

/** catalog's in-service count as a function of the clock's seconds since START; throws when the function does. */
function probe(clock: { now(): number }, inService: (s: number) => number, intervalMs = 1000): ScalingProbe & { calls: number } {
  return {
    kind: 'aws',
    intervalMs,
    calls: 0,
    describe: () => 'fake groups',
    sample() {
      this.calls++;
      try {
        const n = inService((clock.now() - START) / 1000);
        return Promise.resolve({ catalog: { inService: n, desired: n, min: 1, max: 4 } satisfies FleetSize });
      } catch (e) {
        return Promise.reject(e instanceof Error ? e : new Error(String(e)));
      }
    },
    activities: () => Promise.resolve([]),
    metrics: () => Promise.resolve(undefined),
  };
}

const quiet = () => {
  const lines: string[] = [];
  return { lines, progress: { line: (l: string) => lines.push(l), status: () => undefined } };
};

t.test('samples every intervalMs from the start; stop takes one last sample', async (t) => {
  const clock = virtualClock(START - 5000);
  const { progress } = quiet();
  const watch = new FleetWatch({ probe: probe(clock, () => 2), startMs: START, progress, clock });
  while (clock.now() < START + 4000) await new Promise((r) => setImmediate(r));
  await watch.stop();
  const ts = watch.samples.map((s) => s.t);
  t.equal(ts[0], 0, 'nothing before the start');
  t.same(ts.slice(0, 4), [0, 1, 2, 3], 'every second');
  t.same(watch.last, { catalog: { inService: 2, desired: 2, min: 1, max: 4 } });
});

t.test('the scale-in wait ends at the minimum, or at its deadline', async (t) => {
  const profile = parseProfile(`name: w\nmaxInFlight: 4\nphases:\n  - { name: flat, duration: 10s, rate: 1 }\njourneys:\n  - { name: one, weight: 100, steps: [{ request: GET /x }] }\nthresholds:\n  - { metric: scaleIn, service: catalog, within: 60s }\n  - { metric: scaleIn, service: catalog, within: 30s }\n`, 'w.yaml');
  const wait = scaleInWait(profile, START)!;
  t.same(wait, { services: ['catalog', 'catalog'], untilMs: START + 70_000, endMs: START + 10_000 }, 'the longest within after the last phase');
  t.equal(scaleInWait({ thresholds: [], durationMs: 1 }, START), undefined, 'no scaleIn threshold: no wait');

  const clock = virtualClock(START);
  const back = new FleetWatch({ probe: probe(clock, (s) => (s >= 25 ? 1 : 3)), startMs: START, progress: quiet().progress, clock });
  await back.stop(wait);
  t.ok(back.samples.at(-1)!.t >= 25 && back.samples.at(-1)!.t < 27, `ended at the first sample at the minimum (${back.samples.at(-1)!.t} s)`);

  const stuck = virtualClock(START);
  const never = new FleetWatch({ probe: probe(stuck, () => 3), startMs: START, progress: quiet().progress, clock: stuck });
  await never.stop(wait);
  t.equal(never.samples.at(-1)!.t, 70, 'the last sample at the deadline, not after');
});

t.test('probe errors: one line per distinct message, never the end of the watch', async (t) => {
  const clock = virtualClock(START);
  const { lines, progress } = quiet();
  let n = 0;
  const watch = new FleetWatch({
    probe: probe(clock, () => {
      if (++n <= 3) throw new Error('throttled');
      if (n === 4) throw new Error('refused');
      return 1;
    }),
    startMs: START,
    progress,
    clock,
  });
  while (watch.samples.length < 2) await new Promise((r) => setImmediate(r));
  const r = await watch.report(new Date(START), new Date(clock.now()));
  t.same(r.errors, ['throttled', 'refused']);
  t.same(lines, ['scaling probe: throttled', 'scaling probe: refused']);
  t.ok(r.samples.length >= 2, 'sampling went on');
  t.equal(r.probe, 'fake groups');
});

t.test('cancel leaves nothing sleeping and takes no further sample', async (t) => {
  // A clock whose sleeps end only when woken: the watch waits for a start an hour away.
  const woken: Clock = { now: () => START, sleep: (_ms, signal) => new Promise((r) => (signal?.aborted ? r() : signal?.addEventListener('abort', () => r(), { once: true }))) };
  const p = probe(woken, () => 3);
  const watch = new FleetWatch({ probe: p, startMs: START + 3_600_000, progress: quiet().progress, clock: woken });
  watch.cancel();
  await watch.stop();
  t.equal(p.calls, 0);
});

t.test('the runner samples with it and waits for scale-in after the last phase', async (t) => {
  const { url } = await startServer(t, (_req, res) => json(res, 200, { ok: true }));
  const began = Date.now();
  const fake = probe({ now: () => Date.now() - began + START }, (s) => (s >= 2 ? 1 : 2), 100);
  const r = await runInProcess(`name: r\nseed: 1\nmaxInFlight: 4\ndrain: 1s\nphases:\n  - { name: flat, duration: 1s, rate: 5 }\njourneys:\n  - { name: one, weight: 100, steps: [{ request: GET /x }] }\nthresholds:\n  - { metric: scaleIn, service: catalog, within: 20s }\n`, url, { probe: fake });
  const last = r.fleet.samples.at(-1)!;
  t.ok(last.t >= 1.5, `it waited past the load's end at 1 s (last sample at ${last.t.toFixed(1)} s)`);
  t.ok(last.t < 10, 'and ended once catalog was back, not at the 21 s the wait could last');
  t.equal(last.services.catalog!.inService, 1);
  t.ok(r.fleet.samples.length >= 5, `sampled during the run (${r.fleet.samples.length})`);
  t.match(r.verdicts, [{ kind: 'scaleIn', ok: true }]);
});
