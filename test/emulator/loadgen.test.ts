// prepareLoadgen (playbooks/lib/plays/loadgen.ts) against moto: after the network stack, it
// deploys the loadgen stack through a change set and uploads the harness artifact; what it returns
// exists in the emulator (the cluster, the task definition, the security group, the artifact with
// its sha256). A second call uploads nothing and executes no change set. The harness artifact holds
// what ./loadtest/run.mjs needs on a bare Node.js.
import t from 'tap';
import { createHash } from 'node:crypto';
import { DescribeStacksCommand, ListChangeSetsCommand } from '@aws-sdk/client-cloudformation';
import { DescribeSecurityGroupsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeClustersCommand, DescribeTaskDefinitionCommand, ECSClient } from '@aws-sdk/client-ecs';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { list as listTar } from 'tar';
import { Writable } from 'node:stream';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOADGEN_CONTAINER, LOADGEN_IMAGE, renderStacks } from '../../cloudformation/index.js';
import { loadEnvironment } from '../../environment/index.js';
import { AwsClients } from '../../playbooks/lib/aws/clients.js';
import { parseCli } from '../../playbooks/lib/cli.js';
import { ReviewLog, deployStack } from '../../playbooks/lib/modules/cloudformation-stack.js';
import { Output } from '../../playbooks/lib/output.js';
import { awsApis } from '../../playbooks/lib/plays/aws-apis.js';
import { prepareLoadgen } from '../../playbooks/lib/plays/loadgen.js';
import { runPlay } from '../../playbooks/lib/runner.js';
import { EMULATOR_ARTIFACTS, EMULATOR_INVENTORY, EMULATOR_PREFIX, emulatorWorld } from '../helpers/emulator-playbooks.js';
import { ROOT } from '../helpers/processes.js';

const { moto, cfn, s3 } = await emulatorWorld(t);
// prepareLoadgen runs in this process, as the harness's CLI runs it: the emulator's environment, nothing from ~/.aws.
for (const k of ['AWS_PROFILE', 'AWS_SESSION_TOKEN']) delete process.env[k];
Object.assign(process.env, moto.env);
const ecs = new ECSClient(moto.clientConfig());
const ec2 = new EC2Client(moto.clientConfig());
t.teardown(() => [ecs, ec2].forEach((c) => c.destroy()));
const STACK = `${EMULATOR_PREFIX}loadgen`;
const fast = { pollMs: 100 };

t.before(async () => {
  // The network stack, deployed with the playbooks' own stack module (deploy.mjs does the same in its first wave).
  const inv = await loadEnvironment(EMULATOR_INVENTORY);
  const network = renderStacks(inv).find((s) => s.name === 'network')!;
  let out = '';
  const code = await runPlay({ playbook: 'test', title: 'network', options: parseCli(['--yes']), output: new Output({ out: sink((s) => (out += s)), tty: false }) }, async (play) => {
    const apis = awsApis(new AwsClients({ region: inv.region, ...fast }), play);
    await play.task({ name: 'stack network', run: (ctx) => deployStack({ stackName: network.stackName, template: network.template, parameters: {}, tags: { Project: inv.project, Environment: inv.environment } }, { cfn: apis.cfn, pollMs: 100, log: new ReviewLog() }, ctx) });
  });
  if (code !== 0) throw new Error(`the network stack did not deploy:\n${out}\n${moto.log().slice(-3000)}`);
});

function sink(write: (s: string) => void): Writable {
  return new Writable({
    write(chunk: Buffer, _e, done) {
      write(chunk.toString());
      done();
    },
  });
}

async function prepare(yes = true): Promise<{ placement: Awaited<ReturnType<typeof prepareLoadgen>>; lines: string[] }> {
  const lines: string[] = [];
  const placement = await prepareLoadgen({ inventoryFile: EMULATOR_INVENTORY, yes, line: (l) => lines.push(l) }, { root: ROOT, aws: fast });
  return { placement, lines };
}

const body = async (key: string): Promise<Buffer> => Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: EMULATOR_ARTIFACTS, Key: key }))).Body!.transformToByteArray());

