// The inventory: one YAML file per environment (playbooks/inventories/<env>.yaml) holding every
// environment-specific setting. This module is its schema (TypeBox, so the schema is the type),
// its loader and its `-e key.path=value` overrides. Every error names the file, the path inside
// it (with the line when the YAML has one) and what was expected, in one line.
import { readFile } from 'node:fs/promises';
import { FormatRegistry, Type, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, ValueErrorType, type ValueError } from '@sinclair/typebox/compiler';
import { LineCounter, parseDocument, parse as parseYaml, isNode } from 'yaml';

export const SERVICE_NAMES = ['users', 'catalog', 'inventory', 'orders'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

/** Environment variables the deploy sets itself; an inventory may not override them. */
export const RESERVED_ENV = [
  'PORT', 'HOST', 'NODE_ENV', 'AWS_REGION', 'DB_SECRET', 'JWT_VERIFY_SECRET', 'JWT_SIGNING_SECRET',
  'SERVICE_CREDENTIAL_SECRET', 'CATALOG_URL', 'INVENTORY_URL', 'DB_READ_HOSTS', 'SHUTDOWN_TIMEOUT_MS',
] as const;

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

const Scaling = Type.Object(
  {
    min: Int(1, 500, { expected: 'an integer from 1 to 500 (instances or local workers)' }),
    max: Int(1, 500),
    desired: Int(1, 500),
    cpuTarget: Type.Number({ minimum: 5, maximum: 95, expected: 'a CPU utilisation target in percent, 5 to 95' }),
    requestsPerTarget: Int(1, 1_000_000, { expected: 'requests per minute per instance, an integer from 1' }),
    warmupSeconds: Int(0, 3600),
    cooldownSeconds: Int(0, 3600),
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

const Prewarm = Type.Object(
  { min: Int(1, 500), desired: Int(1, 500) },
  { additionalProperties: false },
);

const SaleEvent = Type.Object(
  {
    name: Slug('a lower-case name such as black-friday-2026'),
    start: Type.String({ format: 'iso-utc', expected: 'an ISO 8601 UTC time such as 2026-11-27T07:00:00Z' }),
    end: Type.String({ format: 'iso-utc', expected: 'an ISO 8601 UTC time such as 2026-11-27T23:00:00Z' }),
    leadMinutes: Type.Optional(Int(5, 1440, { expected: 'minutes before the start to pre-warm, 5 to 1440' })),
    prewarm: Type.Object(
      { users: Type.Optional(Prewarm), catalog: Type.Optional(Prewarm), inventory: Type.Optional(Prewarm), orders: Type.Optional(Prewarm) },
      { additionalProperties: false, minProperties: 1, expected: `capacity per service (${SERVICE_NAMES.join(', ')})` },
    ),
  },
  { additionalProperties: false },
);

export const InventorySchema = Type.Object(
  {
    project: Slug('a lower-case name such as saleday'),
    environment: Slug('a lower-case name such as production'),
    target: OneOf(['aws', 'local'] as const),
    region: Type.String({ pattern: '^[a-z]{2}(-gov)?-[a-z]+-\\d$', expected: 'an AWS region such as eu-west-1' }),
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
        engineVersion: Type.String({ pattern: '^8\\.0(\\.\\d+)?$', expected: 'a MySQL 8.0 version such as "8.0" or "8.0.40" (quoted)' }),
        instanceClass: Type.String({ pattern: '^db\\.[a-z0-9]+\\.[a-z0-9]+$', expected: 'an RDS instance class such as db.r6g.large' }),
        allocatedStorage: Int(20, 65536, { expected: 'GiB, an integer from 20 to 65536' }),
        maxAllocatedStorage: Type.Optional(Int(21, 65536, { expected: 'GiB storage autoscaling may grow to, above allocatedStorage' })),
        backupRetentionDays: Int(1, 35),
        readReplicas: Int(0, 5),
        deletionProtection: Type.Boolean(),
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
        },
        { additionalProperties: false },
      ),
    ),
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
    services: Type.Object(
      { users: Service, catalog: Service, inventory: Service, orders: Service },
      { additionalProperties: false },
    ),
    saleEvents: Type.Array(SaleEvent, { maxItems: 20 }),
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

export type Inventory = Static<typeof InventorySchema>;
export type ServiceSettings = Static<typeof Service>;
export type ScalingPolicy = Static<typeof Scaling>;
export type SaleEvent = Static<typeof SaleEvent>;

const compiled = TypeCompiler.Compile(InventorySchema);

// --- errors -----------------------------------------------------------------------------------------

export class InventoryError extends Error {
  constructor(
    readonly file: string,
    /** Dotted path inside the inventory, e.g. `services.orders.scaling.max` ('' for the whole file). */
    readonly path: string,
    readonly expected: string,
    opts: { line?: number; detail?: string; fromOverride?: boolean } = {},
  ) {
    const where = `${file}${opts.line ? `:${opts.line}` : ''}`;
    const what = path ? `${path}${opts.fromOverride ? ' (set with -e)' : ''}: ` : '';
    super(`${where}: ${what}${opts.detail ?? `expected ${expected}`}`);
    this.name = 'InventoryError';
    this.line = opts.line;
    this.fromOverride = opts.fromOverride ?? false;
  }

  /** The line in the file, when the path exists there. */
  readonly line: number | undefined;
  /** True when the offending value came from an `-e` override rather than the file. */
  readonly fromOverride: boolean;
}

// --- loading ------------------------------------------------------------------------------------------

export interface LoadOptions {
  /** `key.path=value` pairs (from `-e`), applied before validation; values are typed by the schema. */
  overrides?: readonly string[] | Readonly<Record<string, string>>;
}

/** Reads, parses, overrides and validates an inventory file. */
export async function loadInventory(file: string, opts: LoadOptions = {}): Promise<Inventory> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InventoryError(file, '', 'a readable inventory file', {
      detail: code === 'ENOENT' ? 'no such file (inventories live in playbooks/inventories/<env>.yaml)' : `cannot be read (${code ?? 'error'})`,
    });
  }
  return parseInventory(text, file, opts);
}

