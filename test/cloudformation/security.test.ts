// Acceptance 2: the security rules pass on every rendered template, and each rule (named after the
// cfn-nag / checkov / cfn-lint rule it mirrors, listed in cloudformation/README.md) catches a template broken
// the way it guards against.
import { readFile } from 'node:fs/promises';
import t from 'tap';
import { checkSecurity, SECURITY_RULES } from '../../cloudformation/lib/security-rules.js';
import { formatFinding } from '../../cloudformation/lib/findings.js';
import type { Template } from '../../cloudformation/lib/template.js';
import { copy, ENVIRONMENTS, rendered, repoFile, type Rendered } from './fixtures.js';

const envs = new Map<string, Rendered>();
for (const env of ENVIRONMENTS) envs.set(env, await rendered(env));
const production = envs.get('production')!;
const template = (stack: string): Template => copy(production.stack(stack).template);
/** The rule ids `checkSecurity` reports for a template, with their messages. */
const report = (x: Template) => checkSecurity(x, 'broken');
const ids = (x: Template) => report(x).map((f) => f.rule);

t.test('every rendered template passes every rule; the one warning is the plain-HTTP origin without a certificate', (t) => {
  const warnings: string[] = [];
  for (const [env, r] of envs) {
    for (const s of r.stacks) {
      const findings = checkSecurity(s.template, `${env}/${s.name}`);
      t.same(findings.filter((f) => f.severity === 'error').map(formatFinding), [], `${env}/${s.name}`);
      warnings.push(...findings.filter((f) => f.severity === 'warning').map((f) => `${f.stack} ${f.rule}`));
    }
  }
  // Staging (and local, rendered from a copy of it) has no load balancer certificate.
  t.same(warnings.sort(), ENVIRONMENTS.filter((e) => !envs.get(e)!.inv.domain?.albCertificateArn).map((e) => `${e}/static-site CloudFront.9`).sort());
  t.end();
});

t.test('cloudformation/README.md lists every rule with what it mirrors', async (t) => {
  const readme = await readFile(repoFile('cloudformation/README.md'), 'utf8');
  for (const rule of SECURITY_RULES) {
    const row = readme.split('\n').find((line) => line.startsWith(`| \`${rule.id}\` |`));
    t.ok(row, `${rule.id} has a row`);
    t.ok(row?.includes(`| ${rule.mirrors} |`), `${rule.id}'s row names what it mirrors: ${rule.mirrors}`);
  }
});

/** Asserts `rule` fires on the broken template, with a message matching `says`, and only where broken. */
function catches(t: Asserts, rule: string, broken: Template, says: RegExp, at?: string): void {
  const findings = report(broken).filter((f) => f.rule === rule);
  t.ok(findings.length > 0, `${rule} fires`);
  t.match(findings.map((f) => `${f.path}: ${f.message}`).join('\n'), says, `${rule} says why`);
  if (at) t.ok(findings.every((f) => f.resource === at), `${rule} points at ${at}`);
}
interface Asserts {
  ok(...args: any[]): unknown;
  match(...args: any[]): unknown;
}

t.test('F27: unencrypted RDS storage', (t) => {
  const x = template('database');
  x.Resources.Database!.Properties!.StorageEncrypted = false;
  catches(t, 'F27', x, /StorageEncrypted: database storage must be encrypted/);
  t.ok(ids(x).filter((id) => id === 'F27').length >= 3, 'and both replicas of the unencrypted primary');
  const missing = template('database');
  delete missing.Resources.Database!.Properties!.StorageEncrypted;
  catches(t, 'F27', missing, /must be encrypted/, undefined);
  t.end();
});

