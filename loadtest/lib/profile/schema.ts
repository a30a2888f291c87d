// The YAML shape of a profile (TypeBox). Feeders and thresholds are checked here only for their
// `type:` and `metric:`; the schema of their kind (feeders/<kind>.ts, thresholds/<kind>.ts)
// checks the rest once the kind is known. Each description is the fix a problem there shows.
import { Type } from '@sinclair/typebox';
import { FEEDER_TYPES } from '../feeders/index.js';
import { CapacitySchema } from '../capacity.js';
import { SessionsSchema } from '../sessions.js';
import { StepSchema } from '../steps/request.js';
import { OversellSchema } from '../thresholds/oversell.js';
import { METRICS } from '../thresholds/registry.js';
import { Dur, Name, Obj } from './shapes.js';

const PhaseSchema = Obj(
  {
    name: Name('the phase name'),
    duration: Dur('how long the phase lasts'),
    rate: Type.Number({ minimum: 0, description: 'journeys started per second at the start of the phase, 0 or more (e.g. rate: 50)' }),
    rampTo: Type.Optional(Type.Number({ minimum: 0, description: 'journeys started per second at the end of the phase, 0 or more (the rate ramps linearly)' })),
  },
  'a phase: {name, duration, rate, rampTo}',
);

const JourneySchema = Obj(
  {
    name: Name('the journey name'),
    weight: Type.Number({ minimum: 0, maximum: 100, description: 'the share of journeys in percent (all weights add up to 100; 0 for setup-only journeys)' }),
    steps: Type.Array(StepSchema, { minItems: 1, description: 'the steps, in order (at least one)' }),
  },
  'a journey: {name, weight, steps}',
);

const SetupSchema = Obj(
  {
    journey: Type.String({ description: 'the journey to run once per row, e.g. journey: register' }),
    each: Type.String({ description: 'the users feeder whose rows it runs for, e.g. each: user' }),
    rate: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'journeys per second, more than 0 (default 50)' })),
  },
  'a setup task: {journey, each, rate}',
);

/** `users, skus or values` */
const either = (names: readonly string[]): string => (names.length > 1 ? `${names.slice(0, -1).join(', ')} or ${names.at(-1)}` : names.join(''));

export const ProfileSchema = Obj(
  {
    name: Name('the profile name'),
    description: Type.Optional(Type.String()),
    seed: Type.Optional(Type.Integer({ description: 'an integer that fixes every random choice (default 1)' })),
    maxInFlight: Type.Integer({ minimum: 1, maximum: 20000, description: 'the most requests in flight at once = connections, e.g. maxInFlight: 64' }),
    maxQueued: Type.Optional(Type.Integer({ minimum: 0, description: 'how many requests may wait for a free connection before new journeys are dropped (default 10000)' })),
    timeout: Type.Optional(Dur('how long one request may take')),
    drain: Type.Optional(Dur('how long journeys still running after the last phase may take to finish')),
    phases: Type.Array(PhaseSchema, { minItems: 1, description: 'a list of phases, at least one: [{name, duration, rate, rampTo}]' }),
    feeders: Type.Optional(
      Type.Record(Type.String(), Type.Object({ type: Type.Union(FEEDER_TYPES.map((k) => Type.Literal(k)), { description: `type: ${either(FEEDER_TYPES)}` }) }), { description: 'named feeders' }),
    ),
    setup: Type.Optional(Type.Array(SetupSchema, { description: 'setup tasks run before the phases' })),
    journeys: Type.Array(JourneySchema, { minItems: 1, description: 'a list of journeys, at least one' }),
    thresholds: Type.Optional(Type.Array(Type.Object({ metric: Type.Union(METRICS.map((m) => Type.Literal(m)), { description: `one of ${METRICS.join(', ')}` }) }), { description: 'a list of thresholds' })),
    oversell: Type.Optional(OversellSchema),
    sessions: Type.Optional(SessionsSchema),
    capacity: Type.Optional(CapacitySchema),
  },
  'a profile: {name, description, seed, maxInFlight, maxQueued, timeout, drain, phases, feeders, setup, journeys, thresholds, oversell, sessions, capacity}',
);
