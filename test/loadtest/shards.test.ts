// Acceptance 5 (second half): a profile split over two harness processes (--shard 1/2 and 2/2)
// merges into the same totals as one process running it; histograms merge exactly.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { decode, encode, newHistogram } from '../../loadtest/lib/recorder.js';
import type { RunResult } from '../../loadtest/lib/result.js';
import { startFakeShop, shopProfile } from './fake-shop.js';
import { resultDir, runCli, tempDir, writeProfile } from './helpers.js';

t.test('HDR histograms merge exactly', (t) => {
  const values = Array.from({ length: 20_000 }, (_, i) => 1 + ((i * 7919) % 250_000) + (i % 97 === 0 ? 2_000_000 : 0));
  const one = newHistogram();
  const a = newHistogram();
  const b = newHistogram();
  values.forEach((v, i) => {
    one.recordValue(v);
    (i % 2 ? a : b).recordValue(v);
  });
  const merged = newHistogram();
  merged.add(decode(encode(a)));
  merged.add(decode(encode(b)));
  // What one process would have written (an encoded histogram keeps values at HDR's resolution).
  const whole = decode(encode(one));
  t.equal(merged.totalCount, whole.totalCount);
  t.equal(merged.minNonZeroValue, whole.minNonZeroValue);
  t.equal(merged.maxValue, whole.maxValue);
  t.ok(Math.abs(whole.maxValue - one.maxValue) / one.maxValue < 0.001, 'within 3 significant digits of the values recorded');
  for (const p of [1, 10, 25, 50, 75, 90, 95, 99, 99.9, 99.99, 100]) t.equal(merged.getValueAtPercentile(p), one.getValueAtPercentile(p), `p${p}`);
  t.equal(encode(merged), encode(whole), 'the merged histogram encodes to the same bytes');
  t.end();
});

const shop = await startFakeShop(t, { defaultStock: 1_000_000 });
const out = await tempDir(t);
const file = await writeProfile(t, shopProfile({ name: 'shards', phases: '  - { name: ramp, duration: 2s, rate: 20, rampTo: 40 }\n  - { name: flat, duration: 2s, rate: 40 }' }));
const read = (dir: string): RunResult => JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8')) as RunResult;

const single = await runCli(['--profile', file, '--target', shop.url, '--out', out, '--quiet', '--run-id', 'one']);
const startAt = new Date(Date.now() + 3000).toISOString();
const shards = await Promise.all(
  ['1/2', '2/2'].map((s) => runCli(['--profile', file, '--target', shop.url, '--out', out, '--quiet', '--shard', s, '--run-id', 'two', '--start-at', startAt])),
);
const merge = await runCli(['merge', ...shards.map(resultDir), '--out', out]);

t.test('every process passed and the merge command wrote one result', (t) => {
  t.equal(single.code, 0, single.stderr + single.stdout);
  for (const s of shards) {
    t.equal(s.code, 0, s.stderr + s.stdout);
    t.match(s.stdout, /merge the shards with: \.\/loadtest\/run\.mjs merge/);
  }
  t.equal(merge.code, 0, merge.stderr + merge.stdout);
  t.match(resultDir(merge), /-merged$/);
  t.end();
});

t.test('two shards add up to the single process, exactly', (t) => {
  const one = read(resultDir(single));
  const parts = shards.map((s) => read(resultDir(s)));
  const merged = read(resultDir(merge));
  t.same(parts.map((p) => p.processes[0]!.shard), ['1/2', '2/2']);
  t.ok(parts.every((p) => p.phases.reduce((a, ph) => a + ph.scheduled, 0) > 0), 'each shard ran part of the schedule');
  t.same(merged.phases.map((p) => p.scheduled), one.phases.map((p) => p.scheduled), 'scheduled journeys per phase');
  t.same(merged.phases.map((p) => p.scheduled), [60, 80]);
  const journeyTotals = (r: RunResult) => Object.fromEntries(Object.entries(r.recording.journeys).map(([k, j]) => [k, [j.started, j.completed, j.failed, j.dropped]]));
  t.same(journeyTotals(merged), journeyTotals(one), 'journeys started, completed, failed, dropped');
  const endpointTotals = (r: RunResult) => Object.fromEntries(Object.entries(r.recording.endpoints).map(([k, e]) => [k, { requests: e.requests, errors: e.errors, statuses: e.statuses }]));
  t.same(endpointTotals(merged), endpointTotals(one), 'requests, errors and statuses per endpoint');
  t.same(merged.recording.sales, one.recording.sales, 'units sold per sku');
  for (const [name, e] of Object.entries(merged.recording.endpoints)) {
    t.equal(decode(e.latency).totalCount, decode(one.recording.endpoints[name]!.latency).totalCount, `${name}: every latency is in the merged histogram`);
    const sum = parts.reduce((a, p) => a + decode(p.recording.endpoints[name]!.latency).totalCount, 0);
    t.equal(decode(e.latency).totalCount, sum);
  }
  t.equal(merged.recording.seconds.reduce((a, s) => a + s.scheduled, 0), 140, 'the per-second series merge too');
  t.same(merged.processes.map((p) => p.shard), ['1/2', '2/2']);
  t.end();
});

t.test('merge refuses results that are not the shards of one run', async (t) => {
  const twice = await runCli(['merge', resultDir(shards[0]!), resultDir(shards[0]!), '--out', out]);
  t.equal(twice.code, 1);
  t.match(twice.stderr, /shard 1\/2 is given twice/);
  const mixed = await runCli(['merge', resultDir(shards[0]!), resultDir(single), '--out', out]);
  t.equal(mixed.code, 1);
  t.match(mixed.stderr, /the shards do not make one run/);
});