t.test('CKV_AWS_8: unencrypted EBS', (t) => {
  const x = template('service-orders');
  const data = x.Resources.LaunchTemplate!.Properties!.LaunchTemplateData as { BlockDeviceMappings: Array<{ Ebs: Record<string, unknown> }> };
  data.BlockDeviceMappings[0]!.Ebs.Encrypted = false;
  catches(t, 'CKV_AWS_8', x, /BlockDeviceMappings\[0\]\.Ebs\.Encrypted: EBS volume must be encrypted/, 'LaunchTemplate');
  const implicit = template('service-orders');
  delete (implicit.Resources.LaunchTemplate!.Properties!.LaunchTemplateData as Record<string, unknown>).BlockDeviceMappings;
  catches(t, 'CKV_AWS_8', implicit, /root volume must be declared with Encrypted: true/);
  const volume = template('service-orders');
  volume.Resources.Scratch = { Type: 'AWS::EC2::Volume', Properties: { Size: 10, AvailabilityZone: 'eu-west-1a' } };
  catches(t, 'CKV_AWS_8', volume, /EBS volume must be encrypted/, 'Scratch');
  t.end();
});

t.test('CKV_AWS_29: a cache not encrypted, or open without a token', (t) => {
  const x = template('cache');
  const group = x.Resources.ReplicationGroup!.Properties!;
  group.AtRestEncryptionEnabled = false;
  catches(t, 'CKV_AWS_29', x, /AtRestEncryptionEnabled: cache data must be encrypted at rest/, 'ReplicationGroup');
  const clear = template('cache');
  delete clear.Resources.ReplicationGroup!.Properties!.TransitEncryptionEnabled;
  catches(t, 'CKV_AWS_29', clear, /TransitEncryptionEnabled: connections must be encrypted/, 'ReplicationGroup');
  const open = template('cache');
  delete open.Resources.ReplicationGroup!.Properties!.AuthToken;
  catches(t, 'CKV_AWS_29', open, /AuthToken: clients must authenticate/, 'ReplicationGroup');
  const single = template('cache');
  single.Resources.Lone = { Type: 'AWS::ElastiCache::CacheCluster', Properties: { Engine: 'redis', CacheNodeType: 'cache.t4g.micro', NumCacheNodes: 1 } };
  catches(t, 'CKV_AWS_29', single, /use an AWS::ElastiCache::ReplicationGroup/, 'Lone');
  t.end();
});

t.test('W2501 and I3011 know the cache: a literal AUTH token, no final snapshot', (t) => {
  const literal = template('cache');
  literal.Resources.ReplicationGroup!.Properties!.AuthToken = 'hunter2hunter2hunter2';
  catches(t, 'W2501', literal, /AuthToken holds a literal value/, 'ReplicationGroup');
  const dropped = template('cache');
  delete dropped.Resources.ReplicationGroup!.DeletionPolicy;
  catches(t, 'I3011', dropped, /ReplicationGroup holds data: DeletionPolicy must be Snapshot or Retain/, 'ReplicationGroup');
  t.end();
});

t.test('CKV_AWS_19: unencrypted S3', (t) => {
  const x = template('static-site');
  delete x.Resources.AssetsBucket!.Properties!.BucketEncryption;
  catches(t, 'CKV_AWS_19', x, /must declare default encryption/, 'AssetsBucket');
  t.end();
});

t.test('F22: a publicly accessible database', (t) => {
  const x = template('database');
  x.Resources.DatabaseReplica1!.Properties!.PubliclyAccessible = true;
  catches(t, 'F22', x, /must not be publicly accessible/, 'DatabaseReplica1');
  const implicit = template('database');
  delete implicit.Resources.Database!.Properties!.PubliclyAccessible;
  catches(t, 'F22', implicit, /set PubliclyAccessible: false explicitly/, 'Database');
  t.end();
});