/** Parses and validates inventory text; `file` is only used in error messages. */
export function parseInventory(text: string, file: string, opts: LoadOptions = {}): Inventory {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const line = lineCounter.linePos(e.pos[0]).line;
    throw new InventoryError(file, '', 'valid YAML', { line, detail: `not valid YAML: ${e.message.split('\n')[0]}` });
  }
  const raw: unknown = doc.toJS();
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new InventoryError(file, '', 'a mapping of settings', { line: 1, detail: 'expected a mapping of settings (project, environment, target, …)' });
  }
  const overridden = new Set<string>();
  for (const [path, value] of overridePairs(opts.overrides)) {
    applyOverride(raw as Record<string, unknown>, path, value, file);
    overridden.add(path);
  }
  const lineOf = (segments: readonly (string | number)[]): number | undefined => {
    for (let n = segments.length; n >= 1; n--) {
      const node: unknown = doc.getIn(segments.slice(0, n), true);
      if (isNode(node) && node.range) return lineCounter.linePos(node.range[0]).line;
    }
    return undefined;
  };
  const fail = (segments: readonly (string | number)[], expected: string, detail?: string): never => {
    const path = dotted(segments);
    const fromOverride = [...overridden].some((o) => path === o || path.startsWith(`${o}.`) || path.startsWith(`${o}[`));
    throw new InventoryError(file, path, expected, { line: fromOverride ? undefined : lineOf(segments), detail, fromOverride });
  };

  if (!compiled.Check(raw)) {
    const first = firstError(raw);
    const segments = pointerSegments(first.path);
    if (first.type === UNEXPECTED_PROPERTY) {
      const parent = first.schema as { properties?: Record<string, unknown>; keyExpected?: string };
      const known = parent.properties ? `one of ${Object.keys(parent.properties).join(', ')}` : parent.keyExpected ?? 'a known setting';
      fail(segments, known, `unknown setting (expected ${known})`);
    }
    const expected = expectedOf(first.schema);
    if (first.type === REQUIRED_PROPERTY) fail(segments, expected, `is missing: expected ${expected}`);
    fail(segments, expected, `expected ${expected}, got ${show(first.value)}`);
  }
  const inv = raw as Inventory;
  checkConsistency(inv, fail);
  return deepFreeze(inv);
}

const UNEXPECTED_PROPERTY = ValueErrorType.ObjectAdditionalProperties;
const REQUIRED_PROPERTY = ValueErrorType.ObjectRequiredProperty;

function firstError(value: unknown): ValueError {
  // Prefer the deepest error: a union failure reports itself before the member that really failed.
  const errors = [...compiled.Errors(value)];
  const required = errors.find((e) => e.type === REQUIRED_PROPERTY);
  return required ?? errors.sort((a, b) => b.path.split('/').length - a.path.split('/').length)[0]!;
}

