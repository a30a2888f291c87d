// The preflight's online checks: read-only AWS calls behind one narrow interface (PreflightAws;
// the SDK side is playbooks/lib/aws/preflight.ts), each check a function from the environment, its
// rendered stacks and that interface to a report. Every call and the IAM permission it needs is
// listed in playbooks/README.md ("Preflight").
import type { RenderedStack } from '../../../cloudformation/index.js';
import {
  architectureOf, artifactBucketName, prewarmOf, SHARED_SECRETS, SHOP_SERVICES, settingsOf, type Environment, type ServiceCatalogue,
} from '../../../environment/index.js';
import { reporter, type CheckReport } from './finding.js';

/** A call the caller may not make: the check says it was not checked, with the permission it needs. */
export class NotPermittedError extends Error {
  constructor(readonly action: string) {
    super(`not permitted: ${action}`);
    this.name = 'NotPermittedError';
  }
}

export interface PreflightAws {
  region: string;
  caller(): Promise<{ account: string; arn: string }>;
  /** A quota's applied value (its default when never raised); undefined when Service Quotas does not know it. */
  quota(serviceCode: string, quotaCode: string, region?: string): Promise<number | undefined>;
  /** Default vCPUs of each instance type. */
  vcpus(instanceTypes: readonly string[]): Promise<Record<string, number>>;
  /** The region's available zones, in the order Fn::GetAZs lists them. */
  availabilityZones(): Promise<string[]>;
  /** Which of the types a zone offers. */
  offeredTypes(zone: string, instanceTypes: readonly string[]): Promise<string[]>;
  /** An ACM certificate (in the ARN's region); undefined when it does not exist. */
  certificate(arn: string): Promise<{ status: string; names: string[] } | undefined>;
  /** A Route 53 hosted zone's name (with its trailing dot) and whether it is private; undefined when it does not exist. */
  hostedZone(id: string): Promise<{ name: string; private: boolean } | undefined>;
  /** Whether a web ACL of CLOUDFRONT scope exists under this ARN. */
  webAclExists(arn: string): Promise<boolean>;
  bucketState(bucket: string): Promise<'owned' | 'missing' | 'forbidden'>;
  stackStatus(stackName: string): Promise<string | undefined>;
  secretState(name: string): Promise<'missing' | 'active' | 'scheduled-for-deletion'>;
  /** The actions a principal's policies deny (IAM policy simulation). */
  deniedActions(principalArn: string, actions: readonly string[]): Promise<string[]>;
}

export interface OnlineContext {
  inv: Environment;
  stacks: readonly RenderedStack[];
  aws: PreflightAws;
  services?: ServiceCatalogue;
  /** Waves of stacks that deploy together (cloudformation's deployWaves), for the duration estimate. */
  waves?: readonly (readonly RenderedStack[])[];
}

const notChecked = (r: ReturnType<typeof reporter>, what: string, err: unknown): void => {
  if (err instanceof NotPermittedError) r.warning(what, `not checked: the caller may not call ${err.action}`, `allow ${err.action} for this check, or accept it unchecked`);
  else throw err;
};

// --- quotas ------------------------------------------------------------------------------------------

/** EC2 vCPU quotas by instance family letter(s): On-Demand and Spot. */
const VCPU_QUOTAS: Array<{ bucket: string; families: RegExp; onDemand: string; spot: string }> = [
  { bucket: 'Standard (A, C, D, H, I, M, R, T, Z)', families: /^(a|c|d|h|i|m|r|t|z)\d/, onDemand: 'L-1216C47A', spot: 'L-34B43A08' },
  { bucket: 'G and VT', families: /^(g|vt)\d/, onDemand: 'L-DB2E81BA', spot: 'L-3819A6DF' },
  { bucket: 'P', families: /^p\d/, onDemand: 'L-417A185B', spot: 'L-7212CCBC' },
  { bucket: 'X', families: /^x\d/, onDemand: 'L-7295265B', spot: 'L-E3A00192' },
  { bucket: 'F', families: /^f\d/, onDemand: 'L-74FC7D96', spot: 'L-88CF9481' },
  { bucket: 'Inf', families: /^inf\d/, onDemand: 'L-1945791B', spot: 'L-B5D1601B' },
];
const bucketOf = (type: string) => VCPU_QUOTAS.find((q) => q.families.test(type));

