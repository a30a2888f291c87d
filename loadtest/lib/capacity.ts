// Capacity search: how much sale can this fleet take? The profile's journeys, feeders and
// thresholds are run at a constant rate, step after step, each step higher (× factor or
// + increment) and held long enough for the fleet to scale; the search stops at the first step
// whose thresholds fail (or at maxRate / maxSteps). The answer is the highest rate that held,
// what broke first at the next step (threshold, endpoint, measured value) and the service that
// was the limit (the probe's CPU and fleet size, else the service of the endpoint that failed).
//
// This file is the plan (the profile's `capacity:` section and the flags), the stop rule and the
// reading of a failed step; capacity-command.ts runs the steps, capacity-report.ts draws them.
import { Type, type Static } from '@sinclair/typebox';
import type { ProfileCompiler } from './profile/compiler.js';
import { Dur, Obj } from './profile/shapes.js';
import type { Profile, Threshold } from './profile/types.js';
import { decode, summarize } from './recorder.js';
import type { RunResult, Verdict } from './result.js';
import { formatMs } from './units.js';

export const CapacitySchema = Obj(
  {
    start: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'journeys per second of the first step, more than 0 (default: half the profile’s peak rate)' })),
    factor: Type.Optional(Type.Number({ exclusiveMinimum: 1, description: 'each step’s rate is the last one’s times this, more than 1 (default 1.5; or give increment)' })),
    increment: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'each step’s rate is the last one’s plus this many journeys per second (instead of factor)' })),
    hold: Type.Optional(Dur('how long each step runs: long enough for the fleet to scale out (default 60s)')),
    maxRate: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'the highest rate tried, in journeys per second (default: no limit)' })),
    maxSteps: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: 'the most steps run, 1 to 100 (default 12)' })),
  },
  'the capacity search: {start, factor or increment, hold, maxRate, maxSteps}',
);

export interface CapacityPlan {
  start: number;
  /** exactly one of factor and increment */
  factor: number | undefined;
  increment: number | undefined;
  holdMs: number;
  maxRate: number;
  maxSteps: number;
}

export const DEFAULT_HOLD_MS = 60_000;
export const DEFAULT_FACTOR = 1.5;
export const DEFAULT_MAX_STEPS = 12;

/** The profile's `capacity:` section, compiled; what it leaves out is filled in by defaultPlan. */
export type CapacitySettings = Partial<CapacityPlan>;

export function compileCapacity(raw: Static<typeof CapacitySchema>, compiler: ProfileCompiler): CapacitySettings {
  if (raw.factor !== undefined && raw.increment !== undefined) compiler.add(['capacity'], 'has both factor and increment', 'keep one: factor: 1.5 multiplies each step, increment: 10 adds to it');
  const out: CapacitySettings = {};
  if (raw.start !== undefined) out.start = raw.start;
  if (raw.factor !== undefined) out.factor = raw.factor;
  if (raw.increment !== undefined) out.increment = raw.increment;
  if (raw.hold !== undefined) out.holdMs = compiler.duration(raw.hold, ['capacity', 'hold'], 'the hold time', true);
  if (raw.maxRate !== undefined) out.maxRate = raw.maxRate;
  if (raw.maxSteps !== undefined) out.maxSteps = raw.maxSteps;
  if (out.start !== undefined && out.maxRate !== undefined && out.maxRate < out.start) compiler.add(['capacity', 'maxRate'], `is ${out.maxRate}, below start (${out.start})`, `make it at least ${out.start}`);
  return out;
}

/** The plan: flags over the profile's section over the defaults. */
export function capacityPlan(profile: Pick<Profile, 'phases' | 'capacity'>, flags: CapacitySettings): CapacityPlan {
  const fromProfile = profile.capacity ?? {};
  const peak = Math.max(...profile.phases.map((p) => Math.max(p.rate, p.rampTo)));
  const pick = <K extends keyof CapacityPlan>(k: K): CapacityPlan[K] | undefined => (flags[k] !== undefined ? flags[k] : fromProfile[k]);
  // A flag's factor replaces the profile's increment and the other way round.
  const stepFromFlags = flags.factor !== undefined || flags.increment !== undefined;
  const factor = stepFromFlags ? flags.factor : fromProfile.factor;
  const increment = stepFromFlags ? flags.increment : fromProfile.increment;
  return {
    start: pick('start') ?? Math.max(1, Math.round(peak / 2)),
    factor: increment === undefined ? (factor ?? DEFAULT_FACTOR) : undefined,
    increment,
    holdMs: pick('holdMs') ?? DEFAULT_HOLD_MS,
    maxRate: pick('maxRate') ?? Infinity,
    maxSteps: pick('maxSteps') ?? DEFAULT_MAX_STEPS,
  };
}