/** Cross-field rules the schema cannot express; each failure points at the field to change. */
function checkConsistency(inv: Inventory, fail: (segments: (string | number)[], expected: string, detail?: string) => never): void {
  if (inv.target === 'local' && !inv.local) fail(['local'], 'a local section (gatewayPort, workersPerCpu) when target is local', 'is missing: target local needs gatewayPort and workersPerCpu');
  for (const key of Object.keys(inv.tags)) {
    if ((STANDARD_TAG_KEYS as readonly string[]).includes(key)) fail(['tags', key], 'a tag key other than the standard ones', `${key} is set by the deploy itself (from project, environment, costCentre and the stack)`);
  }
  const maxStorage = inv.database.maxAllocatedStorage;
  if (maxStorage !== undefined && maxStorage <= inv.database.allocatedStorage) {
    fail(['database', 'maxAllocatedStorage'], `more than allocatedStorage (${inv.database.allocatedStorage})`);
  }
  checkDomain(inv, fail);

  const ports = new Map<number, string>();
  const prefixes = new Map<string, string>();
  for (const name of SERVICE_NAMES) {
    const s = inv.services[name];
    const at = (...rest: (string | number)[]) => ['services', name, ...rest];
    if (ports.has(s.port)) fail(at('port'), `a port no other service uses (${ports.get(s.port)} has ${s.port})`);
    ports.set(s.port, name);
    if (prefixes.has(s.pathPrefix)) fail(at('pathPrefix'), `a path prefix no other service uses (${prefixes.get(s.pathPrefix)} has it)`);
    prefixes.set(s.pathPrefix, name);
    const { min, max, desired } = s.scaling;
    if (min > max) fail(at('scaling', 'min'), `at most scaling.max (${max})`, `expected at most scaling.max (${max}), got ${min}`);
    if (desired < min || desired > max) fail(at('scaling', 'desired'), `between scaling.min and scaling.max (${min}..${max})`, `expected between ${min} and ${max}, got ${desired}`);
    if (s.spot) {
      if (s.spot.onDemandBase > max) fail(at('spot', 'onDemandBase'), `at most scaling.max (${max})`);
      const arch = architectureOf(s.instanceType);
      s.spot.instanceTypes.forEach((t, i) => {
        if (architectureOf(t) !== arch) fail(at('spot', 'instanceTypes', i), `an ${arch} instance type like ${s.instanceType} (one AMI serves the group)`);
      });
    }
    for (const key of Object.keys(s.environment ?? {})) {
      if ((RESERVED_ENV as readonly string[]).includes(key)) fail(at('environment', key), 'a variable the deploy does not set itself', `${key} is set by the deploy (from the inventory and stack outputs)`);
      const value = s.environment![key]!;
      if (/SECRET|PASSWORD|TOKEN|PRIVATE/i.test(key) && !/^(aws:|file:)/.test(value)) {
        fail(at('environment', key), 'a secret reference (aws:<secret-id> or file:<path>#<key>), never a value', 'looks like a secret: expected a secret reference (aws:<secret-id> or file:<path>#<key>), never the value itself');
      }
    }
  }

  const names = new Set<string>();
  const windows: Array<{ from: number; to: number; index: number; services: string[] }> = [];
  inv.saleEvents.forEach((event, i) => {
    const at = (...rest: (string | number)[]) => ['saleEvents', i, ...rest];
    if (names.has(event.name)) fail(at('name'), 'a name no other sale event uses');
    names.add(event.name);
    const start = Date.parse(event.start);
    const end = Date.parse(event.end);
    if (end <= start) fail(at('end'), `a time after start (${event.start})`);
    const from = start - (event.leadMinutes ?? DEFAULT_LEAD_MINUTES) * 60_000;
    const services = Object.keys(event.prewarm);
    for (const w of windows) {
      const shared = services.filter((s) => w.services.includes(s));
      if (shared.length > 0 && from < w.to && w.from < end) {
        fail(at('start'), `a window that does not overlap saleEvents[${w.index}] for ${shared.join(', ')}`, `overlaps saleEvents[${w.index}] (${inv.saleEvents[w.index]!.name}) for ${shared.join(', ')}: scheduled actions would fight`);
      }
    }
    windows.push({ from, to: end, index: i, services });
    for (const [service, p] of Object.entries(event.prewarm) as Array<[ServiceName, { min: number; desired: number }]>) {
      const max = inv.services[service].scaling.max;
      if (p.min > p.desired) fail(at('prewarm', service, 'min'), `at most prewarm desired (${p.desired})`);
      if (p.desired > max) fail(at('prewarm', service, 'desired'), `at most services.${service}.scaling.max (${max})`, `expected at most services.${service}.scaling.max (${max}), got ${p.desired}: raise max or lower the pre-warm`);
    }
  });
}

