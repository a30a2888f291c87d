// The deploy play's database bootstrap task against the in-process AWS fakes, with the rendered
// staging stacks: the bootstrap stack deploys first in its wave, its function is invoked
// (RequestResponse) before any service stack, and its report becomes one task per service; under
// --check it is invoked in check mode; a function error fails the task with its message and stops
// the deploy before the service stacks. The function's answers are scripted (the fakes cannot run
// Node in Lambda); the handler itself is tested as a plain function in bootstrap.test.ts.
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { loadEnvironment } from '../../environment/index.js';
import { invokeBootstrap, serviceOutcome } from '../../playbooks/lib/modules/database-bootstrap.js';
import { artifactRoot } from '../fixtures/aws-play.js';
import { publicSite, run, world } from './harness.js';
import { renderedStacks } from '../../playbooks/lib/stack-source.js';
import { runTask } from './support.js';

process.env.AWS_ACCESS_KEY_ID = 'AKIDEXAMPLE';
process.env.AWS_SECRET_ACCESS_KEY = 'not-a-real-secret';
delete process.env.AWS_ENDPOINT_URL;

const repo = fileURLToPath(new URL('../..', import.meta.url));
const inv = await loadEnvironment(`${repo}/playbooks/inventories/staging.yaml`);
const root = await artifactRoot();
const site = await publicSite();
t.teardown(async () => {
  site.server.close();
  await rm(root, { recursive: true, force: true });
});

const report = (check: boolean) => ({
  check,
  services: [
    { service: 'users', status: 'changed', did: [`${check ? 'would create database users' : 'database users created'}`, check ? 'would apply every migration' : '1 migration(s) applied'] },
    { service: 'catalog', status: 'ok', did: [] },
    { service: 'inventory', status: 'ok', did: [] },
    { service: 'orders', status: 'changed', did: [check ? 'would re-sync the password of orders from its secret' : 'password of orders re-synced from its secret'] },
  ],
});

/** Where a task line first appears in the output. */
const at = (text: string, line: RegExp) => text.search(line);

t.test('deploy: the bootstrap stack, then its function, then the service stacks; ok/changed per service', async (t) => {
  const w = world();
  t.teardown(() => w.restore());
  w.cfn.outputValues.set('SiteUrl', site.url);
  w.cfn.outputValues.set('FunctionName', 'saleday-staging-bootstrap');
  w.lambda.answers.push({ payload: report(false) });
  const r = await run('deploy', ['-i', 'staging.yaml', '--yes'], { inventory: inv, source: renderedStacks(inv, root), root });
  if (r.code !== 0) t.comment(r.text);
  t.equal(r.code, 0);
  t.same(w.lambda.invocations, [{ functionName: 'saleday-staging-bootstrap', payload: { check: false } }], 'invoked once, not in check mode');
  t.match(r.text, /changed: \[artifact bootstrap\] \w{12} uploaded \(.*\) to s3:\/\/.*\/artifacts\/bootstrap\/[0-9a-f]{64}\.zip/);
  t.match(r.text, /changed: \[database bootstrap\] changed users, orders\n/);
  t.match(r.text, /changed: \[bootstrap users\] database users created; 1 migration\(s\) applied\n/);
  t.match(r.text, /ok: \[bootstrap catalog\] database, user and schema up to date\n/);
  t.match(r.text, /changed: \[bootstrap orders\] password of orders re-synced from its secret\n/);
  const bootstrapStack = at(r.text, /changed: \[stack bootstrap\]/);
  const invoked = at(r.text, /\[database bootstrap\]/);
  t.ok(bootstrapStack > 0 && bootstrapStack < invoked, 'the function runs after its stack');
  for (const s of ['users', 'catalog', 'inventory', 'orders']) {
    t.ok(invoked < at(r.text, new RegExp(`\\[stack service-${s}\\] creating change set`)), `before service-${s}'s change set`);
  }
  t.ok(at(r.text, /changed: \[stack database\]/) < at(r.text, /\[stack bootstrap\] creating change set/), 'after the database');
  t.ok(at(r.text, /\[secret jwt\]/) < invoked, 'after the secrets');
  t.equal(w.cfn.find('saleday-staging-bootstrap')?.status, 'CREATE_COMPLETE', 'the bootstrap stack was deployed');
});

