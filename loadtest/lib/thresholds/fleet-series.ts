// What the scaling thresholds read from the probe's samples: one service's in-service count
// (and its minimum) over the run.
import type { FleetSample } from '../probes/probe.js';

export function inServiceSeries(samples: FleetSample[], service: string): Array<{ t: number; n: number; min: number }> {
  return samples.filter((s) => s.services[service]).map((s) => ({ t: s.t, n: s.services[service]!.inService, min: s.services[service]!.min }));
}

export const NO_PROBE = 'no scaling probe for this target (use --target local or an aws inventory)';