t.test('the first call deploys the stack and uploads the harness; what it returns exists', async (t) => {
  const { placement, lines } = await prepare();
  const text = lines.join('\n');
  t.match(text, /changed: \[artifact loadgen\] \w{12} uploaded/, 'the harness is uploaded');
  t.match(text, /changed: \[stack loadgen\] created/, 'the stack is created through a change set');

  t.equal(placement.region, moto.region);
  t.equal(placement.container, LOADGEN_CONTAINER);
  t.same(placement.results, { bucket: EMULATOR_ARTIFACTS, prefix: 'loadgen-results/' });
  t.match(placement.artifact, { bucket: EMULATOR_ARTIFACTS, key: `artifacts/loadgen/${placement.artifact.sha256}.tgz` });
  t.equal(createHash('sha256').update(await body(placement.artifact.key)).digest('hex'), placement.artifact.sha256, 'the object is what its sha256 says');

  const clusters = await ecs.send(new DescribeClustersCommand({ clusters: [placement.cluster] }));
  t.equal(clusters.clusters?.[0]?.clusterName, `${EMULATOR_PREFIX}loadgen`, 'the cluster exists');
  t.equal(clusters.clusters?.[0]?.status, 'ACTIVE');
  const td = (await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: placement.taskDefinitionArn }))).taskDefinition!;
  const container = td.containerDefinitions?.find((c) => c.name === placement.container);
  t.ok(container, 'the task definition has the container the placement names');
  t.equal(container?.image, LOADGEN_IMAGE);
  t.same((container?.environment ?? []).map((e) => [e.name, e.value]).sort(), [['ARTIFACT_BUCKET', EMULATOR_ARTIFACTS], ['RESULTS_BUCKET', EMULATOR_ARTIFACTS]]);
  // (launcher fix ecs-task-definition-properties: moto alone drops all of these)
  t.match(td, { networkMode: 'awsvpc', cpu: '1024', requiresCompatibilities: ['FARGATE'], taskRoleArn: /:role\//, executionRoleArn: /:role\// }, 'a Fargate task definition with its two roles');
  const groups = await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: placement.securityGroups }));
  t.equal(groups.SecurityGroups?.length, 1, 'the security group exists');
  const network = (await cfn.send(new DescribeStacksCommand({ StackName: `${EMULATOR_PREFIX}network` }))).Stacks![0]!;
  t.same(placement.subnets, network.Outputs!.find((o) => o.OutputKey === 'PrivateAppSubnetIds')!.OutputValue!.split(','), 'the private-app subnets');
  t.equal(placement.logGroup, '/saleday/emulator/loadgen');
});

t.test('a second call uploads nothing and executes no change set', async (t) => {
  const before = (await cfn.send(new DescribeStacksCommand({ StackName: STACK }))).Stacks![0]!;
  const keys = async () => ((await s3.send(new ListObjectsV2Command({ Bucket: EMULATOR_ARTIFACTS, Prefix: 'artifacts/loadgen/' }))).Contents ?? []).map((o) => o.Key);
  const objects = await keys();
  const { placement, lines } = await prepare(false);
  const text = lines.join('\n');
  t.match(text, /ok: \[artifact loadgen\] \w{12} already uploaded/);
  t.match(text, /ok: \[stack loadgen\] no changes/, 'without --yes: nothing to approve');
  t.same(await keys(), objects, 'no new object');
  const after = (await cfn.send(new DescribeStacksCommand({ StackName: STACK }))).Stacks![0]!;
  t.equal(String(after.LastUpdatedTime ?? after.CreationTime), String(before.LastUpdatedTime ?? before.CreationTime), 'the stack did not change');
  t.same((await cfn.send(new ListChangeSetsCommand({ StackName: STACK }))).Summaries ?? [], [], 'the empty change set is deleted');
  t.ok(placement.cluster && placement.taskDefinitionArn, 'the same placement, from the outputs');
});

t.test('the harness artifact holds what ./loadtest/run.mjs needs on a bare Node.js', async (t) => {
  const { placement } = await prepare();
  const dir = await mkdtemp(join(tmpdir(), 'saleday-loadgen-artifact-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'harness.tgz');
  await writeFile(file, await body(placement.artifact.key));
  const entries: string[] = [];
  await listTar({ file, onReadEntry: (e) => entries.push(e.path) });
  for (const f of ['package.json', 'loadtest/run.mjs', 'dist/loadtest/lib/cli.js', 'dist/loadtest/lib/generators/worker.js', 'loadtest/profiles/sale-day.yaml', 'node_modules/autocannon/package.json']) {
    t.ok(entries.includes(f), f);
  }
  t.same(entries.filter((f) => f.startsWith('dist/services/') && !f.endsWith('/declaration.js')), [], 'no service code (the environment model reads their declarations only)');
});

t.test('an inventory that is not aws is refused', async (t) => {
  await t.rejects(prepareLoadgen({ inventoryFile: `${ROOT}/playbooks/inventories/local.yaml`, yes: true, line: () => undefined }), /local inventory: generators run on AWS only/);
});

t.test('--region: the loadgen play works in that region, not the inventory\'s (no network stack there: refused)', async (t) => {
  const lines: string[] = [];
  await t.rejects(prepareLoadgen({ inventoryFile: EMULATOR_INVENTORY, yes: true, region: 'us-east-2', line: (l) => lines.push(l) }, { root: ROOT, aws: fast }), /the loadgen stack is not ready/);
  const text = lines.join('\n');
  t.match(text, /loadgen \S+ · aws us-east-2/, 'the play runs in the given region');
  t.match(text, /network is not deployed: deploy the environment first/, 'the network stack is looked for there');
});