/** The rates the plan tries, in order (the last one is clamped to maxRate). */
export function stepRates(plan: CapacityPlan): number[] {
  const rates: number[] = [];
  let rate = Math.min(plan.start, plan.maxRate);
  while (rates.length < plan.maxSteps) {
    rates.push(rate);
    if (rate >= plan.maxRate) break;
    const next = plan.increment !== undefined ? rate + plan.increment : rate * plan.factor!;
    rate = Math.min(plan.maxRate, Math.round(next * 10) / 10);
  }
  return rates;
}

// --- one step -------------------------------------------------------------------------------------

export interface Bottleneck {
  service: string;
  /** why it is the limit, in words and numbers */
  reason: string;
}

export interface StepSummary {
  index: number;
  rate: number;
  passed: boolean;
  /** journeys started per second, and requests answered per second */
  achievedRate: number;
  requestsPerSecond: number;
  p50Ms: number | undefined;
  p95Ms: number | undefined;
  p99Ms: number | undefined;
  errorRate: number;
  aborted: string | undefined;
  verdicts: Verdict[];
  /** per service: the most instances in service during the step, its maximum, its highest CPU */
  fleet: Record<string, { inService: number; max: number; cpu: number | undefined }>;
  /** where the step's result.json and report.html are */
  dir: string | undefined;
}

/** The figures of one step from its run's result. */
export function summarizeStep(index: number, rate: number, result: RunResult, dir?: string): StepSummary {
  const secs = result.recording.seconds;
  const runS = Math.max(1, result.profile.durationMs / 1000);
  const started = result.phases.reduce((a, p) => a + p.started, 0);
  const requests = secs.reduce((a, s) => a + s.requests, 0);
  const errors = secs.reduce((a, s) => a + s.errors, 0);
  const lat = result.recording.latency ? summarize(decode(result.recording.latency)) : undefined;
  const fleet: StepSummary['fleet'] = {};
  for (const sample of result.fleet.samples) {
    for (const [name, f] of Object.entries(sample.services)) {
      const seen = (fleet[name] ??= { inService: 0, max: f.max, cpu: undefined });
      seen.inService = Math.max(seen.inService, f.inService);
      seen.max = f.max;
      if (f.cpu !== undefined) seen.cpu = Math.max(seen.cpu ?? 0, f.cpu);
    }
  }
  return {
    index,
    rate,
    passed: result.passed,
    achievedRate: started / runS,
    requestsPerSecond: requests / runS,
    p50Ms: lat?.count ? lat.p50 : undefined,
    p95Ms: lat?.count ? lat.p95 : undefined,
    p99Ms: lat?.count ? lat.p99 : undefined,
    errorRate: requests ? errors / requests : 0,
    aborted: result.aborted?.reason,
    verdicts: result.verdicts,
    fleet,
    dir,
  };
}

/** `/api/orders/…` → orders: the service a path prefix names (as the gateway routes it). */
export function serviceOfEndpoint(endpoint: string): string | undefined {
  return /^[A-Z]+ \/api\/([a-z][\w-]*)/.exec(endpoint)?.[1];
}

/** The endpoint a threshold names, if any. */
export function endpointOf(t: Threshold | undefined): string | undefined {
  if (!t) return undefined;
  if ('scope' in t) return t.scope.endpoint;
  if ('endpoint' in t) return t.endpoint;
  return undefined;
}

/**
 * The service that was the limit in a failed step: the one whose instances ran hottest (CPU, from
 * the probe) — at its maximum size if any was — else the service of the endpoint with the most
 * errors, else the service of the endpoint the first failed threshold names.
 */