/** Instances a group runs On-Demand and on Spot at a size (the Spot mix's base and percentage). */
function split(size: number, spot: { onDemandBase: number; onDemandPercentageAboveBase: number } | undefined): { onDemand: number; spot: number } {
  if (!spot) return { onDemand: size, spot: 0 };
  const base = Math.min(size, spot.onDemandBase);
  const onDemand = base + Math.ceil(((size - base) * spot.onDemandPercentageAboveBase) / 100);
  return { onDemand, spot: size - onDemand };
}

export async function checkQuotas(ctx: OnlineContext): Promise<CheckReport> {
  const { inv, aws } = ctx;
  const services = ctx.services ?? SHOP_SERVICES;
  const r = reporter('quotas');
  const types = [...new Set(services.flatMap(({ name }) => { const s = settingsOf(inv, name); return [s.instanceType, ...(s.spot?.instanceTypes ?? [])]; }))];
  const vcpus = await aws.vcpus(types);
  // Worst case per instance: the group's largest type of the mix.
  const perInstance = (name: string): { vcpu: number; type: string } => {
    const s = settingsOf(inv, name);
    const all = [s.instanceType, ...(s.spot?.instanceTypes ?? [])];
    const type = all.reduce((a, b) => ((vcpus[b] ?? 0) > (vcpus[a] ?? 0) ? b : a));
    return { vcpu: vcpus[type] ?? 0, type };
  };
  const situations: Array<{ label: string; size: (name: string) => number }> = [
    { label: 'every group at max', size: (n) => settingsOf(inv, n).scaling.max },
    ...inv.saleEvents.map((e) => ({ label: `pre-warm ${e.name}`, size: (n: string) => prewarmOf(e, n)?.desired ?? settingsOf(inv, n).scaling.desired })),
  ];
  for (const q of VCPU_QUOTAS) {
    const inBucket = services.filter(({ name }) => bucketOf(settingsOf(inv, name).instanceType) === q);
    if (!inBucket.length) continue;
    for (const [kind, code] of [['On-Demand', q.onDemand], ['Spot', q.spot]] as const) {
      let quota: number | undefined;
      try {
        quota = await aws.quota('ec2', code);
      } catch (err) {
        notChecked(r, `ec2 ${code}`, err);
        continue;
      }
      for (const sit of situations) {
        const parts = inBucket.map(({ name }) => {
          const s = settingsOf(inv, name);
          const count = split(sit.size(name), s.spot)[kind === 'On-Demand' ? 'onDemand' : 'spot'];
          return { name, count, ...perInstance(name) };
        }).filter((p) => p.count > 0);
        if (!parts.length) continue;
        const need = parts.reduce((n, p) => n + p.count * p.vcpu, 0);
        const line = `${kind} vCPUs (${q.bucket}), ${sit.label}: ${parts.map((p) => `${p.name} ${p.count}×${p.vcpu}`).join(' + ')} = ${need} of ${quota ?? '?'} (${code})`;
        r.summary(line);
        if (quota !== undefined && need > quota) {
          r.error(`ec2 quota ${code}`, `${kind} ${q.bucket} vCPUs: ${sit.label} the groups need ${need}, the account's quota is ${quota}: instances beyond it fail to launch`, `request an increase of "${kind === 'On-Demand' ? 'Running On-Demand' : 'All'} ${q.bucket} ${kind === 'Spot' ? 'Spot Instance Requests' : 'instances'}" (${code}) to at least ${need} in Service Quotas, ${aws.region}, or lower scaling.max`);
        }
      }
    }
  }
  const db = inv.database;
  const counted: Array<{ service: string; code: string; what: string; need: number; region?: string; fix: string }> = [
    { service: 'ec2', code: 'L-0263D0A3', what: 'Elastic IPs (one per NAT gateway)', need: inv.network.natGateways === 'per-az' ? inv.network.azCount : 1, fix: 'release unused Elastic IPs or request more (EC2-VPC Elastic IPs)' },
    { service: 'vpc', code: 'L-FE5A380F', what: 'NAT gateways per Availability Zone', need: 1, fix: 'delete unused NAT gateways or request more (NAT gateways per Availability Zone)' },
    { service: 'vpc', code: 'L-F678F1CE', what: 'VPCs', need: 1, fix: 'delete unused VPCs or request more (VPCs per Region)' },
    { service: 'elasticloadbalancing', code: 'L-53DA6B97', what: 'Application Load Balancers', need: 1, fix: 'delete unused load balancers or request more (Application Load Balancers per Region)' },
    { service: 'rds', code: 'L-7B6409FD', what: 'RDS DB instances (primary and read replicas)', need: 1 + db.readReplicas, fix: 'request more DB instances or lower database.readReplicas' },
    { service: 'rds', code: 'L-7ADDB58A', what: 'RDS storage GiB (at maxAllocatedStorage, every instance)', need: (db.maxAllocatedStorage ?? db.allocatedStorage) * (1 + db.readReplicas), fix: 'request more total storage for all DB instances or lower maxAllocatedStorage' },
    { service: 'cloudfront', code: 'L-24B04930', what: 'CloudFront distributions', need: 1, region: 'us-east-1', fix: 'delete unused distributions or request more (Web distributions per AWS account)' },
  ];
  for (const c of counted) {
    let quota: number | undefined;
    try {
      quota = await aws.quota(c.service, c.code, c.region);
    } catch (err) {
      notChecked(r, `${c.service} ${c.code}`, err);
      continue;
    }
    r.summary(`${c.what}: this environment needs ${c.need} of ${quota ?? '?'} (${c.service} ${c.code}; shared with the account's other resources)`);
    if (quota !== undefined && c.need > quota) r.error(`${c.service} quota ${c.code}`, `${c.what}: this environment needs ${c.need}, the quota is ${quota}`, c.fix);
  }
  return r.report;
}

