// The sale day's capacity arithmetic: what a load profile's peak needs per service (requests per
// minute, loadtest/lib/profile/peak.ts) against what the fleet can reach, requestsPerTarget × max
// (target tracking holds each instance near requestsPerTarget requests a minute).
import { SHOP_SERVICES, settingsOf, type Environment, type ServiceCatalogue } from '../../../environment/index.js';
import { reporter, type CheckReport } from './finding.js';

/** What a profile sends at its peak, per service. */
export interface PeakDemand {
  profile: string;
  phase: string;
  journeysPerSecond: number;
  /** Requests per minute at the peak, by service name. */
  requestsPerMinute: Record<string, number>;
}

export function checkCapacity(inv: Environment, peak: PeakDemand | undefined, services: ServiceCatalogue = SHOP_SERVICES): CheckReport {
  const r = reporter('capacity');
  if (!peak) {
    r.summary('no --profile: the fleet is not compared with a load profile\'s peak');
    return r.report;
  }
  r.summary(`profile ${peak.profile}: peak ${peak.journeysPerSecond} journeys/s in ${peak.phase}`);
  for (const { name } of services) {
    const s = settingsOf(inv, name).scaling;
    const need = Math.ceil(peak.requestsPerMinute[name] ?? 0);
    const reach = s.requestsPerTarget * s.max;
    const instances = Math.ceil(need / s.requestsPerTarget);
    r.summary(`${name}: peak ${need} req/min needs ${instances} × ${s.requestsPerTarget}; the fleet reaches ${s.max} × ${s.requestsPerTarget} = ${reach} req/min`);
    if (need > reach) {
      r.error(
        `services.${name}.scaling.max`,
        `${peak.profile}'s peak sends ${need} requests/min to ${name}; ${s.max} instances at requestsPerTarget ${s.requestsPerTarget} reach ${reach} (${instances} instances needed)`,
        `raise services.${name}.scaling.max to at least ${instances}, or requestsPerTarget to at least ${Math.ceil(need / s.max)} if one instance can serve that (measure it with the loadtest)`,
      );
    }
  }
  return r.report;
}
