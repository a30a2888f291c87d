// The cloudformation stack module against scripted CloudFormation responses: create, update, no
// changes, refused stateful replacement, ROLLBACK_COMPLETE recovery, failure with root-cause
// events, throttling, in-progress and rollback-failed states, and approval without a TTY.
import t from 'tap';
import { stringify } from 'yaml';
import { FakeCloudFormation } from './fake-aws.js';
import { cloudFormationApi, runTask } from './support.js';
import { ReviewLog, deployStack, executeReviewedStack, type StackArgs } from '../../playbooks/lib/modules/cloudformation-stack.js';
import { templateBody } from '../../cloudformation/index.js';
import { databaseTemplate, networkTemplate } from '../fixtures/stack-templates.js';

let fake: FakeCloudFormation;
t.beforeEach(() => {
  fake = new FakeCloudFormation();
});
t.afterEach(() => fake.restore());

const deps = () => ({ cfn: cloudFormationApi(), pollMs: 1, log: new ReviewLog() });
const net = (cidr?: string): StackArgs => ({ stackName: 'sd-test-network', template: networkTemplate(cidr), parameters: { Environment: 'test' }, tags: { project: 'saleday' } });
const db = (o: Parameters<typeof databaseTemplate>[0] = {}): StackArgs => ({
  stackName: 'sd-test-database', template: databaseTemplate(o), parameters: { VpcId: 'vpc-1' }, tags: { project: 'saleday' },
});

t.test('create: a CREATE change set, reviewed, executed, outputs registered', async (t) => {
  const d = deps();
  const { outcome, text } = await runTask(['--yes'], (ctx) => deployStack(net(), d, ctx));
  t.equal(outcome.status, 'changed');
  t.match(outcome.message, /^created: 1 added/);
  t.same(outcome.data, { VpcId: 'sd-test-network:VpcId', PrivateSubnetIds: 'sd-test-network:PrivateSubnetIds' });
  const calls = fake.calls();
  t.ok(calls.includes('DescribeStacks sd-test-network'));
  t.ok(calls.some((c) => /^CreateChangeSet sd-test-network\/saleday-[0-9a-f]{12}$/.test(c)), 'change set created');
  t.ok(calls.some((c) => c.startsWith('ExecuteChangeSet sd-test-network/')), 'executed');
  t.equal(fake.mock.commandCalls((await import('@aws-sdk/client-cloudformation')).CreateChangeSetCommand)[0]!.args[0].input.ChangeSetType, 'CREATE');
  t.match(text, /Review of sd-test-network, change set saleday-[0-9a-f]+ \(new stack\)/);
  t.match(text, /│ Add +│ Vpc +│ AWS::EC2::VPC/);
  t.match(text, /CREATE_COMPLETE AWS::EC2::VPC Vpc/, 'stack events streamed');
  t.match(text, /changed: \[stack\] created/);
});

t.test('update: an UPDATE change set shows what changed, then runs', async (t) => {
  fake.addStack('sd-test-network', { templateBody: templateBody(networkTemplate()), parameters: { Environment: 'test' }, outputs: { VpcId: 'vpc-old' } });
  const { outcome, text } = await runTask(['--yes'], (ctx) => deployStack(net('10.1.0.0/16'), deps(), ctx));
  t.equal(outcome.status, 'changed');
  t.match(outcome.message, /updated: 1 modified/);
  t.match(text, /│ Modify +│ Vpc +│ AWS::EC2::VPC +│ False +│ CidrBlock/);
  t.match(text, /UPDATE_COMPLETE AWS::CloudFormation::Stack sd-test-network/);
  t.equal(fake.stacks.get('sd-test-network')!.status, 'UPDATE_COMPLETE');
});

t.test('no changes: ok, and the change set is deleted', async (t) => {
  fake.addStack('sd-test-network', { templateBody: templateBody(networkTemplate()), parameters: { Environment: 'test' }, outputs: { VpcId: 'vpc-1' } });
  const d = deps();
  const { outcome } = await runTask([], (ctx) => deployStack(net(), d, ctx));
  t.equal(outcome.status, 'ok');
  t.equal(outcome.message, 'no changes');
  t.same(outcome.data, { VpcId: 'vpc-1' }, 'outputs still registered');
  const calls = fake.calls();
  t.ok(calls.some((c) => c.startsWith('DeleteChangeSet sd-test-network/')), 'change set deleted');
  t.notOk(calls.some((c) => c.startsWith('ExecuteChangeSet')), 'nothing executed');
  t.equal(fake.changeSets.size, 0);
  t.same(d.log.unchanged, ['sd-test-network']);
});

