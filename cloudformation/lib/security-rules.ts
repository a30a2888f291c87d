// The project's own security rules for rendered templates. Each is named after the cfn-nag,
// checkov or cfn-lint rule it mirrors (cloudformation/README.md, "Security rules"), works on the template object
// alone (no AWS, no spec file) and returns findings. Written here rather than running those tools
// because they are Python/Ruby programs the CI image does not carry, and because these rules know
// the project's conventions (nothing is open to the world: the ALB admits CloudFront's prefix list, read replicas hold no data
// of their own, secrets are only ever passed as aws:<arn> references).
import type { Finding } from './findings.js';
import { walk } from './findings.js';
import { intrinsicName, type Resource, type Template } from './template.js';

export interface SecurityRule {
  /** The id of the rule it mirrors, e.g. F22 (cfn-nag), CKV_AWS_79 (checkov), I3011 (cfn-lint). */
  id: string;
  /** Which tools' rules it mirrors, for the table in cloudformation/README.md. */
  mirrors: string;
  title: string;
  /** 'warning' for a finding that does not stop a deploy (the review shows it); errors otherwise. */
  severity?: 'warning';
  check(template: Template): Violation[];
}

export interface Violation {
  resource: string;
  path: string;
  message: string;
}

type Resources = Array<[string, Resource]>;
const ofType = (t: Template, ...types: string[]): Resources => Object.entries(t.Resources ?? {}).filter(([, r]) => types.includes(r.Type));
const props = (r: Resource): Record<string, unknown> => r.Properties ?? {};
const isTrue = (v: unknown) => v === true || v === 'true';
const isFalse = (v: unknown) => v === false || v === 'false';
/** The logical id a Ref or Fn::GetAtt points at, if `v` is one. */
const target = (v: unknown): string | undefined => {
  const fn = intrinsicName(v);
  const arg = fn ? (v as Record<string, unknown>)[fn] : undefined;
  if (fn === 'Ref' && typeof arg === 'string') return arg;
  if (fn === 'Fn::GetAtt') return Array.isArray(arg) ? String(arg[0]) : typeof arg === 'string' ? arg.split('.')[0] : undefined;
  return undefined;
};

// --- encryption at rest -----------------------------------------------------------------------------

const rdsEncrypted: SecurityRule = {
  id: 'F27',
  mirrors: 'cfn-nag F27 (F26 for clusters), checkov CKV_AWS_16',
  title: 'RDS storage is encrypted',
  check(t) {
    const out: Violation[] = [];
    for (const [id, r] of ofType(t, 'AWS::RDS::DBInstance', 'AWS::RDS::DBCluster')) {
      const p = props(r);
      if (r.Type === 'AWS::RDS::DBInstance' && p.DBClusterIdentifier !== undefined) continue; // encrypted at cluster level
      const source = p.SourceDBInstanceIdentifier;
      if (source !== undefined) {
        // A replica inherits encryption from its source; check the source when it is in this template.
        const src = target(source);
        const srcResource = src ? t.Resources[src] : undefined;
        if (srcResource && !isTrue(props(srcResource).StorageEncrypted)) out.push({ resource: id, path: `Resources.${id}.Properties.SourceDBInstanceIdentifier`, message: `replica of ${src}, whose storage is not encrypted` });
        continue;
      }
      if (!isTrue(p.StorageEncrypted)) out.push({ resource: id, path: `Resources.${id}.Properties.StorageEncrypted`, message: 'database storage must be encrypted (StorageEncrypted: true)' });
    }
    return out;
  },
};

