// The environment model: one environment as its inventory file (playbooks/inventories/<env>.yaml)
// describes it. This module is the inventory file's schema (TypeBox, so the schema is the type),
// the rules across fields that a schema cannot express, and the helpers every part derives names
// and times from. The services it knows come from a catalogue of service declarations
// (services.ts), the shop's by default. Loading, -e overrides and error reporting live in load.ts.
import { FormatRegistry, Type, type Static, type TObject, type TOptional } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { SHOP_SERVICES, wiredVariables, type ServiceCatalogue } from './services.js';

/** Environment variables the deploy sets itself besides the services' secrets and URLs. */
const DEPLOY_ENV = ['PORT', 'HOST', 'NODE_ENV', 'AWS_REGION', 'DB_SECRET', 'DB_READ_HOSTS', 'SHUTDOWN_TIMEOUT_MS', 'TRUSTED_PROXY_HOPS'] as const;

/** Environment variables the deploy sets itself; an inventory may not override them. */
export function reservedVariables(services: ServiceCatalogue = SHOP_SERVICES): string[] {
  return [...DEPLOY_ENV, ...wiredVariables(services)];
}

/** Tag keys every resource carries; `tags` in the inventory adds to them. */
export const STANDARD_TAG_KEYS = ['Project', 'Environment', 'Service', 'CostCentre'] as const;

/** CloudWatch Logs accepts only these retention periods. */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?Z$/;
if (!FormatRegistry.Has('iso-utc')) FormatRegistry.Set('iso-utc', (v) => ISO_UTC.test(v) && !Number.isNaN(Date.parse(v)));

// --- building blocks ------------------------------------------------------------------------------

const Int = (minimum: number, maximum: number, extra: object = {}) => Type.Integer({ minimum, maximum, ...extra });
const Slug = (expected: string) =>
  Type.String({ pattern: '^[a-z][a-z0-9]*(-[a-z0-9]+)*$', maxLength: 32, expected });
const OneOf = <T extends string | number>(values: readonly T[]) =>
  Type.Union(values.map((v) => Type.Literal(v)), { expected: `one of ${values.join(', ')}` });

const InstanceType = Type.String({
  pattern: '^[a-z][a-z0-9-]*\\.[a-z0-9]+$',
  expected: 'an EC2 instance type such as t4g.small or c7g.large',
});
const Hostname = Type.String({
  pattern: '^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$',
  expected: 'a lower-case DNS name such as shop.example.com',
});
const Arn = (service: string, what: string) =>
  Type.String({ pattern: `^arn:aws[a-z-]*:${service}:[a-z0-9-]*:\\d{12}:.+$`, expected: `the ARN of ${what}` });

/**
 * Pre-initialised instances beside an aws group (AWS::AutoScaling::WarmPool): launched, installed
 * and ready once, then kept stopped (or hibernated, or running) until a scale-out takes them.
 */
const WarmPool = Type.Object(
  {
    minSize: Int(0, 500, { expected: 'instances kept in the warm pool at least, 0 to 500' }),
    maxPrepared: Type.Optional(Int(1, 500, { expected: 'instances in service and in the pool together at most (default: scaling.max)' })),
    state: OneOf(['Stopped', 'Hibernated', 'Running'] as const),
  },
  { additionalProperties: false },
);

const Scaling = Type.Object(
  {
    min: Int(1, 500, { expected: 'an integer from 1 to 500 (instances or local workers)' }),
    max: Int(1, 500),
    desired: Int(1, 500),
    cpuTarget: Type.Number({ minimum: 5, maximum: 95, expected: 'a CPU utilisation target in percent, 5 to 95' }),
    requestsPerTarget: Int(1, 1_000_000, { expected: 'requests per minute per instance, an integer from 1' }),
    warmupSeconds: Int(0, 3600),
    cooldownSeconds: Int(0, 3600),
    warmPool: Type.Optional(WarmPool),
  },
  { additionalProperties: false },
);

const Spot = Type.Object(
  {
    onDemandBase: Int(0, 500),
    onDemandPercentageAboveBase: Int(0, 100),
    instanceTypes: Type.Array(InstanceType, { minItems: 1, maxItems: 20, uniqueItems: true }),
  },
  { additionalProperties: false },
);

const EnvironmentExtras = Type.Record(
  Type.String({ pattern: '^[A-Z][A-Z0-9_]*$' }),
  Type.String({ pattern: '^[A-Za-z0-9_.,:/@+*=#-]*$', maxLength: 512, expected: 'a plain value (letters, digits and _.,:/@+*=#- only)' }),
  { additionalProperties: false, expected: 'a mapping of UPPER_CASE names to plain values', keyExpected: 'an UPPER_CASE variable name' },
);

