// Profiles: YAML files that say what traffic to send (phases), as whom (feeders), doing what
// (journeys) and what counts as a pass (thresholds). The shape is checked with TypeBox, then the
// cross-references (journeys, endpoints, phases, variables); every problem is reported at once
// with the file, line, path inside the file and the fix, and nothing runs.
import { readFileSync } from 'node:fs';
import { Type, type TSchema } from '@sinclair/typebox';
import { didYouMean, readYaml, type PathKey, type Wording, type YamlProblem, type YamlProblems } from '../../environment/index.js';
import { FEEDER_FIELDS, type FeederSpec, type SkusFeederSpec } from './feeders.js';
import {
  StepSyntaxError,
  jsonPlaceholderRefs,
  parseCapture,
  parseJsonPlaceholders,
  parsePlaceholders,
  placeholderRefs,
  type CaptureExpr,
  type JsonWithPlaceholders,
  type PlaceholderText,
} from './placeholders.js';
import { formatMs, formatPercent, parseDuration, parseLatency, parseRatio } from './units.js';

// --- the compiled profile --------------------------------------------------------------------

export interface Phase {
  name: string;
  startMs: number;
  durationMs: number;
  /** Journeys started per second at the start of the phase. */
  rate: number;
  /** … and at its end (equal to rate when the phase does not ramp). */
  rampTo: number;
}

export interface Capture {
  name: string;
  expr: CaptureExpr;
}

export interface Step {
  journey: string;
  index: number;
  name: string;
  /** Name the recorder files this step's requests under, e.g. `GET /api/catalog/products/:sku`. */
  endpoint: string;
  method: string;
  path: PlaceholderText;
  headers: Array<[string, PlaceholderText]>;
  json: JsonWithPlaceholders | undefined;
  /** Statuses that count as success; null means any 2xx or 3xx. */
  expect: number[] | null;
  captures: Capture[];
  pauseMs: number;
  /** Successful responses of this step are sales (the oversell check adds up their items). */
  sale: boolean;
  /** The response body or headers are read (captures, sales). */
  needsResponse: boolean;
}

export interface Journey {
  name: string;
  weight: number;
  steps: Step[];
}

export type Scope = { endpoint?: string; journey?: string };

export type LatencyMetric = 'p50' | 'p95' | 'p99' | 'max';

interface ThresholdBase {
  /** Where it was written, e.g. `thresholds[2]`. */
  path: string;
  /** How it reads in a verdict, e.g. `p99 of GET /api/orders < 800 ms`. */
  label: string;
}

export type Threshold =
  | (ThresholdBase & { kind: 'latency'; metric: LatencyMetric; maxMs: number; scope: Scope; abortOnFail: boolean; graceMs: number })
  | (ThresholdBase & { kind: 'errorRate'; max: number; scope: Scope; abortOnFail: boolean; graceMs: number })
  | (ThresholdBase & { kind: 'achievedRate'; min: number; phase: string | undefined })
  | (ThresholdBase & { kind: 'oversell' })
  | (ThresholdBase & { kind: 'scaleOut'; service: string; reaches: number; withinMs: number; phase: string })
  | (ThresholdBase & { kind: 'scaleIn'; service: string; withinMs: number });

export interface SetupTask {
  journey: string;
  /** The users feeder whose every row runs the journey once. */
  each: string;
  rate: number;
}

export interface OversellCheck {
  feeder: string;
  skus: string[] | 'hot';
  stockPath: PlaceholderText;
  availableField: string;
  settleMs: number;
}

export interface Profile {
  file: string;
  name: string;
  description: string;
  seed: number;
  maxInFlight: number;
  maxQueued: number;
  timeoutMs: number;
  drainMs: number;
  phases: Phase[];
  durationMs: number;
  feeders: Record<string, FeederSpec>;
  setup: SetupTask[];
  journeys: Journey[];
  thresholds: Threshold[];
  oversell: OversellCheck | undefined;
}

export const BUILTINS = ['uuid', 'n', 'run', 'shard'];

// --- the YAML shape ----------------------------------------------------------------------------

const DURATION_HELP = 'a duration such as 30s, 2m, 1h or 500ms (a bare number is seconds)';
const Dur = (what: string) => Type.Union([Type.String(), Type.Number()], { description: `${what}: ${DURATION_HELP}` });
const Ratio = (what: string) => Type.Union([Type.String(), Type.Number()], { description: `${what}: a percentage such as 1% or a fraction such as 0.01` });
const Latency = (what: string) => Type.Union([Type.String(), Type.Number()], { description: `${what}: a latency such as 250ms or 1.5s (a bare number is milliseconds)` });
const Name = (what: string) => Type.String({ minLength: 1, pattern: '^[A-Za-z0-9][\\w.-]*$', description: `${what}: letters, digits, - _ . (e.g. flash-spike)` });
const Obj = <T extends Record<string, TSchema>>(props: T, description: string) => Type.Object(props, { additionalProperties: false, description });

