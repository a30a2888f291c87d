// destroy.mjs's aws play against the AWS fakes, for what the emulator cannot show: a protected
// environment refused without --allow-destroy (nothing deleted), a deletion that ends DELETE_FAILED
// reported with its root-cause event and the fix, and the order and review of a teardown.
// The happy path over HTTP is step g of test/emulator/deploy.test.ts.
import t, { type Test } from 'tap';
import type { Environment } from '../../environment/index.js';
import { inventory, stackSource, SERVICES } from '../fixtures/aws-play.js';
import { awsPlayFiles, healthyWorld, run, type World } from './harness.js';

const { root, site } = await awsPlayFiles(t);
let w: World;
t.beforeEach(() => {
  w = healthyWorld(site.url);
});
t.afterEach(() => w.restore());

const protectedInventory: Environment = { ...inventory, database: { ...inventory.database, deletionProtection: true } };
const env = (inv: Environment = inventory) => ({ inventory: inv, source: stackSource(), root });
const exitCode = (t: Test, r: { code: number; text: string; errors: string[] }, code: number) => {
  if (r.code !== code) t.comment(`${r.text}\n${r.errors.join('\n')}`);
  t.equal(r.code, code, `exit code ${code}`);
};
const liveStacks = (): string[] => [...w.cfn.stacks.values()].filter((s) => s.status !== 'DELETE_COMPLETE').map((s) => s.name).sort();

async function deployed(t: Test): Promise<void> {
  const r = await run('deploy', ['-i', 'test.yaml', '--yes'], env());
  exitCode(t, r, 0);
}

t.test('destroy deletes the stacks in reverse deploy order, then the secrets; a second run changes nothing', async (t) => {
  await deployed(t);
  const r = await run('destroy', ['-i', 'test.yaml', '--yes'], env());
  exitCode(t, r, 0);
  const deletes = w.cfn.calls().filter((c) => c.startsWith('DeleteStack ')).map((c) => w.cfn.find(c.split(' ')[1]!)!.name);
  t.equal(deletes[0], 'saleday-test-monitoring', 'monitoring first');
  t.same(deletes.slice(1, 6).sort(), [...SERVICES.map((s) => `saleday-test-service-${s}`), 'saleday-test-static-site'].sort(), 'then the services and the static site');
  t.same(deletes.slice(6, 8).sort(), ['saleday-test-database', 'saleday-test-load-balancer'], 'then the database and the load balancer');
  t.equal(deletes[8], 'saleday-test-network', 'the network last');
  t.same(liveStacks(), [], 'no stack left');
  t.same([...w.secrets.secrets.keys()], [], 'the secrets deploy made are gone');
  t.match(r.text, /AWS::S3::Bucket site-1 \(Site in saleday-test-static-site\): kept as it is/, 'the review names the retained bucket');

  const again = await run('destroy', ['-i', 'test.yaml', '--yes'], env());
  exitCode(t, again, 0);
  t.match(again.text, /changed=0/, 'changed=0');
});