const ebsEncrypted: SecurityRule = {
  id: 'CKV_AWS_8',
  mirrors: 'checkov CKV_AWS_8 (launch configurations; extended to launch templates), cfn-nag F1 (volumes)',
  title: 'EBS volumes are encrypted',
  check(t) {
    const out: Violation[] = [];
    for (const [id, r] of ofType(t, 'AWS::EC2::Volume')) {
      if (!isTrue(props(r).Encrypted)) out.push({ resource: id, path: `Resources.${id}.Properties.Encrypted`, message: 'EBS volume must be encrypted' });
    }
    const mappings: Array<[string, string, unknown]> = [];
    for (const [id, r] of ofType(t, 'AWS::EC2::LaunchTemplate')) {
      const data = (props(r).LaunchTemplateData ?? {}) as Record<string, unknown>;
      mappings.push([id, `Resources.${id}.Properties.LaunchTemplateData.BlockDeviceMappings`, data.BlockDeviceMappings]);
      if (!data.BlockDeviceMappings) out.push({ resource: id, path: `Resources.${id}.Properties.LaunchTemplateData.BlockDeviceMappings`, message: 'the root volume must be declared with Encrypted: true (the AMI default may not be encrypted)' });
    }
    for (const [id, r] of ofType(t, 'AWS::EC2::Instance', 'AWS::AutoScaling::LaunchConfiguration')) {
      mappings.push([id, `Resources.${id}.Properties.BlockDeviceMappings`, props(r).BlockDeviceMappings]);
    }
    for (const [id, path, list] of mappings) {
      if (!Array.isArray(list)) continue;
      list.forEach((m: { Ebs?: { Encrypted?: unknown }; VirtualName?: unknown }, i) => {
        if (m.Ebs && !isTrue(m.Ebs.Encrypted)) out.push({ resource: id, path: `${path}[${i}].Ebs.Encrypted`, message: 'EBS volume must be encrypted' });
      });
    }
    return out;
  },
};

const s3Encrypted: SecurityRule = {
  id: 'CKV_AWS_19',
  mirrors: 'checkov CKV_AWS_19, cfn-nag W41',
  title: 'S3 buckets have default encryption',
  check(t) {
    const out: Violation[] = [];
    for (const [id, r] of ofType(t, 'AWS::S3::Bucket')) {
      const rules = ((props(r).BucketEncryption ?? {}) as { ServerSideEncryptionConfiguration?: Array<{ ServerSideEncryptionByDefault?: { SSEAlgorithm?: unknown } }> }).ServerSideEncryptionConfiguration;
      const ok = Array.isArray(rules) && rules.some((x) => ['AES256', 'aws:kms', 'aws:kms:dsse'].includes(String(x.ServerSideEncryptionByDefault?.SSEAlgorithm)));
      if (!ok) out.push({ resource: id, path: `Resources.${id}.Properties.BucketEncryption`, message: 'bucket must declare default encryption (AES256 or aws:kms)' });
    }
    return out;
  },
};

const cacheEncrypted: SecurityRule = {
  id: 'CKV_AWS_29',
  mirrors: 'checkov CKV_AWS_29 (at rest), CKV_AWS_30 (in transit), CKV_AWS_31 (in transit with an AUTH token)',
  title: 'ElastiCache (Redis OSS, Valkey) is encrypted at rest and in transit and requires an AUTH token',
  check(t) {
    const out: Violation[] = [];
    for (const [id, r] of ofType(t, 'AWS::ElastiCache::ReplicationGroup')) {
      const p = props(r);
      const at = (name: string) => `Resources.${id}.Properties.${name}`;
      if (!isTrue(p.AtRestEncryptionEnabled)) out.push({ resource: id, path: at('AtRestEncryptionEnabled'), message: 'cache data must be encrypted at rest (AtRestEncryptionEnabled: true)' });
      if (!isTrue(p.TransitEncryptionEnabled)) out.push({ resource: id, path: at('TransitEncryptionEnabled'), message: 'connections must be encrypted (TransitEncryptionEnabled: true)' });
      if (p.AuthToken === undefined && p.UserGroupIds === undefined) out.push({ resource: id, path: at('AuthToken'), message: 'clients must authenticate: an AuthToken (a {{resolve:secretsmanager:…}} reference) or user groups' });
    }
    // A lone cache cluster of these engines has neither: a replication group has both.
    for (const [id, r] of ofType(t, 'AWS::ElastiCache::CacheCluster')) {
      if (['redis', 'valkey'].includes(String(props(r).Engine))) out.push({ resource: id, path: `Resources.${id}.Properties.Engine`, message: 'a single cache cluster cannot encrypt or require AUTH: use an AWS::ElastiCache::ReplicationGroup' });
    }
    return out;
  },
};