const Service = Type.Object(
  {
    instanceType: InstanceType,
    port: Int(1024, 65535),
    pathPrefix: Type.String({ pattern: '^/api/[a-z][a-z0-9-]*$', expected: 'a path prefix such as /api/users' }),
    healthCheckGracePeriod: Int(0, 7200, { expected: 'seconds, an integer from 0 to 7200' }),
    drainSeconds: Int(0, 3600, { expected: 'seconds in-flight requests get when an instance leaves (0 to 3600)' }),
    scaling: Scaling,
    spot: Type.Optional(Spot),
    environment: Type.Optional(EnvironmentExtras),
  },
  { additionalProperties: false },
);

/**
 * The shop's shared cache on AWS: an ElastiCache replication group (cloudformation/cache.ts) holding
 * what every instance must see alike (login throttling counters). Replicas make it Multi-AZ with
 * automatic failover; none is one node (a failure loses the counters until it is replaced).
 */
export const CACHE_ENGINES = ['valkey', 'redis'] as const;
const Cache = Type.Object(
  {
    engine: OneOf(CACHE_ENGINES),
    nodeType: Type.String({ pattern: '^cache\\.[a-z][a-z0-9]*\\.[a-z0-9]+$', expected: 'an ElastiCache node type such as cache.t4g.micro or cache.m7g.large' }),
    replicas: Int(0, 5, { expected: 'read replicas beside the primary, 0 to 5 (1 or more: Multi-AZ with automatic failover)' }),
  },
  { additionalProperties: false },
);

const Prewarm = Type.Object(
  { min: Int(1, 500), desired: Int(1, 500) },
  { additionalProperties: false },
);

/** One property per service of a catalogue, in its order. */
type PerService<C extends ServiceCatalogue, T> = { [K in C[number]['name']]: T };
function perService<C extends ServiceCatalogue, T>(services: C, value: T): PerService<C, T> {
  const entries: Record<string, T> = Object.fromEntries(services.map((d) => [d.name, value]));
  return entries as PerService<C, T>;
}

const saleEvent = <C extends ServiceCatalogue>(services: C) =>
  Type.Object(
    {
      name: Slug('a lower-case name such as black-friday-2026'),
      start: Type.String({ format: 'iso-utc', expected: 'an ISO 8601 UTC time such as 2026-11-27T07:00:00Z' }),
      end: Type.String({ format: 'iso-utc', expected: 'an ISO 8601 UTC time such as 2026-11-27T23:00:00Z' }),
      leadMinutes: Type.Optional(Int(5, 1440, { expected: 'minutes before the start to pre-warm, 5 to 1440' })),
      prewarm: Type.Object(perService<C, TOptional<typeof Prewarm>>(services, Type.Optional(Prewarm)), {
        additionalProperties: false,
        minProperties: 1,
        expected: `capacity per service (${services.map((d) => d.name).join(', ')})`,
      }),
    },
    { additionalProperties: false },
  );

