// Every local core (issue 17): --generators N runs the shards of one run as N processes on this
// machine, started together, shown as one status line, merged exactly into one result that says
// which generator saw what; a generator that fails is named in the verdict and fails the run.
import { readdirSync, readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import t from 'tap';
import { defaultGenerators, peakRequestRate, REQUESTS_PER_GENERATOR } from '../../loadtest/lib/generators/count.js';
import { aggregateStatus } from '../../loadtest/lib/generators/live.js';
import { generatorVerdicts, summarizeGenerator } from '../../loadtest/lib/generators/summary.js';
import { parseProfile } from '../../loadtest/lib/profile/load.js';
import type { Status } from '../../loadtest/lib/progress.js';
import { decode, encode, newHistogram } from '../../loadtest/lib/recorder.js';
import type { RunResult } from '../../loadtest/lib/result.js';
import { startFakeShop, shopProfile } from './fake-shop.js';
import { json, resultDir, runCli, startServer, tempDir, until, writeProfile } from './helpers.js';

const read = (dir: string): RunResult => JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8')) as RunResult;

t.test('two generators against the shop: one start, one result, the sum of their shares', async (t) => {
  const shop = await startFakeShop(t, { defaultStock: 1_000_000 });
  const out = await tempDir(t);
  const file = await writeProfile(t, shopProfile({ name: 'generators', phases: '  - { name: ramp, duration: 2s, rate: 20, rampTo: 40 }\n  - { name: flat, duration: 2s, rate: 40 }' }));
  const run = await runCli(['--profile', file, '--target', shop.url, '--out', out, '--generators', '2', '--run-id', 'gen2']);
  t.equal(run.code, 0, run.stderr + run.stdout);
  t.same(readdirSync(out).length, 1, 'one result folder, no shard folders');
  t.notMatch(resultDir(run), /shard|merged/);
  t.match(run.stderr, /2 generators ready \(run gen2\): the schedule starts at /);
  t.equal(run.stderr.match(/^phase ramp:/gm)?.length, 1, 'each phase line is shown once, not once per generator');
  t.notMatch(run.stderr, /waiting .* for the agreed start/);
  const r = read(resultDir(run));
  t.equal(r.runId, 'gen2');
  t.same(r.processes.map((p) => p.shard), ['1/2', '2/2']);
  t.same(r.phases.map((p) => p.scheduled), [60, 80], 'the shares add up to the whole schedule');
  const gens = r.generators!;
  t.same(gens.map((g) => [g.shard, g.state]), [['1/2', 'ok'], ['2/2', 'ok']]);
  t.ok(gens.every((g) => g.requests > 0 && g.scheduled > 0), 'each generator ran part of the schedule');
  const requests = Object.values(r.recording.endpoints).reduce((a, e) => a + e.requests, 0);
  t.equal(gens.reduce((a, g) => a + g.requests, 0), requests, 'merged requests = the sum of the generators\' requests');
  t.equal(gens.reduce((a, g) => a + g.scheduled, 0), 140);
  t.equal(decode(r.recording.latency).totalCount, requests, 'every request is in the merged histogram');
  t.match(r.verdicts.find((v) => v.path === 'generators'), { ok: true, measured: /2 generators, 1\/2 \d+\/\d+, 2\/2/ });
  const html = await readFile(join(resultDir(run), 'report.html'), 'utf8');
  t.match(html, /<h2>Generators<\/h2><table id="generators">/);
  t.match(html, /<td>1\/2<\/td><td>[^<]+ pid \d+<\/td><td>ok/);
});

t.test('percentiles come from the merged histograms, not an average of the generators\'', async (t) => {
  // Generator 1/2's requests take 60 ms, 2/2's about 1 ms: the merged p25 is a fast request and
  // the p75 a slow one; averaging each generator's p25 would give at least 30 ms.
  const { url } = await startServer(t, (req, res) => setTimeout(() => json(res, 200, {}), req.headers['x-shard'] === '1/2' ? 60 : 1));
  const out = await tempDir(t);
  const file = await writeProfile(
    t,
    `name: split-latency\nseed: 3\nmaxInFlight: 16\ndrain: 5s\nphases:\n  - { name: flat, duration: 3s, rate: 40 }\njourneys:\n  - name: one\n    weight: 100\n    steps:\n      - name: get\n        request: GET /latency\n        headers: { x-shard: "{{shard}}" }\n`,
  );
  const run = await runCli(['--profile', file, '--target', url, '--out', out, '--generators', '2', '--quiet']);
  t.equal(run.code, 0, run.stderr + run.stdout);
  const h = decode(read(resultDir(run)).recording.latency);
  t.equal(h.totalCount, 120);
  t.ok(h.getValueAtPercentile(75) >= 60_000, `p75 ${h.getValueAtPercentile(75)} µs is a slow generator's request`);
  t.ok(h.getValueAtPercentile(25) < 30_000, `p25 ${h.getValueAtPercentile(25)} µs is a fast generator's request`);
});

t.test('a generator that dies is named in the verdict and the run fails', async (t) => {
  const mark = randomUUID();
  let seen = 0;
  const { url } = await startServer(t, (_req, res) => {
    seen++;
    json(res, 200, {});
  });
  const out = await tempDir(t);
  const file = await writeProfile(t, `name: one-dies\nseed: 1\nmaxInFlight: 8\ndrain: 2s\nphases:\n  - { name: flat, duration: 6s, rate: 20 }\njourneys:\n  - name: one\n    weight: 100\n    steps:\n      - request: GET /x\n`);
  const running = runCli(['--profile', file, '--target', url, '--out', out, '--generators', '2', '--quiet'], { SALEDAY_TEST_MARK: mark });
  // Once load flows, kill one of this run's generator processes (found by the mark in their environment).
  await until(() => seen > 10, 30_000, 'load from the generators');
  const workers = await generatorPids(mark);
  t.equal(workers.length, 2, 'two generator processes');
  process.kill(workers[0]!, 'SIGKILL');
  const run = await running;
  t.equal(run.code, 99, run.stderr + run.stdout);
  const r = read(resultDir(run));
  const failed = r.generators!.filter((g) => g.state === 'failed');
  t.equal(failed.length, 1);
  t.match(failed[0]!.error, /was killed \(SIGKILL\) and left no result/);
  t.match(run.stdout, new RegExp(`✗ every generator sent its share of the load .*: generator ${failed[0]!.shard.replace('/', '\\/')} \\([^)]+ pid ${workers[0]}\\) failed: was killed`));
  t.equal(r.processes.length, 1, 'the survivor\'s result is merged');
  t.equal(await generatorPids(mark).then((p) => p.length), 0, 'no generator process is left');
});

async function generatorPids(mark: string): Promise<number[]> {
  const pids: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmd = await readFile(`/proc/${name}/cmdline`, 'utf8');
      if (!cmd.includes('generators/worker.js')) continue;
      if ((await readFile(`/proc/${name}/environ`, 'utf8')).includes(`SALEDAY_TEST_MARK=${mark}`)) pids.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return pids.sort((a, b) => a - b);
}

t.test('--generators refuses what it cannot do, saying what to do', async (t) => {
  const file = await writeProfile(t, shopProfile({ phases: '  - { name: flat, duration: 1s, rate: 1 }' }));
  const zero = await runCli(['--profile', file, '--target', 'http://127.0.0.1:9', '--generators', '0']);
  t.equal(zero.code, 1);
  t.match(zero.stderr, /--generators 0 is not a whole number ≥ 1/);
  const withShard = await runCli(['--profile', file, '--target', 'http://127.0.0.1:9', '--generators', '2', '--shard', '1/2']);
  t.equal(withShard.code, 1);
  t.match(withShard.stderr, /drop --shard/);
  const unreachable = await runCli(['--profile', file, '--target', 'http://127.0.0.1:9', '--generators', '2', '--quiet']);
  t.equal(unreachable.code, 1);
  t.match(unreachable.stderr, /^nothing answers at http:\/\/127\.0\.0\.1:9/);
  t.notMatch(unreachable.stderr, /\n\s+at /, 'no stack trace');
});

t.test('default count, live line and verdicts', (t) => {
  const profile = (rate: number): string => shopProfile({ phases: `  - { name: flat, duration: 1s, rate: ${rate} }` });
  const small = parseProfile(profile(30), 'small.yaml');
  t.ok(peakRequestRate(small) < REQUESTS_PER_GENERATOR);
  t.equal(defaultGenerators(small, 8), 1, 'a peak one generator sends: today\'s single process');
  const big = parseProfile(profile(5000), 'big.yaml');
  t.ok(peakRequestRate(big) > REQUESTS_PER_GENERATOR);
  t.equal(defaultGenerators(big, 8), 8, 'one per core');

  const hist = (values: number[]): string => {
    const h = newHistogram();
    for (const v of values) h.recordValue(v);
    return encode(h);
  };
  const base: Status = { phase: 'flat', phaseIndex: 0, phases: 1, elapsedS: 3, totalS: 10, scheduledRate: 10, achievedRate: 9, requestsRate: 20, p99Ms: 1, errors: 1, requests: 50, inFlight: 2, queued: 0, dropped: 0, fleet: undefined };
  const s = aggregateStatus([{ ...base, latency: hist(Array(99).fill(1000)) }, { ...base, elapsedS: 4, phase: 'later', latency: hist(Array(99).fill(100_000)) }, undefined], 2)!;
  t.match(s, { phase: 'later', elapsedS: 4, scheduledRate: 20, achievedRate: 18, requestsRate: 40, errors: 2, requests: 100, generators: { running: 2, count: 3 } });
  t.ok(Math.abs(s.p99Ms! - 100) < 1, 'the p99 of both generators\' last second together');

  const result = { profile: { durationMs: 10_000 }, phases: [{ scheduled: 100, started: 94, dropped: 6 }], recording: { seconds: [{ requests: 200, errors: 3 }] } } as unknown as RunResult;
  const behind = summarizeGenerator('2/2', 'host pid 2', result);
  t.match(behind, { state: 'behind', started: 94, scheduled: 100, requests: 200, errors: 3, requestRate: 20 });
  t.equal(summarizeGenerator('2/2', 'h', { ...result, phases: [{ scheduled: 100, started: 95, dropped: 0 }] } as unknown as RunResult).state, 'ok', 'within 5%');
  const [v] = generatorVerdicts({ generators: [summarizeGenerator('1/2', 'h pid 1', undefined, 'exit 1'), behind] } as unknown as RunResult);
  t.match(v, { ok: false, measured: /generator 1\/2 \(h pid 1\) failed: exit 1; generator 2\/2 \(host pid 2\) fell behind: started 94 of 100 journeys \(94\.0%, 6 dropped\)/ });
  t.same(generatorVerdicts({ generators: undefined } as unknown as RunResult), [], 'one process: no generator verdict');
  t.end();
});
