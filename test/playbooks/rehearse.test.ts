// The rehearsal's flow (playbooks/lib/plays/rehearse.ts) with a stand-in target and a scripted
// harness: deploy → load → teardown, teardown also after a failed load, --keep, the refusal of
// a protected environment before anything is deployed, the verdict and cost under the recap.
// The whole flow on the real local target is test/e2e/rehearse-local.test.ts.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { loadEnvironment, type Environment } from '../../environment/index.js';
import { parseCli } from '../../playbooks/lib/cli.js';
import { localApis } from '../../playbooks/lib/local/local-apis.js';
import { formatInstanceHours, instanceHours } from '../../playbooks/lib/modules/instance-hours.js';
import { loadArgs, type LoadRunApi } from '../../playbooks/lib/modules/load-run.js';
import { rehearsal } from '../../playbooks/lib/plays/rehearse.js';
import { runPlay } from '../../playbooks/lib/runner.js';
import type { StackSource } from '../../playbooks/lib/stack-source.js';
import { ROOT } from '../helpers/processes.js';
import { capturedOutput } from './support.js';

const dir = await mkdtemp(join(tmpdir(), 'saleday-rehearse-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const local = await loadEnvironment(join(ROOT, 'playbooks/inventories/local.yaml'), { overrides: {} });

/** The harness as a script: a result.json with two services' samples, and the lines run.mjs prints. */
function scriptedLoad(code: 0 | 99, calls: string[][]): LoadRunApi {
  return {
    run: async (args, onLine) => {
      calls.push(args);
      onLine('phase steady: 4 journeys/s for 00:20');
      const file = join(dir, `result-${calls.length}.json`);
      const samples = [0, 1800, 3600].map((t, i) => ({ t, services: { users: { inService: 1 + i, desired: 1, min: 1, max: 3 }, catalog: { inService: 2, desired: 2, min: 2, max: 2 } } }));
      await writeFile(file, JSON.stringify({ fleet: { samples } }));
      const verdict = code === 0 ? 'PASS (2 thresholds)' : 'FAIL (1 of 2 failed)';
      return { code, stdout: `\nverdict: ${verdict}\n  ✓ p95 ≤ 2.00 s: p95 3 ms\n${code ? '  ✗ error rate ≤ 1.00%: 9%  [thresholds[0]]\n' : ''}  generator 1/2 (vm pid 1): ok, 5/5 journeys, 1.0 req/s, 0 errors\nresult: ${file}\nreport: ${file.replace(/\.json$/, '.html')}\n` };
    },
  };
}

async function rehearse(argv: string[], opts: { code?: 0 | 99; inventory?: Environment } = {}) {
  const steps: string[] = [];
  const calls: string[][] = [];
  const { output, out } = capturedOutput();
  const options = parseCli(argv, 'rehearse');
  const target = { deploy: () => Promise.resolve(void steps.push('deploy')), destroy: () => Promise.resolve(void steps.push('destroy')) };
  const code = await runPlay({ playbook: 'rehearse', title: 'rehearse local', options, output }, (play) =>
    rehearsal(target, { load: scriptedLoad(opts.code ?? 0, calls) })({
      play,
      environment: opts.inventory ?? local,
      inventoryFile: 'inv.yaml',
      stacks: {} as StackSource,
      root: ROOT,
      rotate: [],
      now: new Date('2026-12-01T00:00:00Z'),
    }),
  );
  return { code, steps, calls, text: out.text };
}

t.test('deploy, load, teardown; the verdict and the cost under the recap', async (t) => {
  const r = await rehearse(['--profile', 'p.yaml', '--generators', '2', '--yes', '--results', dir]);
  t.equal(r.code, 0, r.text);
  t.same(r.steps, ['deploy', 'destroy']);
  t.same(r.calls[0]!.slice(1), ['--profile', join(process.cwd(), 'p.yaml'), '--target', 'local', '--out', dir, '--run-id', 'rehearsal-local-2026-12-01T00-00-00-000Z', '--state-dir', localApis(ROOT).dir, '--generators', '2']);
  t.match(r.text, /\[load\] phase steady/);
  t.match(r.text, /ok: \[load\] PASS \(2 thresholds\); report .*\n\s+generator 1\/2 \(vm pid 1\)/);
  // users: 1 for 0.5 h, 2 for 0.5 h; catalog: 2 for 1 h
  t.match(r.text, /PLAY RECAP[\s\S]*\nrehearsal: PASS \(2 thresholds\) · cost 3\.500 instance-hours \(users 1\.500, catalog 2\.000\) from 3 fleet samples over 3600 s of load \(local workers\)\nrehearsal report: .*result-1\.html/);
});

t.test('a failed load still tears the environment down, and fails the run', async (t) => {
  const r = await rehearse(['--profile', 'p.yaml', '--yes'], { code: 99 });
  t.equal(r.code, 2);
  t.same(r.steps, ['deploy', 'destroy']);
  t.match(r.text, /failed: \[load\] FAIL \(1 of 2 failed\); report .*\n\s+✗ error rate ≤ 1\.00%: 9%/);
  t.match(r.text, /rehearsal: FAIL \(1 of 2 failed\) · cost/);
  t.notOk(r.calls[0]!.includes('--generators'), 'without --generators the harness picks its default');
});

t.test('--keep leaves the environment up and says how to tear it down', async (t) => {
  const r = await rehearse(['--profile', 'p.yaml', '--keep']);
  t.same(r.steps, ['deploy']);
  t.match(r.text, /rehearsal: local stays up \(--keep\): \.\/playbooks\/destroy\.mjs -i inv\.yaml tears it down/);
});

t.test('a protected environment is refused before anything is deployed, as destroy refuses it', async (t) => {
  const prot = { ...local, database: { ...local.database, deletionProtection: true } } as Environment;
  const refused = await rehearse(['--profile', 'p.yaml', '--yes'], { inventory: prot });
  t.equal(refused.code, 2);
  t.same(refused.steps, [], 'nothing deployed, nothing destroyed');
  t.match(refused.text, /deletionProtection: true and a rehearsal ends by destroying local: re-run with --keep to leave it up, or with --allow-destroy local/);
  const wrong = await rehearse(['--profile', 'p.yaml', '--allow-destroy', 'production'], { inventory: prot });
  t.match(wrong.text, /--allow-destroy production does not name this inventory's environment \(local\): nothing deployed/);
  t.same(wrong.steps, []);
  t.same((await rehearse(['--profile', 'p.yaml', '--allow-destroy', 'local', '--yes'], { inventory: prot })).steps, ['deploy', 'destroy']);
  t.same((await rehearse(['--profile', 'p.yaml', '--keep'], { inventory: prot })).steps, ['deploy']);
});

t.test('the command line says what to type', (t) => {
  t.throws(() => parseCli([], 'rehearse'), { message: /rehearse needs --profile <load profile>/ });
  t.throws(() => parseCli(['--profile', 'p.yaml', '--generators', 'lots'], 'rehearse'), { message: /--generators expects a whole number ≥ 1/ });
  t.throws(() => parseCli(['--keep'], 'deploy'), { message: /Unknown option '--keep'; see --help/ });
  t.same(loadArgs({ root: '/r', profile: '/p.yaml', target: 'inv.yaml', outDir: '/o', runId: 'x', url: 'https://shop' }).slice(1), ['--profile', '/p.yaml', '--target', 'inv.yaml', '--out', '/o', '--run-id', 'x', '--url', 'https://shop']);
  t.same(
    loadArgs({ root: '/r', profile: '/p.yaml', target: 'inv.yaml', outDir: '/o', runId: 'x', generators: '4', generatorsOn: { aws: 'inv.yaml' } }).slice(1),
    ['--profile', '/p.yaml', '--target', 'inv.yaml', '--out', '/o', '--run-id', 'x', '--generators', '4', '--on', 'aws', '-i', 'inv.yaml', '--yes'],
    'an AWS rehearsal loads from generators on AWS',
  );
  t.end();
});

t.test('instance-hours from fleet samples', (t) => {
  t.same(instanceHours([]), { total: 0, byService: {}, spanS: 0, samples: 0 });
  const h = instanceHours([{ t: 7200, services: { a: { inService: 9 } } }, { t: 0, services: { a: { inService: 1 } } }, { t: 3600, services: { a: { inService: 3 } } }]);
  t.same(h, { total: 4, byService: { a: 4 }, spanS: 7200, samples: 3 }, 'each sample counts until the next, in time order');
  t.equal(formatInstanceHours(h), '4.000 instance-hours (a 4.000) from 3 fleet samples over 7200 s of load');
  t.end();
});

t.test('an AWS environment is loaded from generators on AWS (its loadgen stack), not from this machine', async (t) => {
  const staging = await loadEnvironment(join(ROOT, 'playbooks/inventories/staging.yaml'), { overrides: {} });
  const r = await rehearse(['--profile', 'p.yaml', '--generators', '3', '--keep', '--yes'], { inventory: staging });
  t.equal(r.code, 0, r.text);
  t.same(r.steps, ['deploy'], '--keep: deployed, not destroyed');
  t.match(r.calls[0]!.join(' '), / --generators 3 --on aws -i inv\.yaml --yes$/);
  t.notOk(r.calls[0]!.includes('--state-dir'), 'no local state');
});