t.test('a protected environment is refused without --allow-destroy naming it, and nothing is deleted', async (t) => {
  await deployed(t);
  const before = w.mutations().length;
  const refused = await run('destroy', ['-i', 'test.yaml', '--yes'], env(protectedInventory));
  exitCode(t, refused, 2);
  t.match(refused.text, /sets database\.deletionProtection: true.*re-run with --allow-destroy test\. Nothing was deleted/);
  t.notMatch(refused.text, /\n\s+at /, 'no stack trace');
  const other = await run('destroy', ['-i', 'test.yaml', '--yes', '--allow-destroy', 'production'], env(protectedInventory));
  exitCode(t, other, 2);
  t.match(other.text, /--allow-destroy production does not name this inventory's environment \(test\)/);
  const review = await run('destroy', ['-i', 'test.yaml', '--check'], env(protectedInventory));
  exitCode(t, review, 0);
  t.match(review.text, /--check only reviews; the teardown needs --allow-destroy test/, 'a review needs no flag, and says what the teardown needs');
  t.same(w.mutations().slice(before), [], 'no call changed anything');
  t.equal(liveStacks().length, 9, 'every stack is still there');

  const deploy = await run('deploy', ['-i', 'test.yaml', '--allow-destroy', 'test'], env(protectedInventory));
  exitCode(t, deploy, 1);
  t.match(deploy.errors.join('\n'), /Unknown option '--allow-destroy'/, 'deploy does not take the flag');

  const allowed = await run('destroy', ['-i', 'test.yaml', '--yes', '--allow-destroy', 'test'], env(protectedInventory));
  exitCode(t, allowed, 0);
  t.same(liveStacks(), [], 'with the flag, every stack is deleted');
});

t.test('--check lists and deletes nothing; without --yes and without a terminal nothing is deleted', async (t) => {
  await deployed(t);
  const before = w.mutations().length;
  const check = await run('destroy', ['-i', 'test.yaml', '--check'], env());
  exitCode(t, check, 0);
  t.match(check.text, /stacks deleted, in this order/);
  t.match(check.text, /secrets deleted \(made by deploy, no recovery window\): saleday\/test\/jwt/);
  const noApproval = await run('destroy', ['-i', 'test.yaml'], env());
  exitCode(t, noApproval, 2);
  t.match(noApproval.text, /not approved \(no terminal to ask and no --yes\)\. Re-run with --yes/);
  t.same(w.mutations().slice(before), [], 'nothing changed');
});

t.test('a deletion that ends DELETE_FAILED names the root-cause event and the fix; the stacks it needs stay', async (t) => {
  await deployed(t);
  w.cfn.nextDeletion.set('saleday-test-static-site', {
    failWith: [['Site', 'AWS::S3::Bucket', 'DELETE_FAILED', 'The bucket you tried to delete is not empty (Service: S3, Status Code: 409)']],
  });
  const r = await run('destroy', ['-i', 'test.yaml', '--yes'], env());
  exitCode(t, r, 2);
  t.match(r.text, /saleday-test-static-site: deleting it ended in DELETE_FAILED/);
  t.match(r.text, /root cause: Site \(AWS::S3::Bucket\) DELETE_FAILED: The bucket you tried to delete is not empty/);
  t.match(r.text, /fix: empty the bucket first/);
  t.match(r.text, /--retain-resources Site/);
  t.notMatch(r.text, /\n\s+at /, 'no stack trace');
  t.same(liveStacks(), ['saleday-test-database', 'saleday-test-load-balancer', 'saleday-test-network', 'saleday-test-static-site'], 'the later waves did not run');
  t.equal(w.secrets.secrets.size, 4, 'the secrets stay until every stack is gone (jwt, jwt-public, service-credential, redis-auth)');

  // Once the cause is fixed, the same command finishes the job (the DELETE_FAILED stack is deleted again).
  const again = await run('destroy', ['-i', 'test.yaml', '--yes'], env());
  exitCode(t, again, 0);
  t.same(liveStacks(), []);
});

t.test('deletion protection on a resource: refused without the flag; with it, turned off by a change set, then the stack is deleted', async (t) => {
  const base = stackSource();
  const source = {
    ...base,
    render: () =>
      base.render().map((s) =>
        s.name === 'database'
          ? { ...s, template: { ...s.template, Resources: { ...s.template.Resources, Db: { Type: 'AWS::RDS::DBInstance', DeletionPolicy: 'Snapshot' as const, Properties: { DeletionProtection: true } } } } }
          : s,
      ),
  };
  const deploy = await run('deploy', ['-i', 'test.yaml', '--yes'], { inventory, source, root });
  exitCode(t, deploy, 0);
  const before = w.mutations().length;

  const refused = await run('destroy', ['-i', 'test.yaml', '--yes'], { inventory, source, root });
  exitCode(t, refused, 2);
  t.match(refused.text, /AWS::RDS::DBInstance db-1 \(Db in saleday-test-database\): deleted after a final snapshot/, 'the review names the snapshot');
  t.match(refused.text, /deletion protection is on for Db in saleday-test-database: re-run with --allow-destroy test/);
  t.same(w.mutations().slice(before), [], 'nothing changed');

  const cfnBefore = w.cfn.mutatingCalls().length;
  const r = await run('destroy', ['-i', 'test.yaml', '--yes', '--allow-destroy', 'test'], { inventory, source, root });
  exitCode(t, r, 0);
  const calls = w.cfn.mutatingCalls().slice(cfnBefore).filter((c) => c.includes('saleday-test-database') || c.includes('stack/saleday-test-database'));
  t.match(calls[0], /^CreateChangeSet saleday-test-database\//, 'a change set first');
  t.match(calls.find((c) => c.startsWith('Execute')), /^ExecuteChangeSet saleday-test-database\//, 'executed');
  t.match(calls.at(-1), /^DeleteStack .*saleday-test-database/, 'then the deletion');
  t.match(r.text, /│ Modify │ Db\s+│ AWS::RDS::DBInstance\s+│ False\s+│ DeletionProtection/, 'the review shows DeletionProtection changing');
  t.same(liveStacks(), []);
});