const replaceDatabase = () =>
  fake.nextChanges.set('sd-test-database', [
    {
      Type: 'Resource',
      ResourceChange: {
        Action: 'Modify', LogicalResourceId: 'Database', ResourceType: 'AWS::RDS::DBInstance', Replacement: 'True', Scope: ['Properties'],
        Details: [{ Target: { Attribute: 'Properties', Name: 'Engine', RequiresRecreation: 'Always' } }],
      },
    },
  ]);

t.test('a stateful replacement is refused unless --allow-replace names it', async (t) => {
  fake.addStack('sd-test-database', { templateBody: templateBody(databaseTemplate()), parameters: { VpcId: 'vpc-1' } });
  replaceDatabase();
  const refused = await runTask(['--yes'], (ctx) => deployStack(db({ instanceClass: 'db.r6g.large' }), deps(), ctx));
  t.equal(refused.outcome.status, 'failed');
  t.match(refused.outcome.message, /refused, the change set would replace Database \(AWS::RDS::DBInstance\).*--allow-replace Database/);
  t.match(refused.text, /!!! STATEFUL: data-holding resources replaced or removed !!!/);
  t.match(refused.text, /Database +│ AWS::RDS::DBInstance +│ replaced +│ NO: refused/);
  t.notOk(fake.calls().some((c) => c.startsWith('ExecuteChangeSet')), 'nothing executed');
  t.ok(fake.calls().some((c) => c.startsWith('DeleteChangeSet sd-test-database/')), 'refused change set deleted');

  replaceDatabase();
  const allowed = await runTask(['--yes', '--allow-replace', 'Database'], (ctx) => deployStack(db({ instanceClass: 'db.r6g.large' }), deps(), ctx));
  t.equal(allowed.outcome.status, 'changed');
  t.match(allowed.text, /yes \(--allow-replace Database\)/);
  t.ok(fake.calls().some((c) => c.startsWith('ExecuteChangeSet sd-test-database/')));
});

t.test('ROLLBACK_COMPLETE: deleted and created again only with approval', async (t) => {
  fake.addStack('sd-test-network', { status: 'ROLLBACK_COMPLETE', templateBody: '' });
  const refused = await runTask([], (ctx) => deployStack(net(), deps(), ctx));
  t.equal(refused.outcome.status, 'failed');
  t.match(refused.outcome.message, /Delete sd-test-network \(ROLLBACK_COMPLETE, it holds no resources\) and create it again\?: not approved \(no terminal to ask and no --yes\)\. Re-run with --yes/);
  t.notOk(fake.calls().some((c) => c.startsWith('DeleteStack')), 'nothing deleted without approval');

  const check = await runTask(['--check'], (ctx) => deployStack(net(), deps(), ctx));
  t.equal(check.outcome.status, 'changed');
  t.match(check.outcome.message, /would delete sd-test-network and create it again/);
  t.same(fake.mutatingCalls(), [], '--check deletes nothing');

  const approved = await runTask(['--yes'], (ctx) => deployStack(net(), deps(), ctx));
  t.equal(approved.outcome.status, 'changed', `created after approval: ${approved.outcome.message ?? ''}`);
  const calls = fake.calls();
  const del = calls.indexOf('DeleteStack sd-test-network');
  const create = calls.findIndex((c) => c.startsWith('CreateChangeSet sd-test-network/'));
  t.ok(del >= 0 && create > del, 'deleted, then a CREATE change set');
  t.match(approved.text, /DELETE_COMPLETE/);
  t.equal(fake.stacks.get('sd-test-network')!.status, 'CREATE_COMPLETE');
});

t.test('a failed update prints the root-cause events first, not only the last', async (t) => {
  fake.addStack('sd-test-database', { templateBody: templateBody(databaseTemplate()), parameters: { VpcId: 'vpc-1' } });
  fake.nextExecution.set('sd-test-database', {
    failWith: [
      ['Database', 'AWS::RDS::DBInstance', 'UPDATE_FAILED', 'RDS does not support creating a DB instance with the following combination: DBInstanceClass=db.x9.huge'],
      ['DbSecurityGroup', 'AWS::EC2::SecurityGroup', 'UPDATE_FAILED', 'Resource update cancelled'],
      ['Database', 'AWS::RDS::DBInstance', 'UPDATE_COMPLETE', ''],
      ['sd-test-database', 'AWS::CloudFormation::Stack', 'UPDATE_ROLLBACK_IN_PROGRESS', 'The following resource(s) failed to update: [Database, DbSecurityGroup].'],
    ],
  });
  const { outcome, text } = await runTask(['--yes'], (ctx) => deployStack(db({ instanceClass: 'db.x9.huge', openTo: '10.9.0.0/16' }), deps(), ctx));
  t.equal(outcome.status, 'failed');
  const lines = outcome.message!.split('\n');
  t.equal(lines[0], 'sd-test-database ended in UPDATE_ROLLBACK_COMPLETE');
  t.match(lines[1], /^root cause: Database \(AWS::RDS::DBInstance\) UPDATE_FAILED: RDS does not support .*db\.x9\.huge/);
  t.notOk(lines.some((l) => /root cause: DbSecurityGroup/.test(l)), 'the cancelled consequence is not called a cause');
  t.match(text, /failed: \[stack\] sd-test-database ended in UPDATE_ROLLBACK_COMPLETE\n {4}root cause: Database/);
});