/** The inventory file's schema for the services of a catalogue. */
export const inventorySchema = <C extends ServiceCatalogue>(services: C) =>
  Type.Object(
    {
      project: Slug('a lower-case name such as saleday'),
      environment: Slug('a lower-case name such as production'),
      target: OneOf(['aws', 'local'] as const),
      region: Type.String({ pattern: '^[a-z]{2}(-gov)?-[a-z]+-\\d$', expected: 'an AWS region such as eu-west-1' }),
      ami: Type.Optional(Type.String({
        pattern: '^ami-([0-9a-f]{8}|[0-9a-f]{17})$',
        expected: 'an Amazon Linux 2023 AMI id such as ami-0abcdef1234567890 (leave it out and a deploy keeps each group\'s current one)',
      })),
      costCentre: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9 _.:/=+@-]{0,63}$', expected: 'a cost centre code (letters, digits, up to 64 characters)' }),
      tags: Type.Record(
        Type.String({ pattern: '^(?!aws:)[A-Za-z][A-Za-z0-9_.:/=+@-]{0,127}$' }),
        Type.String({ pattern: '^[A-Za-z0-9 _.:/=+@-]{0,256}$' }),
        { additionalProperties: false, expected: 'a mapping of extra tag keys to values', keyExpected: 'a tag key: letters, digits and _.:/=+@-, not starting with aws:' },
      ),
      network: Type.Object(
        {
          cidr: Type.String({
            pattern: '^(\\d{1,3}\\.){3}\\d{1,3}/(1[6-9]|2[0-2])$',
            expected: 'an IPv4 CIDR block from /16 to /22 such as 10.40.0.0/16',
          }),
          azCount: OneOf([2, 3] as const),
          natGateways: OneOf(['per-az', 'single'] as const),
        },
        { additionalProperties: false },
      ),
      database: Type.Object(
        {
          engineVersion: Type.String({ pattern: '^8\\.4\\.\\d+$', expected: 'a MySQL 8.4 version with its minor pinned, such as "8.4.9" (quoted)' }),
          instanceClass: Type.String({ pattern: '^db\\.[a-z0-9]+\\.[a-z0-9]+$', expected: 'an RDS instance class such as db.r6g.large' }),
          allocatedStorage: Int(20, 65536, { expected: 'GiB, an integer from 20 to 65536' }),
          maxAllocatedStorage: Type.Optional(Int(21, 65536, { expected: 'GiB storage autoscaling may grow to, above allocatedStorage' })),
          backupRetentionDays: Int(1, 35),
          readReplicas: Int(0, 5),
          deletionProtection: Type.Boolean(),
          /** The deploy's database bootstrap seeds catalog and stock (staging); default false. */
          seed: Type.Optional(Type.Boolean()),
        },
        { additionalProperties: false },
      ),
      domain: Type.Optional(
        Type.Object(
          {
            aliases: Type.Array(Hostname, { maxItems: 10, uniqueItems: true }),
            certificateArn: Type.Optional(Arn('acm', 'an ACM certificate in us-east-1 (CloudFront)')),
            apiHostname: Type.Optional(Hostname),
            albCertificateArn: Type.Optional(Arn('acm', 'an ACM certificate in the inventory region (load balancer)')),
            webAclArn: Type.Optional(Arn('wafv2', 'a WAFv2 web ACL with CLOUDFRONT scope')),
            hostedZoneId: Type.Optional(Type.String({ pattern: '^Z[A-Z0-9]{1,31}$', expected: 'a Route 53 public hosted zone id such as Z0123456789ABCDEFGHIJ' })),
          },
          { additionalProperties: false },
        ),
      ),
      cache: Cache,
      artifacts: Type.Object(
        {
          bucket: Type.String({
            pattern: '^[a-z0-9{][a-z0-9.{}A-Za-z-]{2,80}$',
            expected: 'an S3 bucket name; {accountId} and {region} are filled in at deploy time',
          }),
          keyPrefix: Type.String({ pattern: '^([a-z0-9][a-z0-9-]*/)*$', expected: 'an S3 key prefix ending in / (or empty)' }),
        },
        { additionalProperties: false },
      ),
      staticSite: Type.Object(
        { priceClass: OneOf(['PriceClass_100', 'PriceClass_200', 'PriceClass_All'] as const) },
        { additionalProperties: false },
      ),
      services: Type.Object(perService<C, typeof Service>(services, Service), { additionalProperties: false }),
      saleEvents: Type.Array(saleEvent(services), { maxItems: 20 }),
      monitoring: Type.Object(
        {
          alarmEmail: Type.Optional(Type.String({ pattern: '^[^\\s@]+@[^\\s@]+\\.[a-z]{2,}$', expected: 'an email address' })),
          logRetentionDays: OneOf(LOG_RETENTION_DAYS),
          thresholds: Type.Object(
            {
              alb5xxPercent: Type.Number({ minimum: 0.01, maximum: 100 }),
              targetP99Seconds: Type.Number({ minimum: 0.01, maximum: 60 }),
              rdsCpuPercent: Type.Number({ minimum: 1, maximum: 100 }),
              rdsFreeStorageGiB: Type.Number({ minimum: 1, maximum: 65536 }),
              rdsConnections: Int(1, 100_000),
              replicaLagSeconds: Type.Number({ minimum: 1, maximum: 86_400 }),
            },
            { additionalProperties: false },
          ),
        },
        { additionalProperties: false },
      ),
      local: Type.Optional(
        Type.Object(
          {
            gatewayPort: Int(0, 65535, { expected: 'a TCP port (0 picks a free one)' }),
            workersPerCpu: Type.Number({ minimum: 0.25, maximum: 16, expected: 'how many processes of one service one CPU may run, 0.25 to 16' }),
            evaluationSeconds: Type.Optional(Int(1, 3600, { expected: 'the target-tracking metric window in seconds, 1 to 3600' })),
            mysqlUrl: Type.Optional(
              Type.String({ pattern: '^mysql://[A-Za-z0-9_.-]+@[A-Za-z0-9_.-]+(:\\d+)?/?$', expected: 'mysql://user@host:port (no password; it comes from the secrets file)' }),
            ),
          },
          { additionalProperties: false },
        ),
      ),
    },
    { additionalProperties: false },
  );

