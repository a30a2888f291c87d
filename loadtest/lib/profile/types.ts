// The compiled profile: what traffic to send (phases), as whom (feeders), doing what (journeys
// of steps) and what counts as a pass (thresholds). The runner, the report and the verdict read
// these types; the YAML shape is schema.ts, the compilation load.ts.
import type { FeederSpec } from '../feeders/index.js';
import type { CapacitySettings } from '../capacity.js';
import type { SessionsSpec } from '../sessions.js';
import type { Step } from '../steps/request.js';
import type { OversellCheck } from '../thresholds/oversell.js';
import type { Threshold } from '../thresholds/registry.js';

export type { Capture, Step } from '../steps/request.js';
export type { OversellCheck } from '../thresholds/oversell.js';
export type { Threshold } from '../thresholds/registry.js';
export type { Scope } from '../thresholds/scope.js';

export interface Phase {
  name: string;
  startMs: number;
  durationMs: number;
  /** Journeys started per second at the start of the phase. */
  rate: number;
  /** … and at its end (equal to rate when the phase does not ramp). */
  rampTo: number;
}

export interface Journey {
  name: string;
  weight: number;
  steps: Step[];
}

export interface SetupTask {
  journey: string;
  /** The users feeder whose every row runs the journey once. */
  each: string;
  rate: number;
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
  /** accounts that stay signed in across journeys (`sessions:`) */
  sessions: SessionsSpec | undefined;
  /** the capacity search's plan as the profile writes it (`capacity:`); flags override it */
  capacity: CapacitySettings | undefined;
}

/** Variables every step can use besides feeders and captures. */
export const BUILTINS = ['uuid', 'n', 'run', 'shard'];
