// The aws target against an AWS emulator, as a new user runs it (steps a–f of issue 13; g, the
// teardown, is destroy.test.ts): ./playbooks/deploy.mjs and drift.mjs as real processes (from a private copy of the scripts and dist/, see playbook-root.ts)
// with AWS_ENDPOINT_URL, fake credentials and a staging-like inventory
// (test/fixtures/inventories/emulator.yaml: every stack kind), against moto's server with the
// launcher's fixes (test/emulator/moto_server.py). What the runs did is read back through the
// emulator's own APIs, never from the playbook's output alone.
//
// Every run skips the smoke check (--skip-tags smoke,database-bootstrap): it fetches the shop through CloudFront's
// public name, and nothing serves the shop behind an emulator. It skips the database bootstrap's
// invocation too: moto runs Lambda code only in Docker, which is not here, and no database answers
// behind it; the bootstrap stack itself deploys (the invocation is covered with scripted answers in
// test/playbooks/database-bootstrap.test.ts, the function's work against MariaDB in bootstrap.test.ts). The health wait runs: moto registers
// the Auto Scaling group's instances and reports them healthy without checking anything, so it
// shows the path reads the right target groups, not that instances would serve.
import t from 'tap';
import { createHash } from 'node:crypto';
import { appendFile, readFile, readdir, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeStacksCommand, ListChangeSetsCommand, ListStackResourcesCommand, type Stack } from '@aws-sdk/client-cloudformation';
import { GetObjectCommand, ListBucketsCommand } from '@aws-sdk/client-s3';
import { DescribeSecretCommand, ListSecretsCommand } from '@aws-sdk/client-secrets-manager';
import {
  EMULATOR_ARTIFACTS as ARTIFACTS, EMULATOR_PREFIX as PREFIX, EMULATOR_STACKS as STACKS, emulatorWorld, expectExit, recap,
} from '../helpers/emulator-playbooks.js';
import { ROOT, waitUntil } from '../helpers/processes.js';

const SERVICES = ['users', 'catalog', 'inventory', 'orders'];
const SCALE = ['-e', 'services.catalog.scaling.max=6'];
// Resource types moto 5.2.1 does not model: it skips them with a warning and the stack completes
// without them. Nothing in these steps reads them. A type missing from a stack and not listed here
// is a new gap: close it in the launcher (moto_server.py) or add it here with the reason.
const UNMODELLED = new Set([
  'AWS::AutoScaling::ScalingPolicy',
  'AWS::CloudFront::CachePolicy',
  'AWS::CloudFront::ResponseHeadersPolicy',
  'AWS::CloudWatch::Alarm',
  'AWS::EC2::NetworkAcl',
  'AWS::EC2::NetworkAclEntry',
  'AWS::EC2::SubnetNetworkAclAssociation',
  'AWS::S3::BucketPolicy',
  'AWS::SecretsManager::SecretTargetAttachment',
]);

const { moto, root, cfn, s3, secrets, playbook, liveStacks, objectKeys } = await emulatorWorld(t);

/** An ElastiCache Query API call to the emulator (no ElastiCache client in package.json; moto does not check signatures): the XML answer. */
async function elastiCache(action: string, params: Record<string, string>): Promise<string> {
  const res = await fetch(moto.endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `AWS4-HMAC-SHA256 Credential=testing/20260101/${moto.region}/elasticache/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: new URLSearchParams({ Action: action, Version: '2015-02-02', ...params }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${action}: HTTP ${res.status}: ${text.slice(0, 300)}`);
  return text;
}
const autoscaling = new AutoScalingClient(moto.clientConfig());
t.teardown(() => autoscaling.destroy());

async function describe(key: string): Promise<Stack> {
  const out = await cfn.send(new DescribeStacksCommand({ StackName: `${PREFIX}${key}` }));
  return out.Stacks![0]!;
}

/** When each stack last changed (LastUpdatedTime, or CreationTime for one never updated). */
async function stamps(): Promise<Record<string, string>> {
  const all: Record<string, string> = {};
  for (const key of STACKS) {
    const s = await describe(key);
    all[key] = (s.LastUpdatedTime ?? s.CreationTime)!.toISOString();
  }
  return all;
}

const changedStacks = (before: Record<string, string>, after: Record<string, string>): string[] => STACKS.filter((k) => before[k] !== after[k]);

const outputsOf = (s: Stack): Record<string, string> => Object.fromEntries((s.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? '']));

t.test('a. --check reviews change sets and creates nothing', async (t) => {
  const r = await playbook('deploy', ['--check', '--skip-tags', 'smoke,database-bootstrap']);
  expectExit(t, r, 0, 'deploy --check');
  t.match(r.stdout, /Review of saleday-emulator-network, change set saleday-[0-9a-f]+ \(new stack\)/, 'the first stack was reviewed from a change set');
  t.match(recap(r.stdout), { failed: 0 });
  const stacks = await liveStacks();
  t.same([...stacks.values()].filter((s) => s !== 'REVIEW_IN_PROGRESS'), [], 'no stack exists beyond review placeholders');
  for (const name of stacks.keys()) {
    t.same((await cfn.send(new ListChangeSetsCommand({ StackName: name }))).Summaries ?? [], [], `${name}: its change set was deleted`);
  }
  t.same((await secrets.send(new ListSecretsCommand({}))).SecretList ?? [], [], 'no secret');
  t.same((await s3.send(new ListBucketsCommand({}))).Buckets ?? [], [], 'no bucket');
});