/** The shop's inventory file schema. */
export const InventorySchema = inventorySchema(SHOP_SERVICES);

/** One environment, as its inventory file describes it (validated and frozen by load.ts). */
export type Environment = Static<typeof InventorySchema>;
export type ServiceSettings = Static<typeof Service>;
export type ScalingPolicy = Static<typeof Scaling>;
export type WarmPoolSettings = Static<typeof WarmPool>;
export type CacheSettings = Static<typeof Cache>;
export type SaleEvent = Static<ReturnType<typeof saleEvent<typeof SHOP_SERVICES>>>;

/** The schema for a catalogue and its compiled check, built once per catalogue. */
export interface InventoryValidator {
  schema: TObject;
  check: TypeCheck<TObject>;
}
const validators = new WeakMap<ServiceCatalogue, InventoryValidator>();
export function inventoryValidator(services: ServiceCatalogue = SHOP_SERVICES): InventoryValidator {
  let v = validators.get(services);
  if (!v) {
    const schema = services === SHOP_SERVICES ? InventorySchema : inventorySchema(services);
    v = { schema, check: TypeCompiler.Compile(schema) };
    validators.set(services, v);
  }
  return v;
}

/** A sale event's pre-warm capacity for one service, when the event pre-warms it. */
export function prewarmOf(event: SaleEvent, service: string): { min: number; desired: number } | undefined {
  const all: Readonly<Record<string, { min: number; desired: number } | undefined>> = event.prewarm;
  return all[service];
}

/** One service's settings; the environment must hold it (its catalogue declared it). */
export function settingsOf(inv: Environment, service: string): ServiceSettings {
  const all: Readonly<Record<string, ServiceSettings>> = inv.services;
  const s = all[service];
  if (!s) throw new Error(`${inv.environment}: no settings for service ${service}`);
  return s;
}

/** A rule across fields failed: the path inside the inventory, what was expected, and the detail; the check goes on to find the rest. */
export type ConsistencyFailure = (segments: (string | number)[], expected: string, detail?: string) => void;

/**
 * Cross-field rules the schema cannot express that make a file meaningless (names and ports taken
 * twice, pairs half given, secrets as values); each failure points at the field to change. Rules
 * that judge whether the environment can be deployed or scaled as described (certificate regions,
 * architectures of a Spot mix, min ≤ desired ≤ max, pre-warms and sale-event windows) are the
 * preflight's (playbooks/lib/preflight/), which reports them with numbers and a fix.
 */
export function checkConsistency(inv: Environment, fail: ConsistencyFailure, services: ServiceCatalogue = SHOP_SERVICES): void {
  if (inv.target === 'local' && !inv.local) fail(['local'], 'a local section (gatewayPort, workersPerCpu) when target is local', 'is missing: target local needs gatewayPort and workersPerCpu');
  for (const key of Object.keys(inv.tags)) {
    if ((STANDARD_TAG_KEYS as readonly string[]).includes(key)) fail(['tags', key], 'a tag key other than the standard ones', `${key} is set by the deploy itself (from project, environment, costCentre and the stack)`);
  }
  const maxStorage = inv.database.maxAllocatedStorage;
  if (maxStorage !== undefined && maxStorage <= inv.database.allocatedStorage) {
    fail(['database', 'maxAllocatedStorage'], `more than allocatedStorage (${inv.database.allocatedStorage})`);
  }
  checkDomain(inv, fail);
  if (inv.ami) {
    const architectures = [...new Set(services.map(({ name }) => architectureOf(settingsOf(inv, name).instanceType)))];
    if (architectures.length > 1) fail(['ami'], `services of one architecture (one AMI pins every group; these are ${architectures.join(' and ')})`);
  }

  const ports = new Map<number, string>();
  const prefixes = new Map<string, string>();
  const reserved = reservedVariables(services);
  for (const { name } of services) {
    const s = settingsOf(inv, name);
    const at = (...rest: (string | number)[]) => ['services', name, ...rest];
    if (ports.has(s.port)) fail(at('port'), `a port no other service uses (${ports.get(s.port)} has ${s.port})`);
    ports.set(s.port, name);
    if (prefixes.has(s.pathPrefix)) fail(at('pathPrefix'), `a path prefix no other service uses (${prefixes.get(s.pathPrefix)} has it)`);
    prefixes.set(s.pathPrefix, name);
    const { min } = s.scaling;
    const pool = s.scaling.warmPool;
    if (pool && s.spot) fail(at('scaling', 'warmPool'), 'no warm pool on a group with spot (AWS refuses a warm pool beside a mixed instances policy)', 'cannot go with spot: AWS refuses a warm pool on a group with a mixed instances policy; remove spot or the warm pool');
    if (pool?.maxPrepared !== undefined && pool.maxPrepared < min) fail(at('scaling', 'warmPool', 'maxPrepared'), `at least scaling.min (${min})`);
    for (const key of Object.keys(s.environment ?? {})) {
      if (reserved.includes(key)) fail(at('environment', key), 'a variable the deploy does not set itself', `${key} is set by the deploy (from the inventory and stack outputs)`);
      const value = s.environment![key]!;
      // Durations (TOKEN_TTL_SECONDS, SECRETS_REFRESH_SECONDS) are settings, not secrets.
      if (/SECRET|PASSWORD|TOKEN|PRIVATE/i.test(key) && !/_(SECONDS|MS)$/.test(key) && !/^(aws:|file:)/.test(value)) {
        fail(at('environment', key), 'a secret reference (aws:<secret-id> or file:<path>#<key>), never a value', 'looks like a secret: expected a secret reference (aws:<secret-id> or file:<path>#<key>), never the value itself');
      }
    }
  }

  const names = new Set<string>();
  inv.saleEvents.forEach((event, i) => {
    const at = (...rest: (string | number)[]) => ['saleEvents', i, ...rest];
    if (names.has(event.name)) fail(at('name'), 'a name no other sale event uses');
    names.add(event.name);
  });
}

