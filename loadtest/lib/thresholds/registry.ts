// Every threshold kind, registered by the name a verdict carries. A new kind is a file beside
// this one (its type, schema, compilation and verdict) and one line here; the profile's
// `metric:` choices, the loader and the verdict all read this list.
import type { ThresholdKind } from './kind.js';
import { achievedRate } from './achieved-rate.js';
import { errorRate } from './error-rate.js';
import { latency } from './latency.js';
import { oversell } from './oversell.js';
import { scaleIn } from './scale-in.js';
import { scaleOut } from './scale-out.js';
import { windowErrors } from './window-errors.js';
import { windowLatency } from './window-latency.js';

export const THRESHOLD_KINDS = { latency, errorRate, achievedRate, oversell, scaleOut, scaleIn, windowLatency, windowErrors };

type Registered = typeof THRESHOLD_KINDS;
/** A compiled threshold, of any registered kind. */
export type Threshold = { [K in keyof Registered]: Registered[K] extends ThresholdKind<infer T> ? T : never }[keyof Registered];
type ByKind = { [K in Threshold['kind']]: Extract<Threshold, { kind: K }> };

// Typed by kind name, which also checks that each kind is registered under its own name.
const KINDS: { [K in keyof ByKind]: ThresholdKind<ByKind[K]> } = THRESHOLD_KINDS;

export function thresholdKind<K extends keyof ByKind>(kind: K): ThresholdKind<ByKind[K]> {
  return KINDS[kind];
}

/** Every `metric:` a profile may name, in registration order. */
export const METRICS: readonly string[] = Object.values(KINDS).flatMap((k) => k.metrics);

/** The kind a `metric:` selects. */
export function kindOfMetric(metric: string): ThresholdKind<Threshold> | undefined {
  return Object.values(KINDS).find((k) => k.metrics.includes(metric));
}