// --- exposure ------------------------------------------------------------------------------------------

const rdsNotPublic: SecurityRule = {
  id: 'F22',
  mirrors: 'cfn-nag F22, checkov CKV_AWS_17',
  title: 'RDS instances are not publicly accessible',
  check(t) {
    return ofType(t, 'AWS::RDS::DBInstance')
      .filter(([, r]) => !isFalse(props(r).PubliclyAccessible))
      .map(([id, r]) => ({
        resource: id,
        path: `Resources.${id}.Properties.PubliclyAccessible`,
        message: isTrue(props(r).PubliclyAccessible) ? 'database must not be publicly accessible' : 'set PubliclyAccessible: false explicitly (the default depends on the subnets)',
      }));
  },
};

const imdsV2: SecurityRule = {
  id: 'CKV_AWS_79',
  mirrors: 'checkov CKV_AWS_79',
  title: 'Instance metadata requires IMDSv2 tokens',
  check(t) {
    const out: Violation[] = [];
    for (const [id, r] of ofType(t, 'AWS::EC2::LaunchTemplate')) {
      const m = (((props(r).LaunchTemplateData ?? {}) as Record<string, unknown>).MetadataOptions ?? {}) as Record<string, unknown>;
      if (m.HttpEndpoint !== 'disabled' && m.HttpTokens !== 'required') out.push({ resource: id, path: `Resources.${id}.Properties.LaunchTemplateData.MetadataOptions.HttpTokens`, message: 'IMDSv1 is allowed: set HttpTokens: required' });
    }
    for (const [id, r] of ofType(t, 'AWS::AutoScaling::LaunchConfiguration')) {
      const m = (props(r).MetadataOptions ?? {}) as Record<string, unknown>;
      if (m.HttpEndpoint !== 'disabled' && m.HttpTokens !== 'required') out.push({ resource: id, path: `Resources.${id}.Properties.MetadataOptions.HttpTokens`, message: 'IMDSv1 is allowed: set HttpTokens: required' });
    }
    for (const [id, r] of ofType(t, 'AWS::EC2::Instance')) {
      if (!props(r).LaunchTemplate) out.push({ resource: id, path: `Resources.${id}.Properties.LaunchTemplate`, message: 'an instance without a launch template allows IMDSv1' });
    }
    return out;
  },
};

const worldIngress: SecurityRule = {
  id: 'W2',
  mirrors: 'cfn-nag W2 (and W9), checkov CKV_AWS_260 / CKV_AWS_24 / CKV_AWS_25',
  title: 'Nothing is open to the world, the load balancer included (it admits CloudFront only)',
  check(t) {
    const out: Violation[] = [];
    const albGroups = new Set<string>();
    for (const [, r] of ofType(t, 'AWS::ElasticLoadBalancingV2::LoadBalancer')) {
      const groups = props(r).SecurityGroups;
      if (Array.isArray(groups)) groups.forEach((g) => { const id = target(g); if (id) albGroups.add(id); });
    }
    const judge = (group: string | undefined, rule: Record<string, unknown>, resource: string, path: string) => {
      const open = rule.CidrIp === '0.0.0.0/0' || rule.CidrIpv6 === '::/0';
      if (!open) return;
      const from = Number(rule.FromPort);
      const to = Number(rule.ToPort);
      const ports = `${String(rule.IpProtocol)} ${Number.isFinite(from) ? from : '*'}-${Number.isFinite(to) ? to : '*'}`;
      out.push({
        resource,
        path,
        message: group && albGroups.has(group)
          ? `the load balancer is open to the world on ${ports}: callers would walk around CloudFront and its web ACL; admit the CloudFront origin-facing prefix list (SourcePrefixListId) instead`
          : `ingress from ${String(rule.CidrIp ?? rule.CidrIpv6)} on ${ports}: nothing may be open to the world`,
      });
    };
    for (const [id, r] of ofType(t, 'AWS::EC2::SecurityGroup')) {
      const rules = props(r).SecurityGroupIngress;
      if (Array.isArray(rules)) rules.forEach((rule: Record<string, unknown>, i) => judge(id, rule, id, `Resources.${id}.Properties.SecurityGroupIngress[${i}]`));
    }
    for (const [id, r] of ofType(t, 'AWS::EC2::SecurityGroupIngress')) judge(target(props(r).GroupId), props(r), id, `Resources.${id}.Properties`);
    return out;
  },
};