t.test('CKV_AWS_79: IMDSv1 allowed', (t) => {
  const x = template('service-users');
  const data = x.Resources.LaunchTemplate!.Properties!.LaunchTemplateData as { MetadataOptions: Record<string, unknown> };
  data.MetadataOptions.HttpTokens = 'optional';
  catches(t, 'CKV_AWS_79', x, /IMDSv1 is allowed/, 'LaunchTemplate');
  delete (x.Resources.LaunchTemplate!.Properties!.LaunchTemplateData as Record<string, unknown>).MetadataOptions;
  catches(t, 'CKV_AWS_79', x, /IMDSv1 is allowed/, 'LaunchTemplate');
  t.end();
});

t.test('W2: 0.0.0.0/0 ingress anywhere, the load balancer included', (t) => {
  const instance = template('service-catalog');
  (instance.Resources.InstanceSecurityGroup!.Properties!.SecurityGroupIngress as Array<Record<string, unknown>>).push({ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, CidrIp: '0.0.0.0/0' });
  catches(t, 'W2', instance, /ingress from 0\.0\.0\.0\/0 on tcp 22-22: nothing may be open to the world/, 'InstanceSecurityGroup');
  const evenOn443 = template('service-catalog');
  (evenOn443.Resources.InstanceSecurityGroup!.Properties!.SecurityGroupIngress as Array<Record<string, unknown>>).push({ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, CidrIpv6: '::/0' });
  catches(t, 'W2', evenOn443, /ingress from ::\/0/, 'InstanceSecurityGroup');
  const alb = template('load-balancer');
  (alb.Resources.LoadBalancerSecurityGroup!.Properties!.SecurityGroupIngress as Array<Record<string, unknown>>).push({ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, CidrIp: '0.0.0.0/0' });
  catches(t, 'W2', alb, /the load balancer is open to the world on tcp 443-443: callers would walk around CloudFront/, 'LoadBalancerSecurityGroup');
  const standalone = template('service-catalog');
  standalone.Resources.Open = { Type: 'AWS::EC2::SecurityGroupIngress', Properties: { GroupId: { Ref: 'DatabaseSecurityGroupId' }, IpProtocol: 'tcp', FromPort: 3306, ToPort: 3306, CidrIp: '0.0.0.0/0' } };
  catches(t, 'W2', standalone, /on tcp 3306-3306/, 'Open');
  t.same(ids(template('load-balancer')).filter((id) => id === 'W2'), [], 'the load balancer open to the CloudFront prefix list passes');
  t.end();
});

t.test('CKV_AWS_53: S3 public access not blocked', (t) => {
  const x = template('static-site');
  (x.Resources.AssetsBucket!.Properties!.PublicAccessBlockConfiguration as Record<string, unknown>).BlockPublicPolicy = false;
  catches(t, 'CKV_AWS_53', x, /public access not blocked: BlockPublicPolicy must be true/, 'AssetsBucket');
  delete x.Resources.AssetsBucket!.Properties!.PublicAccessBlockConfiguration;
  catches(t, 'CKV_AWS_53', x, /BlockPublicAcls, BlockPublicPolicy, IgnorePublicAcls, RestrictPublicBuckets/);
  t.end();
});

t.test('CKV_AWS_34: CloudFront allowing plain HTTP', (t) => {
  const x = template('static-site');
  const config = x.Resources.Distribution!.Properties!.DistributionConfig as { DefaultCacheBehavior: Record<string, unknown>; CacheBehaviors: Array<Record<string, unknown>> };
  config.CacheBehaviors[0]!.ViewerProtocolPolicy = 'allow-all';
  catches(t, 'CKV_AWS_34', x, /CacheBehaviors\[0\]\.ViewerProtocolPolicy: viewers may use plain HTTP \(allow-all\)/, 'Distribution');
  config.CacheBehaviors[0]!.ViewerProtocolPolicy = 'https-only';
  delete config.DefaultCacheBehavior.ViewerProtocolPolicy;
  catches(t, 'CKV_AWS_34', x, /DefaultCacheBehavior\.ViewerProtocolPolicy/);
  t.end();
});