t.test('--check: invoked in check mode once the function exists, nothing else changed', async (t) => {
  const w = world();
  t.teardown(() => w.restore());
  w.cfn.outputValues.set('SiteUrl', site.url);
  w.cfn.outputValues.set('FunctionName', 'saleday-staging-bootstrap');
  const first = await run('deploy', ['-i', 'staging.yaml', '--check'], { inventory: inv, source: renderedStacks(inv, root), root });
  t.equal(first.code, 0);
  t.match(first.text, /skipped: \[database bootstrap\] the bootstrap function is not deployed yet/);
  t.same(w.lambda.invocations, [], 'nothing to invoke on a first --check');

  t.equal((await run('deploy', ['-i', 'staging.yaml', '--yes'], { inventory: inv, source: renderedStacks(inv, root), root })).code, 0);
  w.lambda.invocations.length = 0;
  w.lambda.answers.push({ payload: report(true) });
  const executed = () => w.mutations().filter((m) => !/:(CreateChangeSet|DeleteChangeSet) /.test(m));
  const before = executed();
  const r = await run('deploy', ['-i', 'staging.yaml', '--check'], { inventory: inv, source: renderedStacks(inv, root), root });
  if (r.code !== 0) t.comment(r.text);
  t.equal(r.code, 0);
  t.same(w.lambda.invocations, [{ functionName: 'saleday-staging-bootstrap', payload: { check: true } }], 'invoked in check mode');
  t.match(r.text, /ok: \[database bootstrap\] would change users, orders\n/);
  t.match(r.text, /changed: \[bootstrap users\] would create database users; would apply every migration\n/);
  t.match(r.text, /changed: \[bootstrap orders\] would re-sync the password of orders from its secret\n/);
  t.same(executed(), before, 'only review change sets, nothing executed');
});

t.test('a function error fails the task with its message and stops before the service stacks', async (t) => {
  const w = world();
  t.teardown(() => w.restore());
  w.cfn.outputValues.set('SiteUrl', site.url);
  w.cfn.outputValues.set('FunctionName', 'saleday-staging-bootstrap');
  w.lambda.answers.push({ functionError: 'Unhandled', payload: { errorType: 'BootstrapError', errorMessage: 'catalog: catalog migrate failed (exit code 1): duplicate column name', trace: [] } });
  const r = await run('deploy', ['-i', 'staging.yaml', '--yes'], { inventory: inv, source: renderedStacks(inv, root), root });
  t.equal(r.code, 2, 'a failed task');
  t.match(r.text, /failed: \[database bootstrap\] saleday-staging-bootstrap failed: catalog: catalog migrate failed \(exit code 1\): duplicate column name/);
  t.equal(at(r.text, /\[stack service-/), -1, 'no service stack was touched');
  t.notMatch(r.text, /\[bootstrap catalog\]/);
});

t.test('the module: errors Lambda itself reports, answers that are no report, per-service outcomes', async (t) => {
  const lambda = (payload: unknown, functionError?: string) => ({ invoke: () => Promise.resolve({ payload, functionError }) });
  const timedOut = await runTask([], (ctx) => invokeBootstrap({ functionName: 'f' }, lambda({ errorMessage: '2026-12-02T04:00:00.000Z abc Task timed out after 900.00 seconds' }, 'Unhandled'), ctx).then((r) => r.outcome));
  t.match(timedOut.outcome, { status: 'failed', message: 'f failed: 2026-12-02T04:00:00.000Z abc Task timed out after 900.00 seconds' });
  const notJson = await runTask([], (ctx) => invokeBootstrap({ functionName: 'f' }, lambda('Internal failure', 'Unhandled'), ctx).then((r) => r.outcome));
  t.match(notJson.outcome, { status: 'failed', message: 'f failed: Unhandled error: Internal failure' });
  const noReport = await runTask([], (ctx) => invokeBootstrap({ functionName: 'f' }, lambda({ hello: 1 }), ctx).then((r) => r.outcome));
  t.match(noReport.outcome, { status: 'failed', message: 'f answered without a bootstrap report: deploy the bootstrap stack again' });
  const missing = await runTask([], (ctx) => invokeBootstrap({ functionName: undefined }, lambda({}), ctx).then((r) => r.outcome));
  t.match(missing.outcome, { status: 'failed', message: /deploy the bootstrap stack first/ });
  t.match(serviceOutcome(undefined, 'users'), { status: 'skipped' });
  t.match(serviceOutcome({ check: false, services: [] }, 'users'), { status: 'skipped', message: /not in the bootstrap function's report/ });
});