const s3PublicAccessBlocked: SecurityRule = {
  id: 'CKV_AWS_53',
  mirrors: 'checkov CKV_AWS_53, CKV_AWS_54, CKV_AWS_55, CKV_AWS_56',
  title: 'S3 public access is blocked',
  check(t) {
    const out: Violation[] = [];
    for (const [id, r] of ofType(t, 'AWS::S3::Bucket')) {
      const block = (props(r).PublicAccessBlockConfiguration ?? {}) as Record<string, unknown>;
      const off = ['BlockPublicAcls', 'BlockPublicPolicy', 'IgnorePublicAcls', 'RestrictPublicBuckets'].filter((k) => !isTrue(block[k]));
      if (off.length) out.push({ resource: id, path: `Resources.${id}.Properties.PublicAccessBlockConfiguration`, message: `public access not blocked: ${off.join(', ')} must be true` });
    }
    return out;
  },
};

const cloudFrontHttps: SecurityRule = {
  id: 'CKV_AWS_34',
  mirrors: 'checkov CKV_AWS_34',
  title: 'CloudFront viewers use HTTPS only',
  check(t) {
    const out: Violation[] = [];
    for (const [id, r] of ofType(t, 'AWS::CloudFront::Distribution')) {
      const config = (props(r).DistributionConfig ?? {}) as Record<string, unknown>;
      const behaviours: Array<[string, unknown]> = [[`Resources.${id}.Properties.DistributionConfig.DefaultCacheBehavior`, config.DefaultCacheBehavior]];
      (Array.isArray(config.CacheBehaviors) ? config.CacheBehaviors : []).forEach((b, i) => behaviours.push([`Resources.${id}.Properties.DistributionConfig.CacheBehaviors[${i}]`, b]));
      for (const [path, b] of behaviours) {
        const policy = (b as { ViewerProtocolPolicy?: unknown } | undefined)?.ViewerProtocolPolicy;
        if (policy !== 'https-only' && policy !== 'redirect-to-https') out.push({ resource: id, path: `${path}.ViewerProtocolPolicy`, message: `viewers may use plain HTTP (${String(policy)}): use https-only or redirect-to-https` });
      }
    }
    return out;
  },
};

const cloudFrontOriginHttps: SecurityRule = {
  id: 'CloudFront.9',
  mirrors: 'AWS Security Hub CloudFront.9 (CloudFront distributions should encrypt traffic to custom origins)',
  title: 'CloudFront reaches custom origins over HTTPS',
  severity: 'warning',
  check(t) {
    const out: Violation[] = [];
    for (const [id, r] of ofType(t, 'AWS::CloudFront::Distribution')) {
      const origins = ((props(r).DistributionConfig ?? {}) as { Origins?: unknown }).Origins;
      (Array.isArray(origins) ? origins : []).forEach((origin: { Id?: unknown; CustomOriginConfig?: { OriginProtocolPolicy?: unknown } }, i) => {
        const policy = origin.CustomOriginConfig?.OriginProtocolPolicy;
        if (origin.CustomOriginConfig && policy !== 'https-only') {
          out.push({
            resource: id,
            path: `Resources.${id}.Properties.DistributionConfig.Origins[${i}].CustomOriginConfig.OriginProtocolPolicy`,
            message: `CloudFront reaches origin ${String(origin.Id)} over plain HTTP (${String(policy)}), Authorization headers and the origin header included: give the inventory domain.apiHostname and domain.albCertificateArn`,
          });
        }
      });
    }
    return out;
  },
};