export function findBottleneck(result: RunResult, step: StepSummary): Bottleneck | undefined {
  const hot = Object.entries(step.fleet)
    .filter(([, f]) => f.cpu !== undefined)
    .sort((a, b) => b[1].cpu! - a[1].cpu!);
  if (hot.length) {
    const [service, f] = hot[0]!;
    return { service, reason: `CPU ${f.cpu!.toFixed(0)}% of a core per instance, ${f.inService} of at most ${f.max} instances in service${f.inService >= f.max ? ' (at its maximum)' : ''}` };
  }
  const erring = Object.entries(result.recording.endpoints)
    .filter(([, e]) => e.errors > 0)
    .sort((a, b) => b[1].errors - a[1].errors);
  for (const [endpoint, e] of erring) {
    const service = serviceOfEndpoint(endpoint);
    if (!service) continue;
    const statuses = Object.entries(e.statuses).filter(([k]) => !/^[23]\d\d$/.test(k)).sort((a, b) => b[1] - a[1]).slice(0, 3).map(([k, n]) => `${k}×${n}`).join(' ');
    return { service, reason: `the most errors: ${e.errors} of ${e.requests} requests of ${endpoint} failed (${statuses})` };
  }
  const firstFailed = result.verdicts.find((v) => !v.ok);
  const endpoint = endpointOf(result.profile.thresholds.find((t) => t.path === firstFailed?.path));
  const service = endpoint ? serviceOfEndpoint(endpoint) : undefined;
  if (service) return { service, reason: `its endpoint ${endpoint} failed ${firstFailed!.label} (${firstFailed!.measured}); the probe gave no CPU figures` };
  return undefined;
}

// --- the search -----------------------------------------------------------------------------------

export interface BrokeAt {
  rate: number;
  /** the failed verdicts of the first failing step, with the endpoint each names */
  failed: Array<Verdict & { endpoint: string | undefined }>;
  bottleneck: Bottleneck | undefined;
}

export interface CapacityOutcome {
  plan: CapacityPlan;
  steps: StepSummary[];
  /** the highest rate whose step held every threshold; undefined when the first step failed */
  highestHeld: number | undefined;
  brokeAt: BrokeAt | undefined;
  stoppedBecause: 'a threshold failed' | 'maxRate reached' | 'maxSteps reached';
}

/** Runs one step: the profile's journeys at `rate` for the plan's hold time. */
export type StepRunner = (rate: number, index: number) => Promise<{ result: RunResult; dir?: string }>;

/** Runs the steps in order and stops at the first whose thresholds fail. */
export async function searchCapacity(plan: CapacityPlan, runStep: StepRunner, onStep: (s: StepSummary, rates: number[]) => void = () => undefined): Promise<CapacityOutcome> {
  const rates = stepRates(plan);
  const steps: StepSummary[] = [];
  for (let i = 0; i < rates.length; i++) {
    const rate = rates[i]!;
    const { result, dir } = await runStep(rate, i);
    const step = summarizeStep(i, rate, result, dir);
    steps.push(step);
    onStep(step, rates);
    if (!step.passed) {
      const failed = step.verdicts.filter((v) => !v.ok).map((v) => ({ ...v, endpoint: endpointOf(result.profile.thresholds.find((t) => t.path === v.path)) }));
      const held = steps.filter((s) => s.passed).at(-1)?.rate;
      return { plan, steps, highestHeld: held, brokeAt: { rate, failed, bottleneck: findBottleneck(result, step) }, stoppedBecause: 'a threshold failed' };
    }
  }
  const last = steps.at(-1)!;
  return { plan, steps, highestHeld: last.rate, brokeAt: undefined, stoppedBecause: last.rate >= plan.maxRate ? 'maxRate reached' : 'maxSteps reached' };
}

/** One line per step for the live view. */
export function formatStep(s: StepSummary, total: number): string {
  const lat = s.p99Ms === undefined ? '–' : formatMs(s.p99Ms);
  const fleet = Object.entries(s.fleet).map(([n, f]) => `${n} ${f.inService}/${f.max}${f.cpu === undefined ? '' : ` ${f.cpu.toFixed(0)}%`}`).join(' ');
  const failed = s.verdicts.filter((v) => !v.ok).map((v) => `${v.label}: ${v.measured}`);
  return `step ${s.index + 1}/${total} at ${s.rate} journeys/s: ${s.passed ? 'held' : 'FAILED'} (achieved ${s.achievedRate.toFixed(1)}/s, ${s.requestsPerSecond.toFixed(0)} req/s, p99 ${lat}, errors ${(s.errorRate * 100).toFixed(2)}%${fleet ? `, ${fleet}` : ''})${failed.length ? `\n  ✗ ${failed.join('\n  ✗ ')}` : ''}`;
}