const PhaseSchema = Obj(
  {
    name: Name('the phase name'),
    duration: Dur('how long the phase lasts'),
    rate: Type.Number({ minimum: 0, description: 'journeys started per second at the start of the phase, 0 or more (e.g. rate: 50)' }),
    rampTo: Type.Optional(Type.Number({ minimum: 0, description: 'journeys started per second at the end of the phase, 0 or more (the rate ramps linearly)' })),
  },
  'a phase: {name, duration, rate, rampTo}',
);

const StepSchema = Obj(
  {
    name: Type.Optional(Name('the step name')),
    request: Type.String({ minLength: 1, description: 'the method and path, e.g. request: GET /api/catalog/products/{{product.sku}}' }),
    endpoint: Type.Optional(Type.String({ minLength: 1, description: 'the name results are filed under, e.g. endpoint: GET /api/orders' })),
    headers: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'header names mapped to (templated) strings' })),
    json: Type.Optional(Type.Unknown({ description: 'a JSON body, with {{placeholders}} in its strings' })),
    expect: Type.Optional(Type.Array(Type.Integer({ minimum: 100, maximum: 599 }), { minItems: 1, description: 'the statuses that count as success, e.g. expect: [201, 409]' })),
    capture: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'variable names mapped to capture paths, e.g. capture: {token: token, sku: "items[*].sku"}' })),
    pause: Type.Optional(Dur('think time before the step')),
    sale: Type.Optional(Type.Boolean({ description: 'true on the checkout step: its successful responses are sales for the oversell check' })),
  },
  'a step: {name, request, headers, json, expect, capture, pause, sale}',
);

const JourneySchema = Obj(
  {
    name: Name('the journey name'),
    weight: Type.Number({ minimum: 0, maximum: 100, description: 'the share of journeys in percent (all weights add up to 100; 0 for setup-only journeys)' }),
    steps: Type.Array(StepSchema, { minItems: 1, description: 'the steps, in order (at least one)' }),
  },
  'a journey: {name, weight, steps}',
);

const UsersFeederSchema = Obj(
  {
    type: Type.Literal('users'),
    count: Type.Integer({ minimum: 1, description: 'how many accounts, e.g. count: 200' }),
    prefix: Type.Optional(Type.String({ pattern: '^[a-z0-9][a-z0-9-]*$', description: 'the start of each email address (lower-case letters, digits and -)' })),
    domain: Type.Optional(Type.String({ pattern: '^[a-z0-9.-]+\\.[a-z]+$', description: 'the email domain, e.g. loadtest.saleday.test' })),
  },
  'a users feeder: {type: users, count, prefix, domain}',
);

const SkusFeederSchema = Obj(
  {
    type: Type.Literal('skus'),
    count: Type.Integer({ minimum: 1, description: 'how many skus of the seeded catalog, e.g. count: 10000' }),
    first: Type.Optional(Type.Integer({ minimum: 1, description: 'the number of the first sku (SKU-000001 is 1)' })),
    hot: Type.Optional(
      Obj(
        {
          count: Type.Optional(Type.Integer({ minimum: 1, description: 'how many of the first skus are hot, e.g. count: 5' })),
          skus: Type.Optional(Type.Array(Type.String({ pattern: '^\\S+$' }), { minItems: 1, description: 'the hot skus by name' })),
          share: Ratio('the share of picks that go to the hot skus'),
        },
        'the hot set: {count or skus, share}',
      ),
    ),
  },
  'a skus feeder: {type: skus, count, first, hot: {count, share}}',
);

const ValuesFeederSchema = Obj(
  {
    type: Type.Literal('values'),
    values: Type.Array(Type.String(), { minItems: 1, description: 'the values to pick from, e.g. values: [chair, shirt, lamp]' }),
  },
  'a values feeder: {type: values, values: [...]}',
);

const FeederKinds: Record<string, TSchema> = { users: UsersFeederSchema, skus: SkusFeederSchema, values: ValuesFeederSchema };

const SetupSchema = Obj(
  {
    journey: Type.String({ description: 'the journey to run once per row, e.g. journey: register' }),
    each: Type.String({ description: 'the users feeder whose rows it runs for, e.g. each: user' }),
    rate: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'journeys per second, more than 0 (default 50)' })),
  },
  'a setup task: {journey, each, rate}',
);