t.test('b. --yes creates every stack, secret, artifact and static asset', async (t) => {
  const r = await playbook('deploy', ['--yes', '--skip-tags', 'smoke,database-bootstrap']);
  expectExit(t, r, 0, 'deploy --yes');
  for (const key of STACKS) {
    const stack = await describe(key);
    t.equal(stack.StackStatus, 'CREATE_COMPLETE', `${key} CREATE_COMPLETE`);
    // The template's outputs, all of them, resolved: the next stacks are built from them.
    const template = parse(await readFile(join(root.dir, 'build/cloudformation/emulator', `${key}.yaml`), 'utf8')) as {
      Resources: Record<string, { Type: string; Condition?: string }>;
      Outputs?: Record<string, unknown>;
    };
    const made = new Set(((await cfn.send(new ListStackResourcesCommand({ StackName: `${PREFIX}${key}` }))).StackResourceSummaries ?? []).map((r) => r.LogicalResourceId));
    const skipped = Object.entries(template.Resources).filter(([id, r]) => !made.has(id) && !r.Condition && !UNMODELLED.has(r.Type));
    t.same(skipped.map(([id, r]) => `${id} (${r.Type})`), [], `${key}: every resource was created but the types moto does not model`);
    const outputs = outputsOf(stack);
    t.same(Object.keys(outputs).sort(), Object.keys(template.Outputs ?? {}).sort(), `${key}: every output of its template`);
    t.notOk(Object.values(outputs).some((v) => v === '' || v.includes('Fn::')), `${key}: every output has a value`);
  }
  for (const name of ['jwt', 'jwt-public', 'service-credential', 'redis-auth']) {
    const secret = await secrets.send(new DescribeSecretCommand({ SecretId: `saleday/emulator/${name}` }));
    t.ok(secret.ARN, `secret saleday/emulator/${name}`);
  }
  // The cache deploys after the network and before users, which takes its URL and security group.
  const order = /ok: \[deploy order\] \d+ waves: (.*)/.exec(r.stdout)?.[1]?.split(' | ').map((w) => w.split(', ')) ?? [];
  const wave = (stack: string) => order.findIndex((w) => w.includes(stack));
  t.ok(wave('cache') > wave('network') && wave('cache') < wave('service-users'), `cache deploys after network, before service-users: ${order.map((w) => w.join(', ')).join(' | ')}`);
  // The replication group as ElastiCache has it: encrypted both ways, its AUTH token set from the secret.
  const cache = outputsOf(await describe('cache'));
  const group = await elastiCache('DescribeReplicationGroups', { ReplicationGroupId: cache.ReplicationGroupId! });
  t.match(group, /<TransitEncryptionEnabled>true<\/TransitEncryptionEnabled>/, 'encrypted in transit');
  t.match(group, /<AtRestEncryptionEnabled>true<\/AtRestEncryptionEnabled>/, 'encrypted at rest');
  t.match(group, /<AuthTokenEnabled>true<\/AuthTokenEnabled>/, 'AUTH token required');
  const users = Object.fromEntries(((await describe('service-users')).Parameters ?? []).map((p) => [p.ParameterKey, p.ParameterValue]));
  t.equal(users.CacheUrl, cache.RedisUrl, 'users gets the cache URL');
  t.match(users.CacheUrl, /^rediss:\/\/[a-z0-9.-]+:6379$/, 'over TLS');
  t.match(users.RedisAuthSecretArn, /:secret:saleday\/emulator\/redis-auth-/, "and the AUTH token secret's ARN, never its value");
  const keys = await objectKeys(ARTIFACTS);
  for (const service of SERVICES) {
    const key = keys.find((k) => k.startsWith(`artifacts/${service}/`));
    t.ok(key, `the ${service} artifact is uploaded`);
    if (!key) continue;
    const body = await (await s3.send(new GetObjectCommand({ Bucket: ARTIFACTS, Key: key }))).Body!.transformToByteArray();
    t.equal(key, `artifacts/${service}/${createHash('sha256').update(body).digest('hex')}.tgz`, `${service}: the key is the sha256 of the body`);
  }
  const site = outputsOf(await describe('static-site'));
  const assets = await objectKeys(site.AssetsBucketName!);
  const local = (await readdir(join(ROOT, 'static'), { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(join(ROOT, 'static').length + 1));
  t.same(assets, local.sort(), 'every static file is in the site bucket');
});

t.test('c. the same deploy again changes nothing', async (t) => {
  const before = await stamps();
  const r = await playbook('deploy', ['--yes', '--skip-tags', 'smoke,database-bootstrap']);
  expectExit(t, r, 0, 'second deploy');
  t.equal(recap(r.stdout).changed, 0, 'changed=0');
  t.same(changedStacks(before, await stamps()), [], 'no stack was updated');
});

t.test('d. a scaling change updates exactly that stack', async (t) => {
  const before = await stamps();
  const check = await playbook('deploy', [...SCALE, '--check', '--detailed-exitcode', '--skip-tags', 'smoke,database-bootstrap']);
  expectExit(t, check, 3, '--check --detailed-exitcode with the change');
  t.match(check.stdout, /│ Modify │ AutoScalingGroup\s+│ AWS::AutoScaling::AutoScalingGroup │ False\s+│ MaxSize/, 'the review shows the Modify and its property');
  t.same(check.stdout.match(/^changed: \[stack [^\]]+\]/gm), ['changed: [stack service-catalog]'], 'only the catalog stack would change');

  const r = await playbook('deploy', [...SCALE, '--yes', '--skip-tags', 'smoke,database-bootstrap']);
  expectExit(t, r, 0, 'deploy --yes with the change');
  t.same(changedStacks(before, await stamps()), ['service-catalog'], 'exactly service-catalog was updated');
  const group = outputsOf(await describe('service-catalog')).AutoScalingGroupName;
  const groups = await autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [group!] }));
  t.equal(groups.AutoScalingGroups?.[0]?.MaxSize, 6, 'the catalog group scales to 6 now');

  const again = await playbook('deploy', [...SCALE, '--check', '--detailed-exitcode', '--skip-tags', 'smoke,database-bootstrap']);
  expectExit(t, again, 0, '--check --detailed-exitcode after the deploy');
});

