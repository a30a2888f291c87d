// The load harness in CI against the real local target: deploy the shop, run the shipped smoke
// profile through ./loadtest/run.mjs as a user would, and expect every threshold to hold (exit 0),
// the oversell check included; then a copy of it with an impossible threshold exits 99 naming it.
import t from 'tap';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers/processes.js';
import { runCli } from '../loadtest/helpers.js';
import { expectExit, localShop } from '../helpers/local-shop.js';

t.setTimeout(400_000);

const shop = await localShop(t);
const out = await mkdtemp(join(tmpdir(), 'saleday-loadtest-'));
t.teardown(() => rm(out, { recursive: true, force: true }));

const harness = (args: string[]) => runCli([...args, '--target', 'local', '--state-dir', shop.dir, '--out', out, '--quiet'], { NODE_NO_WARNINGS: '1' });

t.test('deploy', async (t) => {
  expectExit(t, await shop.playbook('deploy', ['--skip-tags', 'render']), 0, 'deploy');
});

t.test('smoke.yaml passes against the local target', async (t) => {
  const r = await harness(['--profile', 'loadtest/profiles/smoke.yaml']);
  t.equal(r.code, 0, `every threshold holds\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-1000)}`);
  const runs = await readdir(out);
  t.equal(runs.length, 1);
  const result = JSON.parse(await readFile(join(out, runs[0]!, 'result.json'), 'utf8'));
  t.ok(JSON.stringify(result).includes('oversell'), 'the oversell check ran');
  t.ok((await readFile(join(out, runs[0]!, 'report.html'), 'utf8')).length > 1000, 'report.html was written');
});

t.test('an impossible threshold exits 99 and is named', async (t) => {
  const profile = (await readFile(join(ROOT, 'loadtest/profiles/smoke.yaml'), 'utf8'))
    .replace(/phases:[\s\S]*?\n\n/, 'phases:\n  - { name: steady, duration: 5s, rate: 2 }\n\n')
    .replace('thresholds:\n', 'thresholds:\n  - { metric: p99, max: 0.001ms }\n');
  const file = join(out, 'impossible.yaml');
  await writeFile(file, profile);
  const r = await harness(['--profile', file]);
  t.equal(r.code, 99, r.stdout.slice(-2000));
  t.match(r.stdout, /FAIL/);
  t.match(r.stdout + r.stderr, /p99 ≤ [^\n]*: p99 /, 'the failing threshold is named with its measured value');
});