function checkDomain(inv: Inventory, fail: (segments: (string | number)[], expected: string, detail?: string) => never): void {
  const d = inv.domain;
  if (!d) return;
  if (d.aliases.length > 0 && !d.certificateArn) fail(['domain', 'certificateArn'], 'an ACM certificate ARN in us-east-1 covering the aliases', 'is missing: CloudFront aliases need a certificate in us-east-1');
  if (d.certificateArn && regionOfArn(d.certificateArn) !== 'us-east-1') fail(['domain', 'certificateArn'], 'a certificate in us-east-1 (CloudFront only uses certificates from there)', `expected a certificate in us-east-1 (CloudFront only uses those), got one in ${regionOfArn(d.certificateArn)}`);
  if (d.albCertificateArn && regionOfArn(d.albCertificateArn) !== inv.region) fail(['domain', 'albCertificateArn'], `a certificate in ${inv.region} (the load balancer's region)`);
  if (d.albCertificateArn && !d.apiHostname) fail(['domain', 'apiHostname'], 'the host name the load balancer certificate covers (CloudFront and orders call it)', 'is missing: albCertificateArn needs apiHostname, the name on that certificate');
  if (d.apiHostname && !d.albCertificateArn) fail(['domain', 'albCertificateArn'], 'an ACM certificate ARN for apiHostname', 'is missing: apiHostname needs albCertificateArn');
  if (d.webAclArn && !/^arn:aws[a-z-]*:wafv2:us-east-1:\d{12}:global\/webacl\//.test(d.webAclArn)) fail(['domain', 'webAclArn'], 'a WAFv2 web ACL with CLOUDFRONT scope (arn:aws:wafv2:us-east-1:<account>:global/webacl/...)');
}

export const DEFAULT_LEAD_MINUTES = 30;

// --- overrides ------------------------------------------------------------------------------------------

function overridePairs(overrides: LoadOptions['overrides']): Array<[string, string]> {
  if (!overrides) return [];
  if (Array.isArray(overrides)) {
    return (overrides as readonly string[]).map((pair) => {
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new InventoryError(`-e ${pair}`, '', 'key.path=value', { detail: 'expected key.path=value, e.g. -e services.orders.scaling.max=12' });
      return [pair.slice(0, eq).trim(), pair.slice(eq + 1)];
    });
  }
  return Object.entries(overrides as Record<string, string>);
}

/** Sets one override, converting the text to what the schema expects at that path. */
function applyOverride(raw: Record<string, unknown>, path: string, text: string, file: string): void {
  const segments = path.split('.').map((s) => (/^\d+$/.test(s) ? Number(s) : s));
  const where = file;
  const o = (detail?: string) => ({ fromOverride: true, detail });
  if (segments.some((s) => s === '')) throw new InventoryError(where, path, 'a dotted path such as services.orders.scaling.max', o());
  // Resolve the whole path in the schema first, so a typo is reported as such.
  const schemas: TSchema[] = [];
  let schema: TSchema = InventorySchema;
  segments.forEach((segment, i) => {
    const step = childSchema(schema, segment);
    if (!step) {
      const known = knownKeys(schema);
      throw new InventoryError(where, dotted(segments.slice(0, i + 1)), known, o(`no such setting (expected ${known})`));
    }
    schemas.push(step);
    schema = step;
  });
  let node: Record<string | number, unknown> = raw;
  segments.forEach((segment, i) => {
    if (i === segments.length - 1) {
      node[segment] = typed(text, schemas[i]!, where, path);
      return;
    }
    if (node[segment] === undefined || node[segment] === null) node[segment] = typeof segments[i + 1] === 'number' ? [] : {};
    const next = node[segment];
    if (typeof next !== 'object' || next === null) throw new InventoryError(where, dotted(segments.slice(0, i + 1)), 'a mapping', o('is a single value, not a mapping'));
    node = next as Record<string | number, unknown>;
  });
}

function childSchema(schema: TSchema, segment: string | number): TSchema | undefined {
  const s = schema as { type?: string; properties?: Record<string, TSchema>; patternProperties?: Record<string, TSchema>; items?: TSchema; anyOf?: TSchema[] };
  if (s.type === 'object' && s.properties && typeof segment === 'string') return s.properties[segment];
  if (s.type === 'object' && s.patternProperties && typeof segment === 'string') {
    const [pattern, value] = Object.entries(s.patternProperties)[0]!;
    return new RegExp(pattern).test(segment) ? value : undefined;
  }
  if (s.type === 'array' && typeof segment === 'number') return s.items;
  return undefined;
}

function knownKeys(schema: TSchema): string {
  const s = schema as { properties?: Record<string, unknown>; type?: string };
  if (s.properties) return `one of ${Object.keys(s.properties).join(', ')}`;
  if (s.type === 'array') return 'a list index such as 0';
  return expectedOf(schema);
}

function typed(text: string, schema: TSchema, where: string, path: string): unknown {
  const o = (detail: string) => ({ fromOverride: true, detail });
  const s = schema as { type?: string; anyOf?: Array<{ const?: unknown }> };
  const kinds = s.anyOf ? [...new Set(s.anyOf.map((m) => typeof m.const))] : [];
  if (s.type === 'string' || (kinds.length === 1 && kinds[0] === 'string')) return text;
  if (s.type === 'integer' || s.type === 'number' || (kinds.length === 1 && kinds[0] === 'number')) {
    const n = Number(text.trim());
    if (text.trim() === '' || !Number.isFinite(n)) throw new InventoryError(where, path, expectedOf(schema), o(`expected ${expectedOf(schema)}, got ${show(text)}`));
    return n;
  }
  if (s.type === 'boolean') {
    if (/^(true|yes|on)$/i.test(text.trim())) return true;
    if (/^(false|no|off)$/i.test(text.trim())) return false;
    throw new InventoryError(where, path, 'true or false', o(`expected true or false, got ${show(text)}`));
  }
  try {
    return parseYaml(text) as unknown; // lists and mappings: -e 'domain.aliases=[shop.example.com]'
  } catch {
    throw new InventoryError(where, path, expectedOf(schema), o(`expected ${expectedOf(schema)} written as YAML, got ${show(text)}`));
  }
}

// --- helpers shared with the renderers -------------------------------------------------------------------

/** arm64 for Graviton families (t4g, c7g, m7gd, r8g …), x86_64 otherwise. */
export function architectureOf(instanceType: string): 'arm64' | 'x86_64' {
  const family = instanceType.split('.')[0] ?? '';
  return /^[a-z]+\d+g[a-z]*$/.test(family) ? 'arm64' : 'x86_64';
}

/** The artifact bucket for an account, with the inventory's {accountId} and {region} filled in. */
export function artifactBucketName(inv: Inventory, accountId: string): string {
  return inv.artifacts.bucket.replaceAll('{accountId}', accountId).replaceAll('{region}', inv.region);
}

/**
 * Sale events whose pre-warm time is not in the future at `now`. Auto Scaling refuses scheduled
 * actions in the past, so a deploy must not carry them (renderers stay pure: the caller has the clock).
 */
export function pastSaleEvents(inv: Inventory, now: Date): SaleEvent[] {
  return inv.saleEvents.filter((e) => Date.parse(e.start) - (e.leadMinutes ?? DEFAULT_LEAD_MINUTES) * 60_000 <= now.getTime());
}

/** `<project>-<environment>`: the prefix of stack names and named resources. */
export function resourcePrefix(inv: Inventory): string {
  return `${inv.project}-${inv.environment}`;
}

function regionOfArn(arn: string): string {
  return arn.split(':')[3] ?? '';
}

function expectedOf(schema: TSchema): string {
  const s = schema as { expected?: string; type?: string; minimum?: number; maximum?: number; minItems?: number; anyOf?: Array<{ const?: unknown }>; format?: string; pattern?: string };
  if (s.expected) return s.expected;
  if (s.anyOf) return `one of ${s.anyOf.map((m) => String(m.const)).join(', ')}`;
  switch (s.type) {
    case 'integer': return `an integer from ${s.minimum ?? '-∞'} to ${s.maximum ?? '∞'}`;
    case 'number': return `a number from ${s.minimum ?? '-∞'} to ${s.maximum ?? '∞'}`;
    case 'boolean': return 'true or false';
    case 'string': return s.pattern ? `text matching ${s.pattern}` : 'text';
    case 'array': return s.minItems ? `a list of at least ${s.minItems}` : 'a list';
    case 'object': return 'a mapping';
    default: return 'a valid value';
  }
}

function pointerSegments(pointer: string): (string | number)[] {
  if (!pointer) return [];
  return pointer.slice(1).split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~')).map((p) => (/^\d+$/.test(p) ? Number(p) : p));
}

function dotted(segments: readonly (string | number)[]): string {
  return segments.reduce<string>((acc, s) => (typeof s === 'number' ? `${acc}[${s}]` : acc ? `${acc}.${s}` : s), '');
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value) ?? typeof value;
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