const ScopeProps = {
  endpoint: Type.Optional(Type.String({ description: 'an endpoint name as the steps define it, e.g. GET /api/catalog/products/:sku' })),
  journey: Type.Optional(Type.String({ description: 'a journey name' })),
};
const AbortProps = {
  abortOnFail: Type.Optional(Type.Boolean({ description: 'true stops the run as soon as the threshold fails (after the grace period)' })),
  grace: Type.Optional(Dur('how long after the start abortOnFail waits before judging')),
};
const Metric = (name: string) => Type.Literal(name);

const ThresholdKinds: Record<string, TSchema> = {
  latency: Obj({ metric: Type.String(), max: Latency('the highest acceptable value'), ...ScopeProps, ...AbortProps }, 'a latency threshold: {metric, max, endpoint or journey, abortOnFail, grace}'),
  errorRate: Obj({ metric: Metric('errorRate'), max: Ratio('the highest acceptable error rate'), ...ScopeProps, ...AbortProps }, 'an error-rate threshold: {metric, max, endpoint or journey, abortOnFail, grace}'),
  achievedRate: Obj(
    { metric: Metric('achievedRate'), min: Ratio('the lowest acceptable ratio of achieved to scheduled journeys per second'), phase: Type.Optional(Type.String({ description: 'a phase name (every phase when left out)' })) },
    'an achieved-rate threshold: {metric, min, phase}',
  ),
  oversell: Obj({ metric: Metric('oversell') }, 'the oversell check: {metric: oversell}'),
  scaleOut: Obj(
    {
      metric: Metric('scaleOut'),
      service: Type.String({ minLength: 1, description: 'the service, e.g. service: catalog' }),
      reaches: Type.Integer({ minimum: 1, description: 'the in-service instance count it must reach, e.g. reaches: 3' }),
      within: Dur('how long after the phase start'),
      phase: Type.String({ description: 'the phase whose start the clock runs from, e.g. phase: flash-spike' }),
    },
    'a scale-out threshold: {metric: scaleOut, service, reaches, within, phase}',
  ),
  scaleIn: Obj(
    { metric: Metric('scaleIn'), service: Type.String({ minLength: 1, description: 'the service, e.g. service: catalog' }), within: Dur('how long after the last phase the fleet may take to return to its minimum') },
    'a scale-in threshold: {metric: scaleIn, service, within}',
  ),
};
const METRICS = ['p50', 'p95', 'p99', 'max', 'errorRate', 'achievedRate', 'oversell', 'scaleOut', 'scaleIn'];

const OversellSchema = Obj(
  {
    feeder: Type.Optional(Type.String({ description: 'the skus feeder whose skus are checked' })),
    skus: Type.Optional(Type.Union([Type.Literal('hot'), Type.Array(Type.String(), { minItems: 1 })], { description: 'hot (the feeder’s hot set) or a list of skus' })),
    stockPath: Type.Optional(Type.String({ description: 'where stock is read, default /api/inventory/stock/{{sku}}' })),
    availableField: Type.Optional(Type.String({ description: 'the field of the stock answer that holds the available units (default available)' })),
    settle: Type.Optional(Dur('how long to wait for stock to settle after the run')),
  },
  'the oversell check: {feeder, skus, stockPath, availableField, settle}',
);

const ProfileSchema = Obj(
  {
    name: Name('the profile name'),
    description: Type.Optional(Type.String()),
    seed: Type.Optional(Type.Integer({ description: 'an integer that fixes every random choice (default 1)' })),
    maxInFlight: Type.Integer({ minimum: 1, maximum: 20000, description: 'the most requests in flight at once = connections, e.g. maxInFlight: 64' }),
    maxQueued: Type.Optional(Type.Integer({ minimum: 0, description: 'how many requests may wait for a free connection before new journeys are dropped (default 10000)' })),
    timeout: Type.Optional(Dur('how long one request may take')),
    drain: Type.Optional(Dur('how long journeys still running after the last phase may take to finish')),
    phases: Type.Array(PhaseSchema, { minItems: 1, description: 'a list of phases, at least one: [{name, duration, rate, rampTo}]' }),
    feeders: Type.Optional(Type.Record(Type.String(), Type.Object({ type: Type.Union([Type.Literal('users'), Type.Literal('skus'), Type.Literal('values')], { description: 'type: users, skus or values' }) }), { description: 'named feeders' })),
    setup: Type.Optional(Type.Array(SetupSchema, { description: 'setup tasks run before the phases' })),
    journeys: Type.Array(JourneySchema, { minItems: 1, description: 'a list of journeys, at least one' }),
    thresholds: Type.Optional(Type.Array(Type.Object({ metric: Type.Union(METRICS.map((m) => Type.Literal(m)), { description: `one of ${METRICS.join(', ')}` }) }), { description: 'a list of thresholds' })),
    oversell: Type.Optional(OversellSchema),
  },
  'a profile: {name, description, seed, maxInFlight, maxQueued, timeout, drain, phases, feeders, setup, journeys, thresholds, oversell}',
);

