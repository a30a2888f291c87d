// Determinism (the same inventory gives the same bytes, run after run and process after process)
// and ./playbooks/render.mjs end to end, a playbook like the others: files, ok/changed, stale files,
// sale events placed against the run time (-e now=), and one-line errors.
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { isNode, parse, parseDocument, visit } from 'yaml';
import { loadEnvironment } from '../../environment/index.js';
import { renderEnvironment } from '../../cloudformation/index.js';
import { inventoryFile, repoFile } from './fixtures.js';

const exec = promisify(execFile);
const out = await mkdtemp(join(tmpdir(), 'saleday-render-'));
t.teardown(() => rm(out, { recursive: true, force: true }));

interface Run { code: number; stdout: string; stderr: string }
async function render(...args: string[]): Promise<Run> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [repoFile('playbooks/render.mjs'), ...args], { cwd: repoFile('.'), env: { ...process.env, FORCE_COLOR: '0' } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

t.test('rendering is pure: twice from one inventory, and from two loads, the same bytes', async (t) => {
  for (const env of ['production', 'staging', 'local']) {
    const inv = await loadEnvironment(inventoryFile(env));
    const first = renderEnvironment(inv).map((f) => [f.file, f.body]);
    const second = renderEnvironment(inv).map((f) => [f.file, f.body]);
    const reloaded = renderEnvironment(await loadEnvironment(inventoryFile(env))).map((f) => [f.file, f.body]);
    t.same(second, first, `${env}: twice`);
    t.same(reloaded, first, `${env}: after loading again`);
    t.ok(Object.isFrozen(inv.services.orders.scaling), `${env}: the inventory cannot be changed by a renderer`);
  }
});

t.test('the YAML reads back as the template object, with YAML 1.1-safe scalars', async (t) => {
  const inv = await loadEnvironment(inventoryFile('production'));
  for (const f of renderEnvironment(inv)) {
    t.same(parse(f.body, { version: '1.1' }), JSON.parse(JSON.stringify(f.stack.template)), `${f.file}: round trip (YAML 1.1)`);
    t.same(parse(f.body), JSON.parse(JSON.stringify(f.stack.template)), `${f.file}: round trip (YAML 1.2)`);
    t.match(f.body, /^AWSTemplateFormatVersion: "2010-09-09"$/m, `${f.file}: the version stays a string`);
    let shared = 0;
    visit(parseDocument(f.body), (_, node) => {
      if (isNode(node) && ((node as { anchor?: string }).anchor || node.constructor.name === 'Alias')) shared++;
    });
    t.equal(shared, 0, `${f.file}: no anchors or aliases`);
  }
});

t.test('render.mjs writes every stack, a service stack per service, the same bytes every run', async (t) => {
  const first = await render('-i', inventoryFile('staging'), '-o', out);
  t.equal(first.code, 0, first.stderr);
  const dir = join(out, 'staging');
  const files = (await readdir(dir)).sort();
  t.same(files, ['bootstrap.yaml', 'cache.yaml', 'database.yaml', 'load-balancer.yaml', 'loadgen.yaml', 'monitoring.yaml', 'network.yaml', 'service-catalog.yaml', 'service-inventory.yaml', 'service-orders.yaml', 'service-users.yaml', 'static-site.yaml']);
  t.match(first.stdout, /^PLAY \[render staging · aws eu-west-1\]/);
  t.match(first.stdout, /^ +changed .*service-catalog\.yaml \(\d+ resources/m);
  t.match(first.stdout, /ok: \[render templates\] 12 stacks rendered( \(\d+s\))?\n/);
  t.match(first.stdout, /changed: \[write templates\] 12 files written under /);
  t.match(first.stdout, /PLAY RECAP/);
  const bytes = await Promise.all(files.map((f) => readFile(join(dir, f))));

  const second = await render('-i', inventoryFile('staging'), '-o', out);
  t.equal(second.code, 0);
  t.match(second.stdout, /ok: \[write templates\] files unchanged/, 'a second run changes nothing');
  t.match(second.stdout, /changed=0 {2}skipped=1 {2}failed=0/);
  t.notMatch(second.stdout, /^ *changed/m);
  const again = await Promise.all(files.map((f) => readFile(join(dir, f))));
  t.ok(again.every((b, i) => b.equals(bytes[i]!)), 'byte-identical');

  // render.mjs renders for the clock's time (sale events are placed against it).
  const expected = renderEnvironment(await loadEnvironment(inventoryFile('staging')), { now: new Date() });
  for (const f of expected) t.equal(await readFile(join(dir, f.file), 'utf8'), f.body, `${f.file}: what renderEnvironment returns for now`);
});

t.test('render.mjs: overrides, changed files and stale files', async (t) => {
  await writeFile(join(out, 'staging', 'old-stack.yaml'), 'stale');
  const run = await render('-i', inventoryFile('staging'), '-o', out, '-e', 'services.orders.scaling.max=6');
  t.equal(run.code, 0, run.stderr);
  t.match(run.stdout, /^ +changed .*service-orders\.yaml/m);
  t.match(run.stdout, /^ +ok +.*service-catalog\.yaml/m);
  t.match(run.stdout, /^ +removed .*old-stack\.yaml/m);
  t.match(run.stdout, /changed: \[write templates\] 1 files written, 1 removed under /);
  t.match(await readFile(join(out, 'staging', 'service-orders.yaml'), 'utf8'), /MaxSize: "6"/);
});

t.test('render.mjs places sale events against the run time: over left out, under way kept to its end, with warnings', async (t) => {
  const events = join(out, 'events');
  const run = await render('-i', inventoryFile('production'), '-o', events, '-e', 'now=2026-11-27T12:00:00Z');
  t.equal(run.code, 0, run.stderr);
  t.notMatch(run.stdout, /warning: sale event black-friday-2026 ended/);
  t.match(run.stdout, /^warning: sale event black-friday-2026 is under way until 2026-11-28T23:00:00Z: its floor is raised now and lowered at the end; the pre-warm action is left out$/m);
  const orders = await readFile(join(events, 'production', 'service-orders.yaml'), 'utf8');
  t.notMatch(orders, /PrewarmBlackFriday2026:/, 'no pre-warm action in the past');
  t.match(orders, /RestoreBlackFriday2026:/, 'the floor is lowered at the end');
  t.match(orders, /PrewarmCyberMonday2026:/, 'the next event is ahead');

  const later = await render('-i', inventoryFile('staging'), '-o', events, '-e', 'now=2026-12-01T00:00:00Z');
  t.equal(later.code, 0, later.stderr);
  t.match(later.stdout, /^warning: sale event black-friday-2026-rehearsal ended at 2026-11-24T12:00:00Z: left out of the templates; remove it from the inventory$/m);
  t.notMatch(await readFile(join(events, 'staging', 'service-orders.yaml'), 'utf8'), /BlackFriday2026Rehearsal/, 'an event that is over is left out');
  t.equal(later.stderr, '', 'a warning is part of the play, not an error');

  const bad = await render('-i', inventoryFile('staging'), '-o', events, '-e', 'now=yesterday');
  t.equal(bad.code, 1);
  t.match(bad.stderr, /^error: -e now=yesterday: expected an ISO 8601 UTC time such as 2026-12-01T00:00:00Z\n$/);
});

t.test('render.mjs defaults to production and validates on request', async (t) => {
  const run = await render('-o', out, '--validate');
  t.equal(run.code, 0, run.stderr);
  t.match(run.stdout, /^PLAY \[render production · aws eu-west-1\]/);
  t.match(run.stdout, /ok: \[validate templates\] 12 templates valid( \(\d+s\))?\n/);
  t.match(run.stdout, /changed: \[write templates\] 12 files written under /);
  t.same((await readdir(join(out, 'production'))).length, 12);
});

t.test('render.mjs refuses bad input with one line and exit 1', async (t) => {
  const cases: Array<[string, string[], RegExp]> = [
    ['unknown flag', ['--inventroy', 'x'], /^error: Unknown option '--inventroy'; see --help\n$/],
    ['stray argument', ['staging'], /^error: Unexpected argument 'staging'; see --help\n$/],
    ['missing value', ['-i'], /^error: Option '-i\b.* argument (missing|is ambiguous); see --help\n$/],
    ['bad -e', ['-e', 'services.orders.scaling.max'], /^error: -e expects key=value/],
    ['missing inventory', ['-i', 'playbooks/inventories/nowhere.yaml'], /^error: playbooks\/inventories\/nowhere\.yaml: no such file/],
    ['bad override', ['-e', 'network.azCount=4'], /^error: .*production\.yaml: network\.azCount \(set with -e\): expected one of 2, 3, got 4\n$/],
  ];
  const runs = await Promise.all(cases.map(([, args]) => render(...args, '-o', out)));
  for (const [i, [name, , message]] of cases.entries()) {
    const run = runs[i]!;
    t.equal(run.code, 1, `${name}: exit 1`);
    t.match(run.stderr, message, `${name}: says what is wrong`);
    t.equal(run.stderr.trim().split('\n').length, 1, `${name}: one line`);
    t.notMatch(run.stderr, /\n\s+at /, `${name}: no stack trace`);
  }
  const bad = join(out, 'bad.yaml');
  await writeFile(bad, (await readFile(inventoryFile('staging'), 'utf8')).replace('azCount: 2', 'azCount: two'));
  const run = await render('-i', bad, '-o', out);
  t.equal(run.code, 1);
  t.match(run.stderr, new RegExp(`^error: ${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:\\d+: network\\.azCount: expected one of 2, 3, got "two"\\n$`));
  const help = await render('-h');
  t.equal(help.code, 0);
  t.match(help.stdout, /^usage: \.\/playbooks\/render\.mjs/);
  t.match(help.stdout, /default playbooks\/inventories\/production\.yaml/, '--help names the default inventory');
  t.match(help.stdout, /-o, --out <dir>/);
});