// --- instance type offerings ---------------------------------------------------------------------------

export async function checkOfferings(ctx: OnlineContext): Promise<CheckReport> {
  const { inv, aws } = ctx;
  const services = ctx.services ?? SHOP_SERVICES;
  const r = reporter('offerings');
  const zones = (await aws.availabilityZones()).slice(0, inv.network.azCount);
  if (zones.length < inv.network.azCount) {
    r.error('network.azCount', `${aws.region} has ${zones.length} available zones, the network stack uses ${inv.network.azCount}`, `set network.azCount to ${zones.length} or deploy to another region`);
  }
  for (const { name } of services) {
    const s = settingsOf(inv, name);
    const types = [...new Set([s.instanceType, ...(s.spot?.instanceTypes ?? [])])];
    for (const zone of zones) {
      const offered = await aws.offeredTypes(zone, types);
      for (const t of types.filter((x) => !offered.includes(x))) {
        const where = t === s.instanceType ? `services.${name}.instanceType` : `services.${name}.spot.instanceTypes`;
        r.error(where, `${t} is not offered in ${zone}, one of the zones the network stack uses (${zones.join(', ')})`, `choose an ${architectureOf(t)} type offered in every zone (aws ec2 describe-instance-type-offerings --location-type availability-zone)`);
      }
    }
  }
  r.summary(`zones ${zones.join(', ')}: every instance type checked`);
  return r.report;
}

// --- certificates and the web ACL ----------------------------------------------------------------------

/** Whether a certificate name (possibly *.example.com) covers a host name. */
export function covers(name: string, host: string): boolean {
  if (name === host) return true;
  return name.startsWith('*.') && host.split('.').slice(1).join('.') === name.slice(2);
}