// --- errors --------------------------------------------------------------------------------------

export interface Problem {
  path: string;
  line: number | undefined;
  col: number | undefined;
  problem: string;
  fix: string;
}

export class ProfileError extends Error {
  constructor(
    readonly file: string,
    readonly problems: Problem[],
  ) {
    super(
      `${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'} in the profile\n` +
        problems
          .map((p) => `  ${file}${p.line ? `:${p.line}:${p.col}` : ''}: ${p.path || '(top level)'}: ${p.problem}\n      fix: ${p.fix}`)
          .join('\n'),
    );
    this.name = 'ProfileError';
  }
}

type Key = PathKey;

/** How the profile loader words what the YAML reporter finds. */
const wording: Wording = {
  syntax: (message) => ({ problem: `YAML syntax: ${message}`, expected: 'correct the YAML at that line (indentation, quotes, a missing colon)' }),
  notAMapping: () => ({ problem: 'is not a YAML mapping', expected: 'start from loadtest/profiles/smoke.yaml: a mapping with name, maxInFlight, phases and journeys' }),
  unknownKey: (key, allowed, suggestion) => ({
    problem: `unknown key "${key}"${suggestion === undefined ? '' : ` (did you mean "${suggestion}"?)`}`,
    expected: `remove it; the keys allowed here are ${allowed.join(', ')}`,
  }),
  missing(key, schema) {
    const { description } = schema as { description?: string };
    return { problem: 'is missing', expected: description ? `add ${key}, ${description}` : 'add it' };
  },
  invalid(key, value, schema, message) {
    const { description } = schema as { description?: string };
    const got = JSON.stringify(value);
    const fix = description ? (/^\d+$/.test(key) ? description : `${key}: ${description}`) : 'see the profile section of the README';
    return { problem: `${message.charAt(0).toLowerCase()}${message.slice(1).replace('union value', 'a different value')}, got ${got?.length > 60 ? `${got.slice(0, 60)}…` : got}`, expected: fix };
  },
};

const asProblems = (list: readonly YamlProblem[]): Problem[] => list.map((p) => ({ path: p.path, line: p.line, col: p.col, problem: p.problem, fix: p.expected }));

// --- loading ---------------------------------------------------------------------------------------

/** Reads, validates and compiles a profile; throws ProfileError naming every problem. */
export function loadProfile(file: string): Profile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ProfileError(file, [{ path: '', line: undefined, col: undefined, problem: code === 'ENOENT' ? 'no such file' : `cannot be read (${code ?? (err as Error).message})`, fix: 'give the path of a profile, e.g. --profile loadtest/profiles/smoke.yaml' }]);
  }
  return parseProfile(text, file);
}

export function parseProfile(text: string, file: string): Profile {
  const { value: r, problems } = readYaml(text, wording);
  if (!r) throw new ProfileError(file, asProblems(problems.list));
  problems.checkSchema(ProfileSchema, r);
  // Feeders and thresholds are checked against the schema of their kind, once their kind is known.
  const feedersRaw = isRecord(r.feeders) ? r.feeders : {};
  for (const [name, f] of Object.entries(feedersRaw)) {
    const kind = isRecord(f) ? FeederKinds[String(f.type)] : undefined;
    if (kind) problems.checkSchema(kind, f, ['feeders', name]);
  }
  const thresholdsRaw = Array.isArray(r.thresholds) ? r.thresholds : [];
  thresholdsRaw.forEach((t, i) => {
    const metric = isRecord(t) ? String(t.metric) : '';
    const kind = ThresholdKinds[['p50', 'p95', 'p99', 'max'].includes(metric) ? 'latency' : metric];
    if (kind) problems.checkSchema(kind, t, ['thresholds', i]);
  });
  if (problems.length) throw new ProfileError(file, asProblems(problems.list));
  const profile = compile(r as unknown as RawProfile, file, problems);
  if (problems.length) throw new ProfileError(file, asProblems(problems.list));
  return profile;
}

const isRecord = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