t.test("e. --limit catalog after a change to catalog's code changes only catalog's artifact and stack", async (t) => {
  const before = await stamps();
  const keysBefore = await objectKeys(ARTIFACTS);
  const main = join(root.dir, 'dist/services/catalog/main.js');
  await appendFile(main, '\n// changed by test/emulator/deploy.test.ts\n');
  // A fixed time keeps the artifact cache entry for this content one and the same across runs.
  await utimes(main, new Date('2026-01-01T00:00:00Z'), new Date('2026-01-01T00:00:00Z'));

  const r = await playbook('deploy', [...SCALE, '--limit', 'catalog', '--yes', '--skip-tags', 'smoke,database-bootstrap']);
  expectExit(t, r, 0, 'deploy --limit catalog');
  const added = (await objectKeys(ARTIFACTS)).filter((k) => !keysBefore.includes(k));
  t.equal(added.length, 1, 'one new artifact');
  t.match(added[0], /^artifacts\/catalog\/[0-9a-f]{64}\.tgz$/, "it is catalog's");
  t.same(changedStacks(before, await stamps()), ['service-catalog'], 'only service-catalog was updated');
  const parameters = Object.fromEntries(((await describe('service-catalog')).Parameters ?? []).map((p) => [p.ParameterKey, p.ParameterValue]));
  t.equal(parameters.ArtifactKey, added[0], 'the stack runs the new artifact');
  t.match(r.stdout, /│ Modify │ LaunchTemplate/, 'the review shows the launch template taking the new artifact');

  const again = await playbook('deploy', [...SCALE, '--check', '--detailed-exitcode', '--skip-tags', 'smoke,database-bootstrap']);
  expectExit(t, again, 0, 'a full --check --detailed-exitcode afterwards');
});

// moto 5.2.1 does not implement DetectStackDrift (HTTP 500, "The detect_stack_drift action has not
// been implemented" in its log); step f runs once the emulator does.
const driftProbe = await fetch(moto.endpoint, {
  method: 'POST',
  headers: {
    'content-type': 'application/x-www-form-urlencoded',
    authorization: `AWS4-HMAC-SHA256 Credential=testing/20260101/${moto.region}/cloudformation/aws4_request, SignedHeaders=host, Signature=0`,
  },
  body: new URLSearchParams({ Action: 'DetectStackDrift', Version: '2010-05-15', StackName: `${PREFIX}network` }),
});
await driftProbe.arrayBuffer();
const notImplemented = /The \w+ action has not been implemented/;
if (driftProbe.status === 500) await waitUntil(() => Promise.resolve(notImplemented.test(moto.log())), 'the reason in moto\'s log', 5000).catch(() => undefined);
const noDrift = notImplemented.exec(moto.log())?.[0];

t.test('f. drift detection finds everything in sync', { skip: noDrift && `the emulator does not implement drift detection (DetectStackDrift answers HTTP ${driftProbe.status}: ${noDrift})` }, async (t) => {
  const r = await playbook('drift', ['--detailed-exitcode']);
  expectExit(t, r, 0, 'drift --detailed-exitcode');
  t.equal(recap(r.stdout).failed, 0);
});