// --- IAM --------------------------------------------------------------------------------------------------

/** Actions that only accept Resource "*" (no narrower resource exists for them). */
export const RESOURCE_STAR_ONLY = new Set([
  'cloudwatch:PutMetricData', 'ec2:DescribeInstances', 'ec2:DescribeTags', 'ec2:DescribeVolumes',
  'ssm:DescribeInstanceInformation', 'xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'sts:GetCallerIdentity',
  'autoscaling:DescribeAutoScalingInstances', 'autoscaling:DescribeAutoScalingGroups',
]);

interface Statement { Effect?: unknown; Action?: unknown; NotAction?: unknown; Resource?: unknown; NotResource?: unknown }

/** Identity-based policy statements (roles, policies, managed policies), with their paths. */
function identityStatements(t: Template): Array<[string, string, Statement]> {
  const out: Array<[string, string, Statement]> = [];
  const add = (id: string, path: string, doc: unknown) => {
    const statements = (doc as { Statement?: unknown } | undefined)?.Statement;
    [statements ?? []].flat().forEach((s: Statement, i) => out.push([id, `${path}.Statement[${i}]`, s]));
  };
  for (const [id, r] of ofType(t, 'AWS::IAM::Role', 'AWS::IAM::User', 'AWS::IAM::Group')) {
    const policies = props(r).Policies;
    if (Array.isArray(policies)) policies.forEach((p: { PolicyDocument?: unknown }, i) => add(id, `Resources.${id}.Properties.Policies[${i}].PolicyDocument`, p.PolicyDocument));
  }
  for (const [id, r] of ofType(t, 'AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy')) add(id, `Resources.${id}.Properties.PolicyDocument`, props(r).PolicyDocument);
  return out;
}

const list = (v: unknown): unknown[] => (v === undefined ? [] : [v].flat());

const iamWildcardAction: SecurityRule = {
  id: 'F3',
  mirrors: 'cfn-nag F3 (roles), F4 (policies), F5 (managed policies); checkov CKV_AWS_109',
  title: 'IAM statements name their actions (no "*" or "service:*", no Allow with NotAction)',
  check(t) {
    const out: Violation[] = [];
    for (const [id, path, s] of identityStatements(t)) {
      if (s.Effect !== 'Allow') continue;
      if (s.NotAction !== undefined) out.push({ resource: id, path: `${path}.NotAction`, message: 'Allow with NotAction grants everything else' });
      for (const action of list(s.Action)) {
        if (typeof action === 'string' && (action === '*' || /^[a-z0-9-]+:\*$/i.test(action))) out.push({ resource: id, path: `${path}.Action`, message: `action ${action}: name the actions the role needs` });
      }
    }
    return out;
  },
};

const iamWildcardResource: SecurityRule = {
  id: 'W11',
  mirrors: 'cfn-nag W11 (roles), W12 (policies), W13 (managed policies); checkov CKV_AWS_111',
  title: 'IAM statements name their resources unless the action has no narrower one',
  check(t) {
    const out: Violation[] = [];
    for (const [id, path, s] of identityStatements(t)) {
      if (s.Effect !== 'Allow') continue;
      if (s.NotResource !== undefined) out.push({ resource: id, path: `${path}.NotResource`, message: 'Allow with NotResource grants every other resource' });
      const wildcard = list(s.Resource).some((r) => r === '*' || (typeof r === 'string' && /^arn:[^:]*:[^:]*:[^:]*:[^:]*:\*$/.test(r)));
      const actions = list(s.Action).map(String);
      if (wildcard && !(actions.length > 0 && actions.every((a) => RESOURCE_STAR_ONLY.has(a)))) {
        out.push({ resource: id, path: `${path}.Resource`, message: `Resource "*" for ${actions.join(', ')}: name the resources (secrets, objects, log groups) instead` });
      }
    }
    return out;
  },
};