export async function checkLiveCertificates(ctx: OnlineContext): Promise<CheckReport> {
  const { inv, aws } = ctx;
  const r = reporter('live certificates');
  const d = inv.domain;
  if (!d) {
    r.summary('no domain: nothing to look up');
    return r.report;
  }
  const certs: Array<{ at: string; arn: string | undefined; hosts: string[]; what: string }> = [
    { at: 'domain.certificateArn', arn: d.certificateArn, hosts: d.aliases, what: 'CloudFront certificate' },
    { at: 'domain.albCertificateArn', arn: d.albCertificateArn, hosts: d.apiHostname ? [d.apiHostname] : [], what: 'load balancer certificate' },
  ];
  for (const c of certs) {
    if (!c.arn) continue;
    const cert = await aws.certificate(c.arn);
    if (!cert) {
      r.error(c.at, `the ${c.what} ${c.arn} does not exist (or is in another account)`, `request it in ACM (${c.arn.split(':')[3]}) for ${c.hosts.join(', ')} and set ${c.at} to its ARN`);
      continue;
    }
    if (cert.status !== 'ISSUED') {
      r.error(c.at, `the ${c.what} is ${cert.status}, not ISSUED`, cert.status === 'PENDING_VALIDATION' ? 'finish its validation (create the CNAME records ACM shows) and wait for ISSUED' : 'request a new certificate and set its ARN');
    }
    const uncovered = c.hosts.filter((h) => !cert.names.some((n) => covers(n, h)));
    if (uncovered.length) {
      r.error(c.at, `the ${c.what} covers ${cert.names.join(', ')}, not ${uncovered.join(', ')}`, `request a certificate that also names ${uncovered.join(', ')} and set ${c.at} to its ARN`);
    }
    if (cert.status === 'ISSUED' && !uncovered.length) r.summary(`${c.what}: ISSUED, covers ${c.hosts.join(', ') || 'nothing asked'}`);
  }
  if (d.hostedZoneId) {
    const zone = await aws.hostedZone(d.hostedZoneId);
    const hosts = [...d.aliases, ...(d.apiHostname ? [d.apiHostname] : [])];
    if (!zone) {
      r.error('domain.hostedZoneId', `no hosted zone ${d.hostedZoneId} in this account`, 'set domain.hostedZoneId to the public hosted zone of the domain (aws route53 list-hosted-zones-by-name)');
    } else {
      const name = zone.name.replace(/\.$/, '');
      const outside = hosts.filter((h) => h !== name && !h.endsWith(`.${name}`));
      if (zone.private) r.error('domain.hostedZoneId', `${d.hostedZoneId} (${name}) is a private zone: the public cannot resolve its records`, 'set domain.hostedZoneId to the public hosted zone of the domain');
      if (outside.length) r.error('domain.hostedZoneId', `${d.hostedZoneId} serves ${name}, not ${outside.join(', ')}`, `use the hosted zone that serves ${outside.join(', ')}, or change the names`);
      if (!zone.private && !outside.length) r.summary(`hosted zone ${d.hostedZoneId} serves ${name}: ${hosts.join(', ')}`);
    }
  }
  if (d.webAclArn) {
    if (!(await aws.webAclExists(d.webAclArn))) {
      r.error('domain.webAclArn', `no web ACL of CLOUDFRONT scope ${d.webAclArn}`, 'create the web ACL with scope CLOUDFRONT in us-east-1 and set domain.webAclArn to its ARN');
    } else r.summary('web ACL exists with CLOUDFRONT scope');
  }
  return r.report;
}

// --- names that collide, stacks an update cannot start from ---------------------------------------------

