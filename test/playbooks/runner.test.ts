// The runner and the command line: statuses, PLAY RECAP, exit codes 0/1/2/3, tags and --limit,
// the --json record, the live status line on a terminal, and usage errors that say what to do.
import t from 'tap';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Finding } from '../../cloudformation/index.js';
import { parseCli } from '../../playbooks/lib/cli.js';
import { UsageError } from '../../playbooks/lib/errors.js';
import { runPlay, changed, ok, skipped, type Play } from '../../playbooks/lib/runner.js';
import type { StackSource } from '../../playbooks/lib/stack-source.js';
import { networkTemplate } from '../fixtures/stack-templates.js';
import { capturedOutput, options } from './support.js';

const play4 = async (play: Play): Promise<void> => {
  await play.task({ name: 'first', tags: ['a'], run: () => Promise.resolve(ok('fine')) });
  await play.task({ name: 'second', tags: ['b'], service: 'catalog', run: () => Promise.resolve(changed('did it', { Out: 'x' })) });
  await play.parallel([
    { name: 'third', tags: ['a'], service: 'users', run: () => Promise.resolve(skipped('nothing to do')) },
    { name: 'fourth', tags: ['b'], run: (ctx) => (ctx.progress('halfway'), Promise.resolve(ok())) },
  ]);
};

t.test('one line per task, a PLAY RECAP, exit 0', async (t) => {
  const { output, out } = capturedOutput();
  const code = await runPlay({ playbook: 'test', title: 'demo', options: options([]), output }, play4);
  t.equal(code, 0);
  t.match(out.text, /^PLAY \[demo\]/);
  t.match(out.text, /ok: \[first\] fine\nchanged: \[second\] did it\n/);
  t.match(out.text, /\[fourth\] halfway/);
  t.match(out.text, /PLAY RECAP \*+\ndemo {2}ok=2 {2}changed=1 {2}skipped=1 {2}failed=0/);
});

t.test('a failed task stops the play: exit 2, the reason shown, later tasks not run', async (t) => {
  const { output, out } = capturedOutput();
  let after = false;
  const code = await runPlay({ playbook: 'test', title: 'demo', options: options([]), output }, async (play) => {
    await play.task({ name: 'breaks', run: () => Promise.reject(new Error('the reason\nsecond line')) });
    after = true;
  });
  t.equal(code, 2);
  t.notOk(after);
  t.match(out.text, /failed: \[breaks\] the reason\n {4}second line/);
  t.notMatch(out.text, /at .*runner/, 'no stack trace without -v');
  const verbose = capturedOutput();
  await runPlay({ playbook: 'test', title: 'demo', options: options(['-v']), output: verbose.output }, async (play) => {
    await play.task({ name: 'breaks', run: () => Promise.reject(new Error('boom')) });
  });
  t.match(verbose.out.text, /Error: boom\n +at /, '-v shows the stack trace');
});

t.test('--check with --detailed-exitcode: 3 when something would change, 0 when not', async (t) => {
  t.equal(await runPlay({ playbook: 't', title: 't', options: options(['--check', '--detailed-exitcode']), output: capturedOutput().output }, play4), 3);
  t.equal(
    await runPlay({ playbook: 't', title: 't', options: options(['--check', '--detailed-exitcode']), output: capturedOutput().output }, async (p) => {
      await p.task({ name: 'x', run: () => Promise.resolve(ok()) });
    }),
    0,
  );
});

t.test('--tags, --skip-tags and --limit select tasks', async (t) => {
  const { output, out } = capturedOutput();
  await runPlay({ playbook: 't', title: 't', options: options(['--tags', 'a']), output }, play4);
  t.match(out.text, /skipped: \[second\] no tag in --tags a/);
  t.match(out.text, /ok: \[first\] fine/);
  const skip = capturedOutput();
  await runPlay({ playbook: 't', title: 't', options: options(['--skip-tags', 'a,b']), output: skip.output }, play4);
  t.match(skip.out.text, /skipped: \[first\] tagged a \(--skip-tags\)/);
  const limit = capturedOutput();
  await runPlay({ playbook: 't', title: 't', options: options(['--limit', 'catalog']), output: limit.output }, play4);
  t.match(limit.out.text, /changed: \[second\] did it/);
  t.match(limit.out.text, /skipped: \[third\] not in --limit catalog/);
  t.match(limit.out.text, /ok: \[first\] fine/, 'tasks of no service still run');
});

