// The preflight's online checks on scripted answers (PreflightAws): each with a planted problem
// and without; and the SDK side of that interface on aws-sdk-client-mock (quota defaults, access
// denied as "not checked", missing certificates, secrets scheduled for deletion).
import t from 'tap';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import { DescribeCertificateCommand, ACMClient } from '@aws-sdk/client-acm';
import { DescribeInstanceTypesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetAWSDefaultServiceQuotaCommand, GetServiceQuotaCommand, ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { mockClient } from 'aws-sdk-client-mock';
import { deployWaves, renderStacks } from '../../cloudformation/index.js';
import { parseEnvironment, type Environment } from '../../environment/index.js';
import { AwsClients } from '../../playbooks/lib/aws/clients.js';
import { sdkPreflightAws } from '../../playbooks/lib/aws/preflight.js';
import {
  checkCollisions, checkDuration, checkLiveCertificates, checkOfferings, checkPermissions, checkQuotas, covers, NotPermittedError, principalOf, stackMinutes, type OnlineContext, type PreflightAws,
} from '../../playbooks/lib/preflight/online.js';
import { awsError } from './fake-aws.js';
import { FAST_RETRY, TEST_CREDENTIALS } from './support.js';

const production = readFileSync(fileURLToPath(new URL('../../playbooks/inventories/production.yaml', import.meta.url)), 'utf8');
const load = (...edits: Array<[(string | number)[], unknown]>): Environment => {
  const doc = parseDocument(production);
  for (const [path, value] of edits) {
    if (value === undefined) doc.deleteIn(path);
    else doc.setIn(path, value);
  }
  return parseEnvironment(doc.toString(), 'production.yaml');
};
/** Production with catalog on a Graviton Spot mix (no warm pool then: AWS refuses one beside Spot). */
const SPOT_MIX: Array<[(string | number)[], unknown]> = [
  [['services', 'catalog', 'spot'], { onDemandBase: 3, onDemandPercentageAboveBase: 50, instanceTypes: ['c7g.large', 'c6g.large', 'm7g.large'] }],
  [['services', 'catalog', 'scaling', 'warmPool'], undefined],
];
const ACCOUNT = '123456789012';

/** A healthy account: generous quotas, every type offered, certificates issued for the shop's names. */
function healthy(over: Partial<PreflightAws> = {}): PreflightAws {
  return {
    region: 'eu-west-1',
    caller: () => Promise.resolve({ account: ACCOUNT, arn: `arn:aws:sts::${ACCOUNT}:assumed-role/deployer/session-1` }),
    quota: () => Promise.resolve(5000),
    vcpus: (types) => Promise.resolve(Object.fromEntries(types.map((x) => [x, 2]))),
    availabilityZones: () => Promise.resolve(['eu-west-1a', 'eu-west-1b', 'eu-west-1c']),
    offeredTypes: (_zone, types) => Promise.resolve([...types]),
    certificate: () => Promise.resolve({ status: 'ISSUED', names: ['shop.example.com', '*.shop.example.com'] }),
    hostedZone: () => Promise.resolve({ name: 'shop.example.com.', private: false }),
    webAclExists: () => Promise.resolve(true),
    bucketState: () => Promise.resolve('missing'),
    stackStatus: () => Promise.resolve(undefined),
    secretState: () => Promise.resolve('missing'),
    deniedActions: () => Promise.resolve([]),
    ...over,
  };
}

const ctx = (inv: Environment, aws: PreflightAws): OnlineContext => {
  const stacks = renderStacks(inv);
  return { inv, stacks, aws, waves: deployWaves(stacks) };
};
const subjects = (r: { findings: Array<{ subject: string }> }) => r.findings.map((f) => f.subject);

t.test('quotas: On-Demand and Spot vCPUs at max and at each pre-warm, and the counted resources', async (t) => {
  const inv = load(...SPOT_MIX);
  const ok = await checkQuotas(ctx(inv, healthy()));
  t.same(ok.findings, []);
  // users 12 + inventory 18 + orders 24 On-Demand, catalog 3 + ceil(21 × 50%) = 14 On-Demand and 10 Spot; 2 vCPUs each.
  t.match(ok.summary, [
    'On-Demand vCPUs (Standard (A, C, D, H, I, M, R, T, Z)), every group at max: users 12×2 + catalog 14×2 + inventory 18×2 + orders 24×2 = 136 of 5000 (L-1216C47A)',
  ]);
  t.ok(ok.summary.some((l) => l.startsWith('Spot vCPUs (Standard (A, C, D, H, I, M, R, T, Z)), every group at max: catalog 10×2 = 20 of 5000 (L-34B43A08)')));
  t.ok(ok.summary.some((l) => /^On-Demand vCPUs .*pre-warm black-friday-2026: users 8×2/.test(l)), 'each pre-warm too');
  t.ok(ok.summary.some((l) => l.startsWith('Elastic IPs (one per NAT gateway): this environment needs 3 of 5000')));
  t.ok(ok.summary.some((l) => l.startsWith('RDS storage GiB (at maxAllocatedStorage, every instance): this environment needs 3000 of 5000')));

  const tight = await checkQuotas(ctx(inv, healthy({ quota: (_s, code) => Promise.resolve(code === 'L-1216C47A' ? 100 : code === 'L-0263D0A3' ? 2 : 5000) })));
  t.match(tight.findings, [
    { level: 'error', subject: 'ec2 quota L-1216C47A', detail: /every group at max the groups need 136, the account's quota is 100/, fix: /to at least 136 in Service Quotas, eu-west-1/ },
    { level: 'error', subject: 'ec2 quota L-0263D0A3', detail: 'Elastic IPs (one per NAT gateway): this environment needs 3, the quota is 2' },
  ]);
  const denied = await checkQuotas(ctx(inv, healthy({ quota: () => Promise.reject(new NotPermittedError('servicequotas:GetServiceQuota')) })));
  t.ok(denied.findings.length > 0 && denied.findings.every((f) => f.level === 'warning' && /not checked: the caller may not call servicequotas:GetServiceQuota/.test(f.detail)), 'not permitted: warnings, not errors');
});

t.test('offerings: every type in every zone the network stack uses', async (t) => {
  const inv = load(...SPOT_MIX);
  t.same((await checkOfferings(ctx(inv, healthy()))).findings, []);
  const missing = await checkOfferings(ctx(inv, healthy({ offeredTypes: (zone, types) => Promise.resolve(types.filter((x) => !(zone === 'eu-west-1c' && x === 'm7g.large'))) })));
  t.same(subjects(missing), ['services.catalog.spot.instanceTypes', 'services.orders.instanceType']);
  t.match(missing.findings[1], { detail: 'm7g.large is not offered in eu-west-1c, one of the zones the network stack uses (eu-west-1a, eu-west-1b, eu-west-1c)', fix: /an arm64 type offered in every zone/ });
  const two = await checkOfferings(ctx(inv, healthy({ availabilityZones: () => Promise.resolve(['eu-west-1a', 'eu-west-1b']) })));
  t.match(two.findings, [{ subject: 'network.azCount', detail: 'eu-west-1 has 2 available zones, the network stack uses 3', fix: 'set network.azCount to 2 or deploy to another region' }]);
});

t.test('live certificates: ISSUED, covering the aliases and the API host name; the web ACL exists', async (t) => {
  const inv = load();
  t.same((await checkLiveCertificates(ctx(inv, healthy()))).findings, []);
  t.ok(covers('*.shop.example.com', 'api.shop.example.com') && !covers('*.shop.example.com', 'a.b.shop.example.com') && !covers('*.shop.example.com', 'shop.example.com'));
  const pending = await checkLiveCertificates(ctx(inv, healthy({ certificate: (arn) => Promise.resolve(arn.includes('us-east-1') ? { status: 'PENDING_VALIDATION', names: ['shop.example.com'] } : undefined) })));
  t.match(pending.findings, [
    { subject: 'domain.certificateArn', detail: 'the CloudFront certificate is PENDING_VALIDATION, not ISSUED', fix: /finish its validation/ },
    { subject: 'domain.certificateArn', detail: 'the CloudFront certificate covers shop.example.com, not www.shop.example.com' },
    { subject: 'domain.albCertificateArn', detail: /does not exist/ },
  ]);
  const zoned = load([['domain', 'hostedZoneId'], 'Z0123456789ABCDEFGHIJ']);
  t.match((await checkLiveCertificates(ctx(zoned, healthy()))).summary, [/./, /./, 'hosted zone Z0123456789ABCDEFGHIJ serves shop.example.com: shop.example.com, www.shop.example.com, api.shop.example.com', /./]);
  const other = await checkLiveCertificates(ctx(zoned, healthy({ hostedZone: () => Promise.resolve({ name: 'example.org.', private: false }) })));
  t.match(other.findings, [{ subject: 'domain.hostedZoneId', detail: 'Z0123456789ABCDEFGHIJ serves example.org, not shop.example.com, www.shop.example.com, api.shop.example.com' }]);
  const none = await checkLiveCertificates(ctx(zoned, healthy({ hostedZone: () => Promise.resolve(undefined) })));
  t.match(none.findings, [{ subject: 'domain.hostedZoneId', detail: /no hosted zone Z0123456789ABCDEFGHIJ/ }]);
  const noAcl = await checkLiveCertificates(ctx(inv, healthy({ webAclExists: () => Promise.resolve(false) })));
  t.match(noAcl.findings, [{ subject: 'domain.webAclArn', fix: /scope CLOUDFRONT/ }]);
  t.match((await checkLiveCertificates(ctx(load([['domain'], undefined]), healthy()))).summary, ['no domain: nothing to look up']);
});

t.test('names: the artifacts bucket of another account, stacks an update cannot start from, secrets being deleted', async (t) => {
  const inv = load();
  const clean = await checkCollisions(ctx(inv, healthy({ stackStatus: () => Promise.resolve('UPDATE_COMPLETE'), bucketState: () => Promise.resolve('owned') })));
  t.same(clean.findings, []);
  t.match(clean.summary, ['s3://saleday-artifacts-123456789012-eu-west-1: yours', /^\d+ stacks looked up: none in a state/]);
  const bad = await checkCollisions(ctx(inv, healthy({
    bucketState: () => Promise.resolve('forbidden'),
    stackStatus: (name) => Promise.resolve(name.endsWith('-network') ? 'ROLLBACK_COMPLETE' : name.endsWith('-database') ? 'UPDATE_IN_PROGRESS' : name.endsWith('-monitoring') ? 'REVIEW_IN_PROGRESS' : undefined),
    secretState: (name) => Promise.resolve(name.endsWith('/jwt') ? 'scheduled-for-deletion' : 'active'),
  })));
  t.match(bad.findings, [
    { subject: 'artifacts.bucket', detail: /belongs to another account/, fix: /keep \{accountId\} in it/ },
    { subject: 'stack saleday-production-network', detail: 'is ROLLBACK_COMPLETE: an update cannot start from it', fix: /delete the stack/ },
    { subject: 'stack saleday-production-database', detail: 'is UPDATE_IN_PROGRESS: an update cannot start from it', fix: /wait until the running operation ends/ },
    { subject: 'secret saleday/production/jwt', fix: 'aws secretsmanager restore-secret --secret-id saleday/production/jwt (or wait for the deletion)' },
  ]);
  t.equal(bad.findings.length, 4, 'REVIEW_IN_PROGRESS is no problem');
});

t.test('permissions: the caller simulated against what the stacks need; not simulable is a warning', async (t) => {
  t.equal(principalOf(`arn:aws:sts::${ACCOUNT}:assumed-role/deployer/session-1`), `arn:aws:iam::${ACCOUNT}:role/deployer`);
  t.equal(principalOf(`arn:aws:iam::${ACCOUNT}:user/me`), `arn:aws:iam::${ACCOUNT}:user/me`);
  const inv = load();
  let asked: readonly string[] = [];
  const ok = await checkPermissions(ctx(inv, healthy({ deniedActions: (_p, actions) => ((asked = actions), Promise.resolve([])) })));
  t.same(ok.findings, []);
  t.ok(['rds:CreateDBInstance', 'cloudfront:CreateDistribution', 'autoscaling:CreateAutoScalingGroup', 'iam:PassRole', 'cloudformation:ExecuteChangeSet'].every((a) => asked.includes(a)), 'the actions come from the stacks\' resource types');
  const denied = await checkPermissions(ctx(inv, healthy({ deniedActions: () => Promise.resolve(['iam:PassRole']) })));
  t.match(denied.findings, [{ level: 'error', subject: `arn:aws:iam::${ACCOUNT}:role/deployer`, detail: 'its policies deny iam:PassRole, which the deploy needs' }]);
  const unknown = await checkPermissions(ctx(inv, healthy({ deniedActions: () => Promise.reject(new NotPermittedError('iam:SimulatePrincipalPolicy')) })));
  t.match(unknown.findings, [{ level: 'warning', detail: /not checked: .* may not simulate its own policies \(iam:SimulatePrincipalPolicy\)/ }]);
});

t.test('duration: per stack and in total from the resource types; Multi-AZ RDS and CloudFront dominate', async (t) => {
  const inv = load();
  const c = ctx(inv, healthy());
  const db = c.stacks.find((s) => s.name === 'database')!;
  t.ok(stackMinutes(db) >= 25, `the Multi-AZ database stack takes longest (${stackMinutes(db)} min)`);
  const site = c.stacks.find((s) => s.name === 'static-site')!;
  t.ok(stackMinutes(site) >= 8, 'CloudFront takes minutes');
  const r = await checkDuration(c);
  t.same(r.findings, []);
  t.match(r.summary.at(-1), /^a first deploy takes about \d+ min/);
  t.comment(r.summary.join('\n'));
});

t.test('the SDK side: quota defaults, access denied, missing certificates, secrets being deleted', async (t) => {
  const sq = mockClient(ServiceQuotasClient);
  const ec2 = mockClient(EC2Client);
  const acm = mockClient(ACMClient);
  const sm = mockClient(SecretsManagerClient);
  t.teardown(() => [sq, ec2, acm, sm].forEach((m) => m.restore()));
  const aws = sdkPreflightAws(new AwsClients({ region: 'eu-west-1', retry: FAST_RETRY }));
  process.env.AWS_ACCESS_KEY_ID ??= TEST_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY ??= TEST_CREDENTIALS.secretAccessKey;

  sq.on(GetServiceQuotaCommand, { QuotaCode: 'L-1216C47A' }).resolves({ Quota: { Value: 640 } });
  sq.on(GetServiceQuotaCommand, { QuotaCode: 'L-F678F1CE' }).rejects(awsError('NoSuchResourceException', 'never applied'));
  sq.on(GetAWSDefaultServiceQuotaCommand, { QuotaCode: 'L-F678F1CE' }).resolves({ Quota: { Value: 5 } });
  sq.on(GetServiceQuotaCommand, { QuotaCode: 'L-0263D0A3' }).rejects(awsError('AccessDeniedException', 'no', 403));
  t.equal(await aws.quota('ec2', 'L-1216C47A'), 640, 'the applied value');
  t.equal(await aws.quota('vpc', 'L-F678F1CE'), 5, 'the default when never applied');
  await t.rejects(aws.quota('ec2', 'L-0263D0A3'), new NotPermittedError('servicequotas:GetServiceQuota'));

  ec2.on(DescribeInstanceTypesCommand).resolves({ InstanceTypes: [{ InstanceType: 'c7g.large', VCpuInfo: { DefaultVCpus: 2 } }, { InstanceType: 'm7g.xlarge', VCpuInfo: { DefaultVCpus: 4 } }] });
  t.same(await aws.vcpus(['c7g.large', 'm7g.xlarge']), { 'c7g.large': 2, 'm7g.xlarge': 4 });

  acm.on(DescribeCertificateCommand).rejects(awsError('ResourceNotFoundException', 'no such certificate'));
  t.equal(await aws.certificate('arn:aws:acm:us-east-1:123456789012:certificate/x'), undefined);

  sm.on(DescribeSecretCommand, { SecretId: 'saleday/production/jwt' }).resolves({ Name: 'saleday/production/jwt', DeletedDate: new Date() });
  sm.on(DescribeSecretCommand, { SecretId: 'saleday/production/jwt-public' }).resolves({ Name: 'saleday/production/jwt-public' });
  sm.on(DescribeSecretCommand, { SecretId: 'saleday/production/none' }).rejects(awsError('ResourceNotFoundException', 'missing'));
  t.equal(await aws.secretState('saleday/production/jwt'), 'scheduled-for-deletion');
  t.equal(await aws.secretState('saleday/production/jwt-public'), 'active');
  t.equal(await aws.secretState('saleday/production/none'), 'missing');
});