interface RawStep {
  name?: string;
  request: string;
  endpoint?: string;
  headers?: Record<string, string>;
  json?: unknown;
  expect?: number[];
  capture?: Record<string, string>;
  pause?: string | number;
  sale?: boolean;
}
interface RawProfile {
  name: string;
  description?: string;
  seed?: number;
  maxInFlight: number;
  maxQueued?: number;
  timeout?: string | number;
  drain?: string | number;
  phases: Array<{ name: string; duration: string | number; rate: number; rampTo?: number }>;
  feeders?: Record<string, Record<string, unknown> & { type: 'users' | 'skus' | 'values' }>;
  setup?: Array<{ journey: string; each: string; rate?: number }>;
  journeys: Array<{ name: string; weight: number; steps: RawStep[] }>;
  thresholds?: Array<Record<string, unknown> & { metric: string }>;
  oversell?: { feeder?: string; skus?: 'hot' | string[]; stockPath?: string; availableField?: string; settle?: string | number };
}

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];

function compile(r: RawProfile, file: string, problems: YamlProblems): Profile {
  const duration = (value: unknown, path: Key[], what: string, positive = false): number => {
    const ms = parseDuration(value);
    if (ms === undefined || (positive && ms <= 0)) {
      problems.add(path, `${JSON.stringify(value)} is not ${positive ? 'a positive duration' : 'a duration'}`, `write ${what} as ${DURATION_HELP}`);
      return 0;
    }
    return ms;
  };
  const ratio = (value: unknown, path: Key[]): number => {
    const v = parseRatio(value);
    if (v === undefined) problems.add(path, `${JSON.stringify(value)} is not a ratio from 0 to 100%`, 'write a percentage such as 1% or a fraction such as 0.01');
    return v ?? 0;
  };
  const unique = (names: string[], path: (i: number) => Key[], what: string): void => {
    names.forEach((n, i) => {
      if (names.indexOf(n) !== i) problems.add(path(i), `${what} "${n}" is defined twice`, `give every ${what} its own name`);
    });
  };

  const requestTimeout = (value: unknown): number => {
    const ms = duration(value, ['timeout'], 'the request timeout', true);
    if (ms > 0 && ms < 1000) problems.add(['timeout'], `is ${formatMs(ms)}, shorter than autocannon's shortest timeout`, 'make it 1s or more');
    return ms;
  };

  // phases
  let at = 0;
  const phases: Phase[] = r.phases.map((p, i) => {
    const durationMs = duration(p.duration, ['phases', i, 'duration'], 'the phase duration', true);
    const phase = { name: p.name, startMs: at, durationMs, rate: p.rate, rampTo: p.rampTo ?? p.rate };
    at += durationMs;
    return phase;
  });
  unique(phases.map((p) => p.name), (i) => ['phases', i, 'name'], 'phase');
  const phaseNames = phases.map((p) => p.name);

  // feeders
  const feeders: Record<string, FeederSpec> = {};
  for (const [name, f] of Object.entries(r.feeders ?? {})) {
    if (!/^[A-Za-z_][\w-]*$/.test(name)) problems.add(['feeders', name], `"${name}" cannot be used as a variable name`, 'name feeders with letters, digits, _ and -, starting with a letter (e.g. user, product)', { atKey: true });
    if (BUILTINS.includes(name)) problems.add(['feeders', name], `"${name}" is a built-in variable`, `rename the feeder; ${BUILTINS.join(', ')} are built in`, { atKey: true });
    if (f.type === 'users') {
      feeders[name] = { type: 'users', count: f.count as number, prefix: (f.prefix as string | undefined) ?? 'loadtest', domain: (f.domain as string | undefined) ?? 'loadtest.saleday.test' };
    } else if (f.type === 'values') {
      feeders[name] = { type: 'values', values: f.values as string[] };
    } else {
      const hot = f.hot as { count?: number; skus?: string[]; share: unknown } | undefined;
      if (hot && !hot.count && !hot.skus) problems.add(['feeders', name, 'hot'], 'names no hot skus', 'add count: N (the first N skus are hot) or skus: [SKU-000001, …]');
      const spec: SkusFeederSpec = { type: 'skus', count: f.count as number, first: (f.first as number | undefined) ?? 1 };
      if (hot) spec.hot = { count: hot.count ?? hot.skus?.length ?? 0, share: ratio(hot.share, ['feeders', name, 'hot', 'share']), ...(hot.skus ? { skus: hot.skus } : {}) };
      if (hot?.count && hot.count > spec.count) problems.add(['feeders', name, 'hot', 'count'], `is ${hot.count}, more than the ${spec.count} skus of the feeder`, `make it at most ${spec.count}`);
      feeders[name] = spec;
    }
  }
  const feederNames = Object.keys(feeders);

  // journeys
  unique(r.journeys.map((j) => j.name), (i) => ['journeys', i, 'name'], 'journey');
  const journeys: Journey[] = r.journeys.map((j, ji) => {
    const known = new Set<string>([...BUILTINS, ...feederNames]);
    const stepNames: string[] = [];
    const steps = j.steps.map((s, si) => {
      const at: Key[] = ['journeys', ji, 'steps', si];
      const m = /^([A-Z]+)\s+(\/\S*)$/.exec(s.request.trim());
      if (!m || !METHODS.includes(m[1]!)) {
        problems.add([...at, 'request'], `"${s.request}" is not "METHOD /path"`, `write the method (${METHODS.join(', ')}) then the path, e.g. request: GET /api/catalog/products`);
      }
      const method = m?.[1] ?? 'GET';
      const rawPath = m?.[2] ?? '/';
      const placeholders = (source: string, path: Key[]): PlaceholderText => {
        try {
          return parsePlaceholders(source);
        } catch (err) {
          problems.add(path, (err as Error).message, 'write placeholders as {{name}} or {{feeder.field}}');
          return parsePlaceholders('');
        }
      };
      const checkRefs = (refs: string[][], path: Key[]): void => {
        for (const ref of refs) {
          const [head, field] = ref as [string, string | undefined];
          if (!known.has(head)) {
            const choices = [...known];
            problems.add(path, `uses {{${ref.join('.')}}}, which no feeder, built-in or earlier capture defines${didYouMean(head, choices)}`, `use one of ${choices.join(', ')}, or capture "${head}" in an earlier step`);
          } else if (feeders[head]) {
            const fields = FEEDER_FIELDS[feeders[head].type];
            if (!field || !fields.includes(field)) problems.add(path, `{{${ref.join('.')}}} names no field of the ${feeders[head].type} feeder "${head}"`, `use one of ${fields.map((f) => `{{${head}.${f}}}`).join(', ')}`);
          } else if (field) {
            problems.add(path, `{{${ref.join('.')}}}: "${head}" has no fields`, `write {{${head}}}`);
          }
        }
      };
      const path = placeholders(rawPath, [...at, 'request']);
      checkRefs(placeholderRefs(path), [...at, 'request']);
      const headers: Array<[string, PlaceholderText]> = Object.entries(s.headers ?? {}).map(([k, v]) => {
        const t = placeholders(v, [...at, 'headers', k]);
        checkRefs(placeholderRefs(t), [...at, 'headers', k]);
        if (!/^[A-Za-z0-9-]+$/.test(k)) problems.add([...at, 'headers', k], `"${k}" is not a header name`, 'use letters, digits and -', { atKey: true });
        return [k, t];
      });
      let json: JsonWithPlaceholders | undefined;
      if (s.json !== undefined) {
        try {
          json = parseJsonPlaceholders(s.json);
          checkRefs(jsonPlaceholderRefs(json), [...at, 'json']);
        } catch (err) {
          problems.add([...at, 'json'], (err as Error).message, 'write placeholders as {{name}} or {{feeder.field}}');
        }
      }
      const captures: Capture[] = Object.entries(s.capture ?? {}).map(([name, source]) => {
        if (!/^[A-Za-z_][\w-]*$/.test(name)) problems.add([...at, 'capture', name], `"${name}" cannot be a variable name`, 'use letters, digits, _ and -, starting with a letter', { atKey: true });
        if (BUILTINS.includes(name) || feeders[name]) problems.add([...at, 'capture', name], `"${name}" is already a ${feeders[name] ? 'feeder' : 'built-in variable'}`, 'capture into another name', { atKey: true });
        try {
          return { name, expr: parseCapture(source) };
        } catch (err) {
          if (!(err instanceof StepSyntaxError)) throw err;
          problems.add([...at, 'capture', name], err.message, 'write a path into the JSON answer such as token, items[0].sku, items[*].sku, or header:etag');
          return { name, expr: { from: 'body', segments: [] } };
        }
      });
      for (const c of captures) known.add(c.name);
      const name = s.name ?? `step${si + 1}`;
      stepNames.push(name);
      const endpoint = s.endpoint ?? `${method} ${rawPath.split('?')[0]!.replace(/\{\{\s*([\w.-]+)\s*\}\}/g, (_, ref: string) => `:${ref.split('.').pop()}`)}`;
      const step: Step = {
        journey: j.name,
        index: si,
        name,
        endpoint,
        method,
        path,
        headers,
        json,
        expect: s.expect ?? null,
        captures,
        pauseMs: s.pause === undefined ? 0 : duration(s.pause, [...at, 'pause'], 'the pause'),
        sale: s.sale ?? false,
        needsResponse: captures.length > 0 || (s.sale ?? false),
      };
      if (step.sale && !(json && json.kind === 'object')) problems.add([...at, 'sale'], 'marks a step without a JSON body as a sale', 'send the basket as json: {items: [{sku, qty}]} on the sale step');
      return step;
    });
    unique(stepNames, (i) => ['journeys', ji, 'steps', i, 'name'], `step of journey ${j.name}`);
    return { name: j.name, weight: j.weight, steps };
  });
  const journeyNames = journeys.map((j) => j.name);
  const weights = journeys.reduce((a, j) => a + j.weight, 0);
  if (Math.abs(weights - 100) > 1e-9) {
    problems.add(['journeys'], `the weights add up to ${weights}, not 100 (${journeys.map((j) => `${j.name} ${j.weight}`).join(', ')})`, 'change the weights so that they add up to 100 (a journey used only by setup has weight 0)');
  }
  const endpoints = [...new Set(journeys.flatMap((j) => j.steps.map((s) => s.endpoint)))];

  // setup
  const setup: SetupTask[] = (r.setup ?? []).map((s, i) => {
    if (!journeyNames.includes(s.journey)) problems.add(['setup', i, 'journey'], `names the unknown journey "${s.journey}"${didYouMean(s.journey, journeyNames)}`, `use one of the journeys: ${journeyNames.join(', ')}`);
    const f = feeders[s.each];
    if (!f || f.type !== 'users') {
      const users = feederNames.filter((n) => feeders[n]!.type === 'users');
      problems.add(['setup', i, 'each'], `"${s.each}" is not a users feeder`, users.length ? `use one of ${users.join(', ')}` : 'define a users feeder under feeders: (type: users, count: N)');
    }
    return { journey: s.journey, each: s.each, rate: s.rate ?? 50 };
  });

  // thresholds
  const scopeOf = (t: Record<string, unknown>, i: number): Scope => {
    const scope: Scope = {};
    if (typeof t.endpoint === 'string') {
      if (!endpoints.includes(t.endpoint)) problems.add(['thresholds', i, 'endpoint'], `names the unknown endpoint "${t.endpoint}"${didYouMean(t.endpoint, endpoints)}`, `use one of the endpoints the steps define: ${endpoints.join(', ')}`);
      scope.endpoint = t.endpoint;
    }
    if (typeof t.journey === 'string') {
      if (!journeyNames.includes(t.journey)) problems.add(['thresholds', i, 'journey'], `names the unknown journey "${t.journey}"${didYouMean(t.journey, journeyNames)}`, `use one of the journeys: ${journeyNames.join(', ')}`);
      scope.journey = t.journey;
    }
    if (scope.endpoint && scope.journey) problems.add(['thresholds', i], 'names both an endpoint and a journey', 'keep one of them (or split it into two thresholds)');
    return scope;
  };
  const phaseRef = (name: unknown, path: Key[]): void => {
    if (typeof name === 'string' && !phaseNames.includes(name)) problems.add(path, `names the unknown phase "${name}"${didYouMean(name, phaseNames)}`, `use one of the phases: ${phaseNames.join(', ')}`);
  };
  const scopeLabel = (s: Scope): string => (s.endpoint ? ` of ${s.endpoint}` : s.journey ? ` of journey ${s.journey}` : '');
  const thresholds: Threshold[] = (r.thresholds ?? []).map((t, i): Threshold => {
    const path = `thresholds[${i}]`;
    const abort = { abortOnFail: t.abortOnFail === true, graceMs: t.grace === undefined ? 0 : duration(t.grace, ['thresholds', i, 'grace'], 'the grace period') };
    switch (t.metric) {
      case 'p50':
      case 'p95':
      case 'p99':
      case 'max': {
        const maxMs = parseLatency(t.max);
        if (maxMs === undefined) problems.add(['thresholds', i, 'max'], `${JSON.stringify(t.max)} is not a latency`, 'write it as 250ms or 1.5s (a bare number is milliseconds)');
        const scope = scopeOf(t, i);
        return { kind: 'latency', path, metric: t.metric, maxMs: maxMs ?? 0, scope, ...abort, label: `${t.metric}${scopeLabel(scope)} ≤ ${formatMs(maxMs ?? 0)}` };
      }
      case 'errorRate': {
        const max = ratio(t.max, ['thresholds', i, 'max']);
        const scope = scopeOf(t, i);
        return { kind: 'errorRate', path, max, scope, ...abort, label: `error rate${scopeLabel(scope)} ≤ ${formatPercent(max)}` };
      }
      case 'achievedRate': {
        phaseRef(t.phase, ['thresholds', i, 'phase']);
        const min = ratio(t.min, ['thresholds', i, 'min']);
        const phase = t.phase as string | undefined;
        return { kind: 'achievedRate', path, min, phase, label: `achieved rate ≥ ${formatPercent(min)} of schedule in ${phase ? `phase ${phase}` : 'every phase'}` };
      }
      case 'oversell':
        return { kind: 'oversell', path, label: 'no oversell (units sold = stock decrease, stock never negative)' };
      case 'scaleOut': {
        phaseRef(t.phase, ['thresholds', i, 'phase']);
        const withinMs = duration(t.within, ['thresholds', i, 'within'], 'within');
        return { kind: 'scaleOut', path, service: t.service as string, reaches: t.reaches as number, withinMs, phase: t.phase as string, label: `${t.service as string} reaches ${t.reaches as number} in service within ${formatMs(withinMs)} of ${t.phase as string}` };
      }
      case 'scaleIn': {
        const withinMs = duration(t.within, ['thresholds', i, 'within'], 'within');
        return { kind: 'scaleIn', path, service: t.service as string, withinMs, label: `${t.service as string} back to its minimum within ${formatMs(withinMs)} after the run` };
      }
      default:
        throw new Error(`unreachable metric ${t.metric}`);
    }
  });

  // oversell
  let oversell: OversellCheck | undefined;
  const wantsOversell = thresholds.some((t) => t.kind === 'oversell');
  if (r.oversell || wantsOversell) {
    const skuFeeders = feederNames.filter((n) => feeders[n]!.type === 'skus');
    const feeder = r.oversell?.feeder ?? skuFeeders[0];
    if (!feeder || feeders[feeder]?.type !== 'skus') {
      problems.add(['oversell', 'feeder'], feeder ? `"${feeder}" is not a skus feeder` : 'the oversell check needs a skus feeder', skuFeeders.length ? `use one of ${skuFeeders.join(', ')}` : 'define one under feeders: (type: skus, count: N, hot: {count, share})');
    }
    if (!journeys.some((j) => j.steps.some((s) => s.sale))) {
      problems.add(wantsOversell ? ['thresholds', thresholds.findIndex((t) => t.kind === 'oversell')] : ['oversell'], 'no step is marked as a sale', 'add sale: true to the checkout step (POST /api/orders)');
    }
    const spec = feeder ? feeders[feeder] : undefined;
    const skus = r.oversell?.skus ?? 'hot';
    if (skus === 'hot' && spec?.type === 'skus' && !spec.hot) problems.add(['oversell', 'skus'], `the feeder "${feeder}" has no hot set`, `give the feeder hot: {count: N, share: 80%} or list the skus to check under oversell.skus`);
    const stockSource = r.oversell?.stockPath ?? '/api/inventory/stock/{{sku}}';
    let stockPath = parsePlaceholders('/');
    try {
      stockPath = parsePlaceholders(stockSource);
    } catch (err) {
      problems.add(['oversell', 'stockPath'], (err as Error).message, 'write it like /api/inventory/stock/{{sku}}');
    }
    if (!placeholderRefs(stockPath).some((ref) => ref[0] === 'sku')) problems.add(['oversell', 'stockPath'], `"${stockSource}" has no {{sku}}`, 'write it like /api/inventory/stock/{{sku}}');
    oversell = {
      feeder: feeder ?? '',
      skus,
      stockPath,
      availableField: r.oversell?.availableField ?? 'available',
      settleMs: r.oversell?.settle === undefined ? 30_000 : duration(r.oversell.settle, ['oversell', 'settle'], 'the settle time'),
    };
  }

  return {
    file,
    name: r.name,
    description: r.description ?? '',
    seed: r.seed ?? 1,
    maxInFlight: r.maxInFlight,
    maxQueued: r.maxQueued ?? 10_000,
    timeoutMs: r.timeout === undefined ? 10_000 : requestTimeout(r.timeout),
    drainMs: r.drain === undefined ? 30_000 : duration(r.drain, ['drain'], 'the drain time'),
    phases,
    durationMs: at,
    feeders,
    setup,
    journeys,
    thresholds,
    oversell,
  };
}

/** Every endpoint name the profile's steps file results under. */
export function endpointsOf(profile: Profile): string[] {
  return [...new Set(profile.journeys.flatMap((j) => j.steps.map((s) => s.endpoint)))];
}