function checkDomain(inv: Environment, fail: ConsistencyFailure): void {
  const d = inv.domain;
  if (!d) return;
  if (d.aliases.length > 0 && !d.certificateArn) fail(['domain', 'certificateArn'], 'an ACM certificate ARN in us-east-1 covering the aliases', 'is missing: CloudFront aliases need a certificate in us-east-1');
  if (d.albCertificateArn && !d.apiHostname) fail(['domain', 'apiHostname'], 'the host name the load balancer certificate covers (CloudFront and orders call it)', 'is missing: albCertificateArn needs apiHostname, the name on that certificate');
  if (d.apiHostname && !d.albCertificateArn) fail(['domain', 'albCertificateArn'], 'an ACM certificate ARN for apiHostname', 'is missing: apiHostname needs albCertificateArn');
}

export const DEFAULT_LEAD_MINUTES = 30;

// --- helpers shared with the renderers -------------------------------------------------------------------

/** arm64 for Graviton families (a1, t4g, c7g, m7gd, r8g …), x86_64 otherwise. */
export function architectureOf(instanceType: string): 'arm64' | 'x86_64' {
  const family = instanceType.split('.')[0] ?? '';
  // a1 is the first Graviton generation, the one family without the g suffix.
  return family === 'a1' || /^[a-z]+\d+g[a-z]*$/.test(family) ? 'arm64' : 'x86_64';
}

/** The artifact bucket for an account, with the inventory's {accountId} and {region} filled in. */
export function artifactBucketName(inv: Environment, accountId: string): string {
  return inv.artifacts.bucket.replaceAll('{accountId}', accountId).replaceAll('{region}', inv.region);
}

/**
 * Where a sale event stands at `now`: `ahead` until its pre-warm time (start minus the lead),
 * `under-way` from then until its end, `over` after. Auto Scaling refuses scheduled actions in
 * the past, so the renderers keep only what can still happen (renderers stay pure: the caller has
 * the clock and passes it in).
 */
export type SaleEventPhase = 'ahead' | 'under-way' | 'over';
export function saleEventPhase(event: SaleEvent, now: Date): SaleEventPhase {
  if (Date.parse(event.end) <= now.getTime()) return 'over';
  return prewarmTime(event) <= now.getTime() ? 'under-way' : 'ahead';
}

/** When a sale event's pre-warm starts, in epoch milliseconds. */
export function prewarmTime(event: SaleEvent): number {
  return Date.parse(event.start) - (event.leadMinutes ?? DEFAULT_LEAD_MINUTES) * 60_000;
}

/** Sale events whose pre-warm time is not in the future at `now` (under way or over). */
export function pastSaleEvents(inv: Environment, now: Date): SaleEvent[] {
  return inv.saleEvents.filter((e) => saleEventPhase(e, now) !== 'ahead');
}

/** `<project>-<environment>`: the prefix of stack names and named resources. */
export function resourcePrefix(inv: Environment): string {
  return `${inv.project}-${inv.environment}`;
}

/** The region field of an ARN ('' for global ones). */
export function regionOfArn(arn: string): string {
  return arn.split(':')[3] ?? '';
}