t.test('throttling is retried with backoff and the deploy goes through', async (t) => {
  fake.throttle.set('DescribeStacks', 2);
  fake.throttle.set('CreateChangeSet', 1);
  fake.throttle.set('ExecuteChangeSet', 1);
  const { outcome } = await runTask(['--yes'], (ctx) => deployStack(net(), deps(), ctx));
  t.equal(outcome.status, 'changed', `changed: ${outcome.message ?? ''}`);
  const calls = fake.calls();
  t.equal(calls.filter((c) => c.startsWith('CreateChangeSet')).length, 2, 'CreateChangeSet sent twice (once throttled)');
  t.equal(calls.filter((c) => c.startsWith('ExecuteChangeSet')).length, 2, 'ExecuteChangeSet sent twice (once throttled)');
  t.equal(fake.stacks.get('sd-test-network')!.status, 'CREATE_COMPLETE');
});

t.test('a stack in progress is waited for, then updated', async (t) => {
  fake.addStack('sd-test-network', { status: 'UPDATE_IN_PROGRESS', templateBody: templateBody(networkTemplate()), parameters: { Environment: 'test' } });
  // The fake ends an operation it did not start when the test says so: after two polls.
  let polls = 0;
  const api = cloudFormationApi();
  const describe = api.describeStack.bind(api);
  api.describeStack = async (n) => {
    if (++polls === 3) fake.stacks.get('sd-test-network')!.status = 'UPDATE_COMPLETE';
    return describe(n);
  };
  const { outcome, text } = await runTask(['--yes'], (ctx) => deployStack(net('10.2.0.0/16'), { cfn: api, pollMs: 1, log: new ReviewLog() }, ctx));
  t.match(text, /the stack is UPDATE_IN_PROGRESS: waiting for that operation to end/);
  t.equal(outcome.status, 'changed', `changed: ${outcome.message ?? ''}`);
});

t.test('UPDATE_ROLLBACK_FAILED names the continue-update-rollback step', async (t) => {
  fake.addStack('sd-test-network', { status: 'UPDATE_ROLLBACK_FAILED', templateBody: templateBody(networkTemplate()) });
  const { outcome } = await runTask(['--yes'], (ctx) => deployStack(net(), deps(), ctx));
  t.equal(outcome.status, 'failed');
  t.match(outcome.message, /aws cloudformation continue-update-rollback --stack-name sd-test-network/);
  t.same(fake.mutatingCalls(), []);
});

t.test('without a TTY and without --yes the run stops after the review and says how to approve', async (t) => {
  fake.addStack('sd-test-network', { templateBody: templateBody(networkTemplate()), parameters: { Environment: 'test' } });
  const { outcome, text } = await runTask([], (ctx) => deployStack(net('10.3.0.0/16'), deps(), ctx));
  t.equal(outcome.status, 'failed');
  t.match(text, /Review of sd-test-network/);
  t.match(outcome.message, /not approved \(no terminal to ask and no --yes\)\. Re-run with --yes to approve, or review with --check --keep-change-sets and approve with --execute-reviewed/);
  t.notOk(fake.calls().some((c) => c.startsWith('ExecuteChangeSet')));
  t.equal(fake.changeSets.size, 0, 'the unapproved change set is deleted');
});

t.test('NoEcho parameters are masked in the review', async (t) => {
  fake.addStack('sd-test-database', { templateBody: templateBody(databaseTemplate()), parameters: { VpcId: 'vpc-1', MasterPassword: 'old-value' } });
  const args = db({ instanceClass: 'db.t3.large' });
  args.parameters = { VpcId: 'vpc-1', MasterPassword: 'hunter2-new' };
  const { text } = await runTask(['--check'], (ctx) => deployStack(args, deps(), ctx));
  t.notMatch(text, /hunter2|old-value/);
  t.match(text, /MasterPassword +│ \*\*\*\* +│ \*\*\*\*/);
});