// --- secrets ---------------------------------------------------------------------------------------------

/** Property and parameter names that hold a credential (MasterUserPassword, SecretString, AuthToken, …). */
const SECRET_PROPERTY = /(Password|Passwd|Passphrase|SecretString|Secret|SecretKey|SecretAccessKey|PrivateKey|AuthToken|AccessToken|ApiKey|ClientSecret)$/;
/** Environment variable names that hold a credential (DB_PASSWORD, JWT_SIGNING_SECRET, API_TOKEN, …). */
const SECRET_ENV = /PASS(WORD|WD|PHRASE)|SECRET|TOKEN|PRIVATE_?KEY|API_?KEY|ACCESS_?KEY|CREDENTIAL/;
const DYNAMIC_REFERENCE = /^\{\{resolve:(secretsmanager|ssm-secure):/;
const ENV_LINE = /^\s*(?:export\s+)?([A-Z][A-Z0-9_]*)=(.*)$/gm;

const noSecretValues: SecurityRule = {
  id: 'W2501',
  mirrors: 'cfn-lint W2501, cfn-nag F23 (RDS master password), checkov CKV_SECRET_*',
  title: 'No password or secret value in a template',
  check(t) {
    const out: Violation[] = [];
    const params = t.Parameters ?? {};
    for (const [name, p] of Object.entries(params)) {
      if ((SECRET_PROPERTY.test(name) || /Password|Token/i.test(name)) && !/(Arn|Id|Name)$/.test(name)) {
        if (!p.NoEcho) out.push({ resource: name, path: `Parameters.${name}.NoEcho`, message: 'a secret parameter must be NoEcho (better: pass an ARN and let the service fetch the secret)' });
        if (p.Default !== undefined) out.push({ resource: name, path: `Parameters.${name}.Default`, message: 'a secret parameter must not have a Default value' });
      }
    }
    for (const [id, r] of Object.entries(t.Resources ?? {})) {
      walk(r.Properties ?? {}, `Resources.${id}.Properties`, (value, path, key) => {
        if (typeof key === 'string' && SECRET_PROPERTY.test(key)) {
          if (typeof value === 'string' && value !== '' && !DYNAMIC_REFERENCE.test(value)) {
            out.push({ resource: id, path, message: `${key} holds a literal value: use ManageMasterUserPassword, GenerateSecretString or a {{resolve:secretsmanager:…}} reference` });
          }
          const ref = target(value);
          if (ref && params[ref] && !params[ref].NoEcho && intrinsicName(value) === 'Ref') {
            out.push({ resource: id, path, message: `${key} comes from parameter ${ref}, which is not NoEcho` });
          }
        }
        if (key === 'SecretStringTemplate' && typeof value === 'string' && /"(password|secret|token|privateKey)"\s*:/i.test(value)) {
          out.push({ resource: id, path, message: 'SecretStringTemplate carries a secret field; let GenerateStringKey generate it' });
        }
        if (typeof value !== 'string') return;
        if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(value)) out.push({ resource: id, path, message: 'a private key in the template' });
        if (/\b(AKIA|ASIA)[0-9A-Z]{16}\b/.test(value)) out.push({ resource: id, path, message: 'an AWS access key id in the template' });
        for (const m of value.matchAll(ENV_LINE)) {
          const [, name, setting] = m;
          // Durations (TOKEN_TTL_SECONDS, SECRETS_REFRESH_SECONDS) are settings, as the inventory schema says.
          if (SECRET_ENV.test(name!) && !/_(SECONDS|MS)$/.test(name!) && !/^(aws:|file:)/.test(setting!.trim())) {
            out.push({ resource: id, path, message: `${name} is set to a value: secrets are passed as references (aws:<secret-id> or file:<path>#<key>)` });
          }
        }
      });
    }
    return out;
  },
};

// --- data that must survive --------------------------------------------------------------------------------

/** cfn-lint's stateful resource types, plus KMS keys (losing one loses what it encrypted). */
export const STATEFUL_TYPES = new Set([
  'AWS::Backup::BackupVault', 'AWS::Cognito::UserPool', 'AWS::DocDB::DBCluster', 'AWS::DocDB::DBInstance', 'AWS::DynamoDB::GlobalTable',
  'AWS::DynamoDB::Table', 'AWS::EC2::Volume', 'AWS::EFS::FileSystem', 'AWS::EMR::Cluster', 'AWS::ElastiCache::CacheCluster',
  'AWS::ElastiCache::ReplicationGroup', 'AWS::Elasticsearch::Domain', 'AWS::OpenSearchService::Domain', 'AWS::FSx::FileSystem',
  'AWS::KMS::Key', 'AWS::Logs::LogGroup', 'AWS::Neptune::DBCluster', 'AWS::Neptune::DBInstance', 'AWS::QLDB::Ledger',
  'AWS::RDS::DBCluster', 'AWS::RDS::DBInstance', 'AWS::Redshift::Cluster', 'AWS::S3::Bucket', 'AWS::SQS::Queue', 'AWS::SecretsManager::Secret',
]);
const SNAPSHOT_TYPES = new Set(['AWS::EC2::Volume', 'AWS::ElastiCache::CacheCluster', 'AWS::ElastiCache::ReplicationGroup', 'AWS::Neptune::DBCluster', 'AWS::RDS::DBCluster', 'AWS::RDS::DBInstance', 'AWS::Redshift::Cluster', 'AWS::DocDB::DBCluster']);

const statefulRetained: SecurityRule = {
  id: 'I3011',
  mirrors: 'cfn-lint I3011 (and W3011)',
  title: 'Stateful resources have a Snapshot or Retain deletion and replacement policy',
  check(t) {
    const out: Violation[] = [];
    for (const [id, r] of Object.entries(t.Resources ?? {})) {
      if (!STATEFUL_TYPES.has(r.Type)) continue;
      // A read replica holds no data of its own and RDS cannot snapshot it on delete.
      if (r.Type === 'AWS::RDS::DBInstance' && props(r).SourceDBInstanceIdentifier !== undefined) continue;
      const keep = SNAPSHOT_TYPES.has(r.Type) ? ['Snapshot', 'Retain', 'RetainExceptOnCreate'] : ['Retain', 'RetainExceptOnCreate'];
      for (const policy of ['DeletionPolicy', 'UpdateReplacePolicy'] as const) {
        const value = r[policy];
        if (!value || !keep.includes(value)) {
          out.push({ resource: id, path: `Resources.${id}.${policy}`, message: `${r.Type} holds data: ${policy} must be ${keep.filter((k) => k !== 'RetainExceptOnCreate').join(' or ')}${value ? `, not ${value}` : ''}` });
        }
      }
    }
    return out;
  },
};

export const SECURITY_RULES: readonly SecurityRule[] = [
  rdsEncrypted, ebsEncrypted, s3Encrypted, cacheEncrypted, rdsNotPublic, imdsV2, worldIngress, s3PublicAccessBlocked,
  cloudFrontHttps, cloudFrontOriginHttps, iamWildcardAction, iamWildcardResource, noSecretValues, statefulRetained,
];

/** Runs every security rule over a template. */
export function checkSecurity(template: Template, stack = 'template', rules: readonly SecurityRule[] = SECURITY_RULES): Finding[] {
  return rules.flatMap((rule) => rule.check(template).map((v): Finding => ({ rule: rule.id, severity: rule.severity ?? 'error', stack, resource: v.resource, path: v.path, message: v.message })));
}