t.test('--json writes a record of the run', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'saleday-json-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'sub/run.json');
  const code = await runPlay({ playbook: 'deploy', title: 'demo', options: options(['--json', file]), output: capturedOutput().output }, play4);
  const rec = JSON.parse(await readFile(file, 'utf8')) as { exitCode: number; recap: unknown; tasks: Array<{ name: string; status: string; data?: unknown }> };
  t.equal(rec.exitCode, code);
  t.same(rec.recap, { ok: 2, changed: 1, skipped: 1, failed: 0 });
  t.same(rec.tasks.map((x) => `${x.name}:${x.status}`), ['first:ok', 'second:changed', 'third:skipped', 'fourth:ok']);
  t.same(rec.tasks[1]!.data, { Out: 'x' });
});

t.test('on a terminal: a live status line names running tasks, and colours', async (t) => {
  const { output, out } = capturedOutput({ tty: true });
  await runPlay({ playbook: 't', title: 't', options: options([]), output }, async (play) => {
    await play.task({ name: 'slow one', run: (ctx) => (ctx.progress('working'), Promise.resolve(ok())) });
  });
  t.match(out.text, /… slow one \(\d+ms\)/);
  const ESC = String.fromCharCode(27);
  t.ok(out.text.includes(`\r${ESC}[2K`), 'the status line is cleared before permanent lines');
  t.ok(out.text.includes(`${ESC}[32mok:${ESC}[39m [slow one]`), 'coloured status');
});

t.test('the command line', (t) => {
  const o = parseCli(['-i', 'inv.yaml', '--check', '--diff', '--tags', 'a,b', '--tags', 'c', '-e', 'region=eu-central-1', '-e', 'x.y=1=2', '--allow-replace', 'Database', '--json', 'r.json', '-v', '--keep-change-sets']);
  t.equal(o.inventory, 'inv.yaml');
  t.same(o.tags, ['a', 'b', 'c']);
  t.same(o.extraVars, { region: 'eu-central-1', 'x.y': '1=2' });
  t.same(o.allowReplace, ['Database']);
  t.ok(o.verbose && o.check && o.diff && o.keepChangeSets);
  const bad: Array<[string[], RegExp]> = [
    [['--nope'], /Unknown option '--nope'; see --help/],
    [['-e', 'novalue'], /-e expects key=value/],
    [['--keep-change-sets'], /--keep-change-sets goes with --check/],
    [['--execute-reviewed', '--check'], /cannot go with --check/],
    [['--limit', 'Bad Name'], /--limit expects a service name/],
    [['stray'], /Unexpected argument 'stray'|positional/i],
  ];
  for (const [argv, msg] of bad) t.throws(() => parseCli(argv), { name: 'UsageError', message: msg }, argv.join(' '));
  t.ok(new UsageError('x') instanceof Error);
  t.end();
});

t.test('render, validate, write: invalid templates stop the play before anything is written', async (t) => {
  const { templateTasks } = await import('../../playbooks/lib/plays/template-tasks.js');
  let writes = 0;
  const source = (findings: Finding[]): StackSource => ({
    render: () => [{ name: 'network', stackName: 'x-network', template: networkTemplate(), inputs: {} }],
    validate: () => Promise.resolve(findings),
    write: () => {
      writes++;
      return Promise.resolve({ dir: 'build/cloudformation/x', files: [{ file: 'network.yaml', path: 'build/cloudformation/x/network.yaml', status: 'changed', bytes: 100, resources: 1 }] });
    },
  });
  const bad = capturedOutput();
  const code = await runPlay({ playbook: 't', title: 't', options: options([]), output: bad.output }, async (play) => {
    await templateTasks(play, source([{ severity: 'error', stack: 'network', rule: 'EC2_SG_OPEN', path: '', message: 'ingress from 0.0.0.0/0 on 22' }]));
  });
  t.equal(code, 2);
  t.match(bad.out.text, /failed: \[validate templates\] 1 template error:\n {4}network: EC2_SG_OPEN: ingress from 0\.0\.0\.0\/0 on 22/);
  t.equal(writes, 0, 'nothing written');
  const good = capturedOutput();
  await runPlay({ playbook: 't', title: 't', options: options([]), output: good.output }, async (play) => {
    await templateTasks(play, source([{ severity: 'warning', stack: 'network', rule: 'W1', path: '', message: 'consider' }]));
  });
  t.match(good.out.text, /\[validate templates\] warning network: W1: consider\nok: \[validate templates\] 1 templates valid \(1 warnings\)\nchanged: \[write templates\] 1 files written/);
});
