// The arrival schedule: exact counts through constant and ramping phases, and shards that
// partition the journeys between them.
import t from 'tap';
import type { Phase } from '../../loadtest/lib/profile/types.js';
import { parseShard, Schedule } from '../../loadtest/lib/schedule.js';

const phases: Phase[] = [
  { name: 'flat', startMs: 0, durationMs: 10_000, rate: 10, rampTo: 10 },
  { name: 'up', startMs: 10_000, durationMs: 30_000, rate: 10, rampTo: 100 },
  { name: 'down', startMs: 40_000, durationMs: 20_000, rate: 100, rampTo: 0 },
];

t.test('journeys due add up to the integral of the rate', (t) => {
  const s = new Schedule(phases);
  t.equal(s.total, 100 + 1650 + 1000);
  t.equal(s.dueBy(10_000), 100);
  t.equal(s.dueBy(25_000), 100 + 10 * 15 + (90 * 15 * 15) / (2 * 30));
  const { perPhase, perSecond } = s.counts();
  t.same(perPhase, [100, 1650, 1000]);
  t.equal(perSecond.reduce((a, n) => a + n, 0), s.total);
  t.same(perSecond.slice(10, 14), [11, 15, 17, 21], 'the ramp adds about 3 journeys/s every second');
  t.end();
});

t.test('journey times are increasing and sit inside their slots', (t) => {
  const s = new Schedule(phases);
  let last = -1;
  for (let k = 0; k < s.total; k++) {
    const at = s.timeOf(k);
    if (at < last) t.fail(`journey ${k} is due before journey ${k - 1}`);
    last = at;
    if (Math.abs(s.dueBy(at) - (k + 0.5)) > 1e-6) t.fail(`A(timeOf(${k})) = ${s.dueBy(at)}`);
  }
  t.ok(last <= 60_000);
  t.equal(s.rateAt(25_000), 55);
  t.end();
});

t.test('shards partition the journeys', (t) => {
  const all = [...new Schedule(phases).journeys()];
  const parts = [0, 1, 2].map((index) => [...new Schedule(phases, { index, count: 3 }).journeys()]);
  t.same(parts.flat().sort((a, b) => a - b), all);
  t.ok(parts.every((p) => Math.abs(p.length - all.length / 3) <= 1));
  t.same([0, 1, 2].map((index) => new Schedule(phases, { index, count: 3 }).counts().perPhase).reduce((a, b) => a.map((x, i) => x + b[i]!)), [100, 1650, 1000]);
  t.same(parseShard('2/3'), { index: 1, count: 3 });
  t.equal(parseShard('0/3'), undefined);
  t.equal(parseShard('4/3'), undefined);
  t.equal(parseShard('x'), undefined);
  t.end();
});