const STACK_FIXES: Array<[RegExp, string]> = [
  [/_IN_PROGRESS$/, 'wait until the running operation ends (aws cloudformation describe-stacks), then deploy'],
  [/^ROLLBACK_COMPLETE$/, 'its first create failed and nothing is left: delete the stack (aws cloudformation delete-stack), then deploy'],
  [/^ROLLBACK_FAILED$|^DELETE_FAILED$/, 'delete the stack, retaining the resources that failed to delete, then deploy'],
  [/^UPDATE_ROLLBACK_FAILED$/, 'aws cloudformation continue-update-rollback (skip the resources that cannot roll back), then deploy'],
  [/^IMPORT_ROLLBACK_FAILED$/, 'resolve the failed import in the console, then deploy'],
];

export async function checkCollisions(ctx: OnlineContext): Promise<CheckReport> {
  const { inv, aws, stacks } = ctx;
  const r = reporter('names');
  const { account } = await aws.caller();
  const bucket = artifactBucketName(inv, account);
  const state = await aws.bucketState(bucket);
  if (state === 'forbidden') {
    r.error('artifacts.bucket', `s3://${bucket} exists and belongs to another account (bucket names are global)`, 'set artifacts.bucket to a name of your own; keep {accountId} in it so it stays unique');
  } else r.summary(`s3://${bucket}: ${state === 'owned' ? 'yours' : 'free'}`);
  let blocked = 0;
  for (const s of stacks) {
    const status = await aws.stackStatus(s.stackName);
    // REVIEW_IN_PROGRESS is a stack made by a change set never executed: the next change set goes on from it.
    const fix = status === undefined || status === 'REVIEW_IN_PROGRESS' ? undefined : STACK_FIXES.find(([re]) => re.test(status))?.[1];
    if (fix) {
      blocked += 1;
      r.error(`stack ${s.stackName}`, `is ${status}: an update cannot start from it`, fix);
    }
  }
  r.summary(`${stacks.length} stacks looked up: ${blocked || 'none'} in a state an update cannot start from`);
  for (const secret of Object.values(SHARED_SECRETS)) {
    const name = `${inv.project}/${inv.environment}/${secret.name}`;
    if ((await aws.secretState(name)) === 'scheduled-for-deletion') {
      r.error(`secret ${name}`, 'is scheduled for deletion: creating or updating it fails until it is gone', `aws secretsmanager restore-secret --secret-id ${name} (or wait for the deletion)`);
    }
  }
  return r.report;
}

// --- permissions -------------------------------------------------------------------------------------------

/** What a deploy calls for each resource type it creates (a representative action per type). */
const ACTIONS_BY_TYPE: Record<string, string[]> = {
  'AWS::EC2::VPC': ['ec2:CreateVpc'],
  'AWS::EC2::Subnet': ['ec2:CreateSubnet'],
  'AWS::EC2::NatGateway': ['ec2:CreateNatGateway'],
  'AWS::EC2::EIP': ['ec2:AllocateAddress'],
  'AWS::EC2::SecurityGroup': ['ec2:CreateSecurityGroup'],
  'AWS::EC2::LaunchTemplate': ['ec2:CreateLaunchTemplate'],
  'AWS::AutoScaling::AutoScalingGroup': ['autoscaling:CreateAutoScalingGroup'],
  'AWS::ElasticLoadBalancingV2::LoadBalancer': ['elasticloadbalancing:CreateLoadBalancer'],
  'AWS::RDS::DBInstance': ['rds:CreateDBInstance'],
  // ModifyReplicationGroup: updates, and -e rotate=redis-auth (ROTATE, then SET).
  'AWS::ElastiCache::ReplicationGroup': ['elasticache:CreateReplicationGroup', 'elasticache:CreateCacheSubnetGroup', 'elasticache:ModifyReplicationGroup'],
  'AWS::IAM::Role': ['iam:CreateRole', 'iam:PassRole'],
  'AWS::CloudFront::Distribution': ['cloudfront:CreateDistribution'],
  'AWS::S3::Bucket': ['s3:CreateBucket'],
  'AWS::CloudWatch::Alarm': ['cloudwatch:PutMetricAlarm'],
  'AWS::Logs::LogGroup': ['logs:CreateLogGroup'],
  'AWS::SecretsManager::Secret': ['secretsmanager:CreateSecret'],
};
const DEPLOY_ACTIONS = ['cloudformation:CreateChangeSet', 'cloudformation:ExecuteChangeSet', 'cloudformation:DescribeStacks', 's3:PutObject', 'secretsmanager:CreateSecret'];

