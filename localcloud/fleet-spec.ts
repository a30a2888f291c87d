// What the deploy playbook hands the local fleet: per service, the worker program and its
// environment, the artifact (content hash of its code) and the scaling policy the inventory gives
// the ASG; plus the gateway. Validated once, at the control API, with the path of the first error.
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';

const Seconds = (description: string) => Type.Number({ minimum: 0, maximum: 3600, description });

export const ScalingPolicySchema = Type.Object(
  {
    min: Type.Integer({ minimum: 1, maximum: 64 }),
    max: Type.Integer({ minimum: 1, maximum: 64 }),
    desired: Type.Integer({ minimum: 1, maximum: 64 }),
    /** Average CPU of the group, in percent of one core per worker. */
    cpuTarget: Type.Number({ exclusiveMinimum: 0, maximum: 100 }),
    /** Requests per minute per worker (the ASG's ALBRequestCountPerTarget policy); absent: CPU alone. */
    requestsPerTarget: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
    warmupSeconds: Seconds('a new worker counts toward the metric only after this long in service'),
    cooldownSeconds: Seconds('no scale-in within this long of the previous scaling activity'),
    evaluationSeconds: Type.Number({ exclusiveMinimum: 0, maximum: 3600 }),
  },
  { additionalProperties: false },
);
export type ScalingPolicy = Static<typeof ScalingPolicySchema>;

const NAME = /^[a-z][a-z0-9-]{0,31}$/;
const Name = Type.String({ pattern: NAME.source });

export const ServiceSpecSchema = Type.Object(
  {
    /** The worker's entry point, run as `node [...nodeArgs] <program> [...args]`. */
    program: Type.String({ minLength: 1 }),
    nodeArgs: Type.Optional(Type.Array(Type.String())),
    args: Type.Optional(Type.Array(Type.String())),
    /** The worker's whole environment besides PATH/HOME; PORT and HOST are set by the fleet. */
    env: Type.Optional(Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }), Type.String())),
    /** Content hash of the service's code: a new value rolls the group one worker at a time. */
    artifact: Type.String({ minLength: 1, maxLength: 128 }),
    /** Path prefixes routed to this service; default `/api/<name>`. */
    routes: Type.Optional(Type.Array(Type.String({ pattern: '^/[A-Za-z0-9/_.-]*$' }), { minItems: 1 })),
    policy: ScalingPolicySchema,
  },
  { additionalProperties: false },
);
export type ServiceSpec = Static<typeof ServiceSpecSchema>;

export const TuningSchema = Type.Object(
  {
    /** Active health check period per worker, like a target group's HealthCheckIntervalSeconds. */
    healthIntervalMs: Type.Optional(Type.Integer({ minimum: 50, maximum: 60_000 })),
    unhealthyThreshold: Type.Optional(Type.Integer({ minimum: 1, maximum: 10 })),
    healthyThreshold: Type.Optional(Type.Integer({ minimum: 1, maximum: 10 })),
    /** How often worker CPU is sampled and scaling evaluated. */
    sampleIntervalMs: Type.Optional(Type.Integer({ minimum: 50, maximum: 60_000 })),
    /** Longest wait for a draining worker's requests (the target group's deregistration delay). */
    drainSeconds: Type.Optional(Type.Number({ minimum: 0, maximum: 3600 })),
    /** Longest wait for a new worker to pass its health check before it is replaced. */
    startSeconds: Type.Optional(Type.Number({ minimum: 1, maximum: 3600 })),
    /** Longest wait for an upstream answer before the gateway returns 504. */
    upstreamTimeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 3_600_000 })),
  },
  { additionalProperties: false },
);
export type Tuning = Required<Static<typeof TuningSchema>>;

export const FleetSpecSchema = Type.Object(
  {
    gateway: Type.Object(
      {
        host: Type.Optional(Type.String({ minLength: 1 })),
        /** 0 picks a free port (tests); a fixed port otherwise. */
        port: Type.Integer({ minimum: 0, maximum: 65535 }),
        /** Folder served for every path that is not routed to a service. */
        staticDir: Type.Optional(Type.String({ minLength: 1 })),
      },
      { additionalProperties: false },
    ),
    services: Type.Record(Name, ServiceSpecSchema),
    tuning: Type.Optional(TuningSchema),
  },
  { additionalProperties: false },
);
export type FleetSpec = Static<typeof FleetSpecSchema>;

export const DEFAULT_TUNING: Tuning = {
  healthIntervalMs: 1000,
  unhealthyThreshold: 2,
  healthyThreshold: 2,
  sampleIntervalMs: 1000,
  drainSeconds: 30,
  startSeconds: 60,
  upstreamTimeoutMs: 60_000,
};

export class FleetSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FleetSpecError';
  }
}

const compiled = TypeCompiler.Compile(FleetSpecSchema);

/** Returns the spec typed, or throws a FleetSpecError naming the first bad field and what it expects. */
export function parseFleetSpec(value: unknown): FleetSpec {
  if (!compiled.Check(value)) {
    const first = compiled.Errors(value).First();
    const path = first ? first.path.replace(/^\//, '').replace(/\//g, '.') : '';
    throw new FleetSpecError(`fleet spec${path ? ` ${path}` : ''}: ${first ? lowerFirst(first.message) : 'is invalid'}`);
  }
  for (const [name, svc] of Object.entries(value.services)) {
    if (!NAME.test(name)) throw new FleetSpecError(`fleet spec services.${name}: a service name is lower-case letters, digits and dashes`);
    const p = svc.policy;
    if (!(p.min <= p.desired && p.desired <= p.max)) {
      throw new FleetSpecError(`fleet spec services.${name}.policy: needs min <= desired <= max, got ${p.min} / ${p.desired} / ${p.max}`);
    }
  }
  const seen = new Map<string, string>();
  for (const [name, svc] of Object.entries(value.services)) {
    for (const prefix of routesOf(name, svc)) {
      const other = seen.get(prefix);
      if (other) throw new FleetSpecError(`fleet spec services.${name}.routes: ${prefix} is already routed to ${other}`);
      seen.set(prefix, name);
    }
  }
  return value;
}

export function routesOf(name: string, svc: Pick<ServiceSpec, 'routes'>): string[] {
  return (svc.routes ?? [`/api/${name}`]).map((r) => (r.length > 1 ? r.replace(/\/+$/, '') : r));
}

export function tuningOf(spec: Pick<FleetSpec, 'tuning'>): Tuning {
  return { ...DEFAULT_TUNING, ...spec.tuning };
}

/** What a worker is launched from: a change here means new workers (a rolling replacement). */
export function launchSpecOf(svc: ServiceSpec): string {
  return JSON.stringify([svc.program, svc.nodeArgs ?? [], svc.args ?? [], sortKeys(svc.env ?? {}), svc.artifact]);
}

function sortKeys(o: Record<string, string>): Array<[string, string]> {
  return Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}