t.test('CloudFront.9: a custom origin over plain HTTP is a warning', (t) => {
  const x = template('static-site');
  const origins = (x.Resources.Distribution!.Properties!.DistributionConfig as { Origins: Array<{ CustomOriginConfig?: Record<string, unknown> }> }).Origins;
  origins[1]!.CustomOriginConfig!.OriginProtocolPolicy = 'match-viewer';
  catches(t, 'CloudFront.9', x, /Origins\[1\].*over plain HTTP \(match-viewer\).*domain\.apiHostname and domain\.albCertificateArn/, 'Distribution');
  t.ok(report(x).filter((f) => f.rule === 'CloudFront.9').every((f) => f.severity === 'warning'), 'as a warning: the deploy goes on and says so');
  t.same(ids(template('static-site')).filter((id) => id === 'CloudFront.9'), [], 'production, over HTTPS, passes');
  t.end();
});

t.test('F3: IAM action "*" where a narrower one exists', (t) => {
  const x = template('service-inventory');
  const policies = x.Resources.InstanceRole!.Properties!.Policies as Array<{ PolicyDocument: { Statement: Array<Record<string, unknown>> } }>;
  policies[1]!.PolicyDocument.Statement[0]!.Action = 's3:*';
  catches(t, 'F3', x, /action s3:\*: name the actions/, 'InstanceRole');
  policies[1]!.PolicyDocument.Statement[0]!.Action = ['s3:GetObject', '*'];
  catches(t, 'F3', x, /action \*:/);
  const managed = template('service-inventory');
  managed.Resources.Extra = { Type: 'AWS::IAM::ManagedPolicy', Properties: { PolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', NotAction: 'iam:*', Resource: { Ref: 'DbSecretArn' } }] } } };
  catches(t, 'F3', managed, /Allow with NotAction/, 'Extra');
  t.end();
});

t.test('W11: IAM resource "*" where a narrower one exists', (t) => {
  const x = template('service-orders');
  const policies = x.Resources.InstanceRole!.Properties!.Policies as Array<{ PolicyDocument: { Statement: Array<Record<string, unknown>> } }>;
  policies[0]!.PolicyDocument.Statement[0]!.Resource = '*';
  catches(t, 'W11', x, /Resource "\*" for secretsmanager:GetSecretValue, secretsmanager:DescribeSecret: name the resources/, 'InstanceRole');
  const flowLogs = template('network');
  const role = flowLogs.Resources.FlowLogRole!.Properties!.Policies as Array<{ PolicyDocument: { Statement: Array<Record<string, unknown>> } }>;
  role[0]!.PolicyDocument.Statement[0]!.Resource = 'arn:aws:logs:eu-west-1:123456789012:*';
  catches(t, 'W11', flowLogs, /name the resources/, 'FlowLogRole');
  const metrics = template('service-orders');
  (metrics.Resources.InstanceRole!.Properties!.Policies as Array<{ PolicyDocument: { Statement: unknown[] } }>)[0]!.PolicyDocument.Statement.push({ Effect: 'Allow', Action: 'cloudwatch:PutMetricData', Resource: '*' });
  t.same(ids(metrics).filter((id) => id === 'W11'), [], 'an action with no narrower resource may use "*"');
  t.end();
});

t.test('W2501: a password or secret value in a template', (t) => {
  const password = template('database');
  delete password.Resources.Database!.Properties!.ManageMasterUserPassword;
  password.Resources.Database!.Properties!.MasterUserPassword = 'hunter2hunter2';
  catches(t, 'W2501', password, /MasterUserPassword holds a literal value/, 'Database');

  const parameter = template('database');
  parameter.Parameters.DbPassword = { Type: 'String', Description: 'the password', MinLength: 12, Default: 'changeme12345' };
  parameter.Resources.Database!.Properties!.MasterUserPassword = { Ref: 'DbPassword' };
  catches(t, 'W2501', parameter, /must be NoEcho/);
  catches(t, 'W2501', parameter, /must not have a Default/);
  catches(t, 'W2501', parameter, /comes from parameter DbPassword, which is not NoEcho/);

  const secretString = template('database');
  const secret = secretString.Resources.OrdersDbSecret!.Properties!;
  delete secret.GenerateSecretString;
  secret.SecretString = '{"username":"orders","password":"s3cr3t"}';
  catches(t, 'W2501', secretString, /SecretString holds a literal value/, 'OrdersDbSecret');

  const template_ = template('database');
  (template_.Resources.OrdersDbSecret!.Properties!.GenerateSecretString as Record<string, unknown>).SecretStringTemplate = '{"username":"orders","password":"s3cr3t"}';
  catches(t, 'W2501', template_, /SecretStringTemplate carries a secret field/);

  const userData = template('service-orders');
  const data = userData.Resources.LaunchTemplate!.Properties!.LaunchTemplateData as { UserData: { 'Fn::Base64': { 'Fn::Sub': string } } };
  data.UserData['Fn::Base64']['Fn::Sub'] = data.UserData['Fn::Base64']['Fn::Sub'].replace('DB_TLS=on', 'DB_TLS=on\nDB_PASSWORD=hunter2');
  catches(t, 'W2501', userData, /DB_PASSWORD is set to a value: secrets are passed as references/, 'LaunchTemplate');

  const pem = template('service-users');
  const pemData = pem.Resources.LaunchTemplate!.Properties!.LaunchTemplateData as { UserData: { 'Fn::Base64': { 'Fn::Sub': string } } };
  pemData.UserData['Fn::Base64']['Fn::Sub'] += '\ncat > /etc/key.pem <<EOF\n-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\n-----END EC PRIVATE KEY-----\nEOF\n';
  catches(t, 'W2501', pem, /a private key in the template/);

  const accessKey = template('monitoring');
  accessKey.Resources.AlarmTopic!.Properties!.DisplayName = 'AKIAIOSFODNN7EXAMPLE';
  catches(t, 'W2501', accessKey, /an AWS access key id/, 'AlarmTopic');
  t.end();
});

t.test('I3011: a stateful resource without a Snapshot or Retain policy', (t) => {
  const db = template('database');
  db.Resources.Database!.DeletionPolicy = 'Delete';
  catches(t, 'I3011', db, /Resources\.Database\.DeletionPolicy: AWS::RDS::DBInstance holds data: DeletionPolicy must be Snapshot or Retain, not Delete/, 'Database');
  const bucket = template('static-site');
  delete bucket.Resources.AssetsBucket!.UpdateReplacePolicy;
  catches(t, 'I3011', bucket, /UpdateReplacePolicy must be Retain/, 'AssetsBucket');
  bucket.Resources.AssetsBucket!.DeletionPolicy = 'Snapshot';
  catches(t, 'I3011', bucket, /DeletionPolicy must be Retain, not Snapshot/, 'AssetsBucket');
  const logs = template('network');
  delete logs.Resources.FlowLogGroup!.DeletionPolicy;
  catches(t, 'I3011', logs, /AWS::Logs::LogGroup holds data/, 'FlowLogGroup');
  const secrets = template('database');
  delete secrets.Resources.UsersDbSecret!.DeletionPolicy;
  catches(t, 'I3011', secrets, /AWS::SecretsManager::Secret holds data/, 'UsersDbSecret');
  t.same(ids(template('database')).filter((id) => id === 'I3011'), [], 'read replicas (no data of their own) may be deleted');
  t.end();
});

t.test('every rule has a test above', (t) => {
  const tested = ['F27', 'CKV_AWS_8', 'CKV_AWS_19', 'CKV_AWS_29', 'F22', 'CKV_AWS_79', 'W2', 'CKV_AWS_53', 'CKV_AWS_34', 'CloudFront.9', 'F3', 'W11', 'W2501', 'I3011'];
  t.same(SECURITY_RULES.map((r) => r.id).sort(), tested.sort());
  t.end();
});