/** The assumed role's role ARN (simulation takes users and roles, not sessions). */
export function principalOf(callerArn: string): string {
  const m = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\//.exec(callerArn);
  return m ? `arn:${m[1]}:iam::${m[2]}:role/${m[3]}` : callerArn;
}

export async function checkPermissions(ctx: OnlineContext): Promise<CheckReport> {
  const { aws, stacks } = ctx;
  const r = reporter('permissions');
  const types = new Set(stacks.flatMap((s) => Object.values(s.template.Resources ?? {}).map((res) => (res as { Type: string }).Type)));
  const actions = [...new Set([...DEPLOY_ACTIONS, ...[...types].flatMap((t) => ACTIONS_BY_TYPE[t] ?? [])])].sort();
  const { arn } = await aws.caller();
  const principal = principalOf(arn);
  let denied: string[];
  try {
    denied = await aws.deniedActions(principal, actions);
  } catch (err) {
    if (err instanceof NotPermittedError) {
      r.warning('permissions', `not checked: ${principal} may not simulate its own policies (${err.action})`, `allow ${err.action} on ${principal} to have the preflight check the deploy's permissions`);
      return r.report;
    }
    throw err;
  }
  if (denied.length) r.error(principal, `its policies deny ${denied.join(', ')}, which the deploy needs`, `allow ${denied.join(', ')} for ${principal} (or deploy as a role that has them)`);
  r.summary(`${principal}: ${actions.length - denied.length} of ${actions.length} actions allowed`);
  return r.report;
}

// --- the deploy's duration -------------------------------------------------------------------------------

/** Minutes a resource type takes to create, roughly (the ones that dominate; 0.5 otherwise). */
const CREATE_MINUTES: Record<string, number> = {
  'AWS::RDS::DBInstance': 15,
  'AWS::CloudFront::Distribution': 8,
  'AWS::EC2::NatGateway': 2,
  'AWS::ElasticLoadBalancingV2::LoadBalancer': 3,
  'AWS::AutoScaling::AutoScalingGroup': 6,
  // A replication group with replicas creates them one after the primary.
  'AWS::ElastiCache::ReplicationGroup': 12,
};

/** Minutes per resource when it is Multi-AZ (standby created and synchronised). */
const MULTI_AZ_EXTRA = 10;

export function stackMinutes(stack: RenderedStack): number {
  const resources = Object.values(stack.template.Resources ?? {}) as Array<{ Type: string; Properties?: Record<string, unknown> }>;
  const each = resources.map((res) => (CREATE_MINUTES[res.Type] ?? 0.5) + (res.Type === 'AWS::RDS::DBInstance' && res.Properties?.MultiAZ === true ? MULTI_AZ_EXTRA : 0));
  // Independent resources create together: the longest, plus a little for every other one.
  const longest = Math.max(0, ...each);
  return Math.round((longest + 0.1 * (each.length - 1)) * 10) / 10;
}

export function checkDuration(ctx: OnlineContext): Promise<CheckReport> {
  const r = reporter('duration');
  const waves = ctx.waves ?? ctx.stacks.map((s) => [s]);
  let total = 0;
  for (const wave of waves) {
    const minutes = wave.map((s) => ({ s, m: stackMinutes(s) }));
    const longest = Math.max(...minutes.map((x) => x.m));
    total += longest;
    r.summary(`${minutes.map((x) => `${x.s.name} ~${x.m} min`).join(', ')}${wave.length > 1 ? ` (together: ~${longest} min)` : ''}`);
  }
  r.summary(`a first deploy takes about ${Math.round(total)} min (updates of unchanged stacks far less); RDS Multi-AZ and CloudFront dominate`);
  return Promise.resolve(r.report);
}