t.test('the template body sent is what render writes (YAML or compact JSON)', (t) => {
  const body = templateBody(networkTemplate());
  t.ok(body === JSON.stringify(networkTemplate()) || body === stringify(networkTemplate(), { lineWidth: 0, aliasDuplicateObjects: false }));
  t.end();
});

t.test('a new stack: reviewed and kept (after an earlier --check left it in REVIEW_IN_PROGRESS), then executed', async (t) => {
  await runTask(['--check'], (ctx) => deployStack(net(), deps(), ctx));
  t.equal(fake.stacks.get('sd-test-network')!.status, 'REVIEW_IN_PROGRESS', 'a CREATE change set leaves an empty stack shell');
  const d = deps();
  const kept = await runTask(['--check', '--keep-change-sets'], (ctx) => deployStack(net(), d, ctx));
  t.match(kept.outcome.message, /would create: 1 to add; change set kept as saleday-reviewed-/);
  t.same(d.log.kept.map((k) => k.stackName), ['sd-test-network']);
  const exec = await runTask([], (ctx) => executeReviewedStack('sd-test-network', deps(), ctx));
  t.equal(exec.outcome.status, 'changed', `executed: ${exec.outcome.message ?? ''}`);
  t.equal(fake.stacks.get('sd-test-network')!.status, 'CREATE_COMPLETE');
});

t.test('a template over the inline limit goes through the artifacts bucket', async (t) => {
  const { FakeS3 } = await import('./fake-aws.js');
  const { SdkS3 } = await import('../../playbooks/lib/aws/s3.js');
  const { S3Client } = await import('@aws-sdk/client-s3');
  const { FAST_RETRY, TEST_CREDENTIALS } = await import('./support.js');
  const s3 = new FakeS3();
  t.teardown(() => s3.restore());
  fake.resolveTemplateUrl = (url) => s3.objects.get(`bkt/${url.split('.s3.amazonaws.com/')[1]}`)?.body.toString();
  const big = networkTemplate();
  big.Description = `a large template ${'x'.repeat(60_000)}`;
  const args = { ...net(), template: big, templateBucket: 'bkt' };
  const s3api = new SdkS3(new S3Client({ region: 'eu-west-1', credentials: TEST_CREDENTIALS }), FAST_RETRY);
  const check = await runTask(['--check'], (ctx) => deployStack(args, { ...deps(), s3: s3api }, ctx));
  t.match(check.outcome.message, /would upload the template \(\d+ bytes\) to s3:\/\/bkt\/templates\/sd-test-network\/[0-9a-f]{64}\.template and review it; --check uploads nothing/);
  t.same(s3.puts(), [], '--check uploads nothing');
  const { outcome } = await runTask(['--yes'], (ctx) => deployStack(args, { ...deps(), s3: s3api }, ctx));
  t.equal(outcome.status, 'changed', `created: ${outcome.message ?? ''}`);
  t.match(s3.puts()[0], /^bkt\/templates\/sd-test-network\/[0-9a-f]{64}\.template$/);
  const input = fake.mock.commandCalls((await import('@aws-sdk/client-cloudformation')).CreateChangeSetCommand).at(-1)!.args[0].input;
  t.match(input.TemplateURL, /^https:\/\/bkt\.s3\.amazonaws\.com\/templates\/sd-test-network\//);
  t.equal(input.TemplateBody, undefined);
  const none = await runTask(['--yes'], (ctx) => deployStack({ ...args, templateBucket: undefined }, deps(), ctx));
  t.match(none.outcome.message, /over CloudFormation's inline limit of 51200, and there is no artifacts bucket yet/);
});

t.test('--execute-reviewed shows the full review (IAM tables included) of what it executes', async (t) => {
  fake.addStack('sd-test-database', { templateBody: templateBody(databaseTemplate()), parameters: { VpcId: 'vpc-1' } });
  await runTask(['--check', '--keep-change-sets'], (ctx) => deployStack(db({ extraStatement: true }), deps(), ctx));
  const exec = await runTask([], (ctx) => executeReviewedStack('sd-test-database', deps(), ctx));
  t.equal(exec.outcome.status, 'changed');
  t.match(exec.outcome.message, /^updated: 1 modified$/);
  t.match(exec.text, /IAM statement changes[\s\S]*secretsmanager:GetSecretValue/);
});
