// The preflight in plays, against the AWS fakes: a deploy runs it first and stops before any
// change on an error-level finding (offline or online), --skip-preflight deploys without it and
// says so under the recap, and ./playbooks/preflight.mjs's play runs every check and changes nothing.
import t, { type Test } from 'tap';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimulatePrincipalPolicyCommand } from '@aws-sdk/client-iam';
import { parseEnvironment } from '../../environment/index.js';
import { inventory, stackSource } from '../fixtures/aws-play.js';
import { awsError } from './fake-aws.js';
import { awsPlayFiles, healthyWorld, run, type World } from './harness.js';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';

const { root, site } = await awsPlayFiles(t);
let w: World;
t.beforeEach(() => {
  w = healthyWorld(site.url);
});
t.afterEach(() => w.restore());

/** The fixture inventory (staging as `test`) with settings changed (undefined: removed). */
const inventoryWith = (...edits: Array<[(string | number)[], unknown]>) => {
  const doc = parseDocument(readFileSync(fileURLToPath(new URL('../../playbooks/inventories/staging.yaml', import.meta.url)), 'utf8'));
  for (const [path, value] of edits) {
    if (value === undefined) doc.deleteIn(path);
    else doc.setIn(path, value);
  }
  return parseEnvironment(doc.toString(), 'test.yaml', { overrides: { environment: 'test', 'services.catalog.scaling.desired': '2' } });
};
const env = (inv = inventory) => ({ inventory: inv, source: stackSource(), root });
const exitCode = (t: Test, r: { code: number; text: string }, code: number) => {
  if (r.code !== code) t.comment(r.text);
  t.equal(r.code, code, `exit code ${code}`);
};

t.test('deploy runs the preflight first: an offline error stops it before the credentials check and any change', async (t) => {
  // A Spot mix with an x86 type beside the group's Graviton one (a warm pool cannot go with Spot).
  const bad = inventoryWith(
    [['services', 'users', 'spot'], { onDemandBase: 1, onDemandPercentageAboveBase: 0, instanceTypes: ['t4g.small', 'm7i.large'] }],
    [['services', 'users', 'scaling', 'warmPool'], undefined],
  );
  const r = await run('deploy', ['-i', 'test.yaml', '--yes'], env(bad));
  exitCode(t, r, 2);
  t.match(r.text, /failed: \[preflight architecture\] 1 error[^\n]*\n {4}error architecture: services\.users\.spot\.instanceTypes\[1\]: m7i\.large is x86_64.*\n {6}fix: replace m7i\.large/);
  t.match(r.text, /ok: \[preflight database connections\]/, 'the other checks ran beside it');
  t.notMatch(r.text, /\[aws credentials\]/, 'nothing after the preflight ran');
  t.same(w.mutations(), [], 'nothing changed');
});

t.test('deploy: an online error (a vCPU quota below the fleet at max) stops it before any change', async (t) => {
  w.preflight.quota.set('L-1216C47A', 8);
  const r = await run('deploy', ['-i', 'test.yaml', '--yes'], env());
  exitCode(t, r, 2);
  t.match(r.text, /ok: \[aws credentials\]/);
  t.match(r.text, /failed: \[preflight quotas\] \d+ errors?[^\n]*\n {4}error quotas: ec2 quota L-1216C47A: On-Demand Standard \(A, C, D, H, I, M, R, T, Z\) vCPUs: every group at max the groups need \d+, the account's quota is 8/);
  t.match(r.text, /fix: request an increase of "Running On-Demand Standard/);
  t.notMatch(r.text, /\[render templates\]|\[stack /, 'no stack task ran');
  t.same(w.mutations(), [], 'nothing changed');
});

t.test('deploy without findings: the preflight tasks pass and the deploy goes on, the duration estimate before the stacks', async (t) => {
  const r = await run('deploy', ['-i', 'test.yaml', '--yes'], env());
  exitCode(t, r, 0);
  const at = (s: string) => r.text.indexOf(s);
  for (const check of ['certificates', 'architecture', 'scaling', 'database connections', 'capacity', 'quotas', 'offerings', 'live certificates', 'names', 'permissions', 'duration']) {
    t.match(r.text, new RegExp(`ok: \\[preflight ${check}\\]`), `${check} ran`);
  }
  t.ok(at('[preflight duration]') < at('[stack network]'), 'the estimate comes before any stack');
  t.match(r.text, /a first deploy takes about \d+ min/);
});

t.test('--skip-preflight deploys without it and says so under the recap', async (t) => {
  w.preflight.quota.set('L-1216C47A', 8);
  const json = join(tmpdir(), `saleday-skip-${process.pid}.json`);
  t.teardown(() => rm(json, { force: true }));
  const r = await run('deploy', ['-i', 'test.yaml', '--yes', '--skip-preflight', '--json', json], env());
  exitCode(t, r, 0);
  t.notMatch(r.text, /\[preflight /, 'no preflight task');
  const recap = r.text.slice(r.text.indexOf('PLAY RECAP'));
  t.match(recap, /\n!!! PREFLIGHT SKIPPED \(--skip-preflight\): certificates, architectures, scaling, the database connection budget, quotas, names and permissions were not checked/);
  const record = JSON.parse(await readFile(json, 'utf8')) as { warnings: string[] };
  t.match(record.warnings, [/PREFLIGHT SKIPPED/]);
  const other = await run('preflight', ['-i', 'test.yaml', '--skip-preflight'], env());
  t.equal(other.code, 1, 'only deploy takes --skip-preflight');
  t.match(other.errors.join('\n'), /Unknown option '--skip-preflight'/);
});

t.test('the preflight play: every check, nothing changed; permissions not checkable is a warning', async (t) => {
  w.preflight.iam.on(SimulatePrincipalPolicyCommand).rejects(awsError('AccessDenied', 'not authorized to perform iam:SimulatePrincipalPolicy', 403));
  const r = await run('preflight', ['-i', 'test.yaml'], env());
  exitCode(t, r, 0);
  t.match(r.text, /warning: permissions: permissions: not checked: arn:aws:iam::123456789012:user\/tester may not simulate its own policies \(iam:SimulatePrincipalPolicy\)/);
  t.match(r.text, /ok: \[preflight names\] s3:\/\/saleday-artifacts-123456789012-eu-west-1: free/);
  t.match(r.text, /ok: \[preflight quotas\] On-Demand vCPUs \(Standard \(A, C, D, H, I, M, R, T, Z\)\), every group at max: users 3×2 \+ catalog 4×2 \+ inventory 4×2 \+ orders 4×2 = 30 of 10000/);
  t.same(w.mutations(), [], 'nothing changed');
  const offline = await run('preflight', ['-i', 'test.yaml', '--offline'], env());
  exitCode(t, offline, 0);
  t.match(offline.text, /skipped: \[preflight online\] --offline/);
  t.notMatch(offline.text, /\[aws credentials\]/);
});

t.test('the preflight play: denied permissions are an error naming the actions', async (t) => {
  w.preflight.iam.on(SimulatePrincipalPolicyCommand).callsFake((i: { ActionNames: string[] }) => ({
    EvaluationResults: i.ActionNames.map((a) => ({ EvalActionName: a, EvalDecision: a.startsWith('rds:') ? 'implicitDeny' : 'allowed' })),
  }));
  const r = await run('preflight', ['-i', 'test.yaml'], env());
  exitCode(t, r, 2);
  t.match(r.text, /error permissions: arn:aws:iam::123456789012:user\/tester: its policies deny rds:CreateDBInstance, which the deploy needs/);
});
