// Scaling sanity: each group's min ≤ desired ≤ max and its On-Demand base within max; every
// pre-warm within the group's max; sale events that end after they start and do not pre-warm a
// service at overlapping times (their scheduled actions would fight); past events as warnings
// (Auto Scaling refuses scheduled actions in the past). The clock is the caller's.
import {
  DEFAULT_LEAD_MINUTES, prewarmOf, saleEventPhase, SHOP_SERVICES, settingsOf, type Environment, type ServiceCatalogue,
} from '../../../environment/index.js';
import { reporter, type CheckReport } from './finding.js';

export function checkScaling(inv: Environment, now: Date, services: ServiceCatalogue = SHOP_SERVICES): CheckReport {
  const r = reporter('scaling');
  for (const { name } of services) {
    const s = settingsOf(inv, name);
    const { min, max, desired } = s.scaling;
    const at = `services.${name}`;
    if (min > max) {
      r.error(`${at}.scaling.min`, `min ${min} is above max ${max}`, `lower scaling.min to at most ${max} or raise scaling.max to at least ${min}`);
    } else if (desired < min || desired > max) {
      r.error(`${at}.scaling.desired`, `desired ${desired} is outside min..max (${min}..${max})`, `set scaling.desired between ${min} and ${max}`);
    }
    if (s.spot && s.spot.onDemandBase > max) {
      r.error(`${at}.spot.onDemandBase`, `onDemandBase ${s.spot.onDemandBase} is above max ${max}`, `lower spot.onDemandBase to at most ${max}`);
    }
  }

  const windows: Array<{ from: number; to: number; index: number; services: string[] }> = [];
  inv.saleEvents.forEach((event, i) => {
    const at = `saleEvents[${i}]`;
    const start = Date.parse(event.start);
    const end = Date.parse(event.end);
    if (end <= start) r.error(`${at}.end`, `${event.name} ends (${event.end}) before it starts (${event.start})`, `set end to a time after ${event.start}`);
    const lead = event.leadMinutes ?? DEFAULT_LEAD_MINUTES;
    const from = start - lead * 60_000;
    const prewarmed = Object.keys(event.prewarm);
    for (const w of windows) {
      const shared = prewarmed.filter((s) => w.services.includes(s));
      if (shared.length > 0 && from < w.to && w.from < end) {
        const other = inv.saleEvents[w.index]!;
        r.error(
          `${at}.start`,
          `${event.name} (pre-warm from ${new Date(from).toISOString()}, ${lead} min lead, to ${event.end}) overlaps saleEvents[${w.index}] ${other.name} (to ${other.end}) for ${shared.join(', ')}: their scheduled actions would fight`,
          `merge the two events, or move ${event.name}'s start (minus its lead) after ${other.end}`,
        );
      }
    }
    windows.push({ from, to: end, index: i, services: prewarmed });
    for (const service of prewarmed) {
      const p = prewarmOf(event, service)!;
      const max = settingsOf(inv, service).scaling.max;
      if (p.min > p.desired) r.error(`${at}.prewarm.${service}.min`, `pre-warm min ${p.min} is above its desired ${p.desired}`, `lower prewarm.${service}.min to at most ${p.desired}`);
      if (p.desired > max) {
        r.error(`${at}.prewarm.${service}.desired`, `${event.name} pre-warms ${service} to ${p.desired}, above services.${service}.scaling.max ${max}`, `raise services.${service}.scaling.max to at least ${p.desired} or lower the pre-warm to ${max}`);
      }
    }
  });
  // The renderers place events against the run's time (over: left out; under way: only what can still happen).
  inv.saleEvents.forEach((e, i) => {
    const phase = saleEventPhase(e, now);
    if (phase === 'over') r.warning(`saleEvents[${i}]`, `${e.name} ended at ${e.end} (now ${now.toISOString()}): left out of the templates`, `remove ${e.name} from saleEvents`);
    else if (phase === 'under-way') r.warning(`saleEvents[${i}]`, `${e.name} is under way until ${e.end} (now ${now.toISOString()}): its floor is raised now and lowered at the end; the pre-warm action is left out`, `deploy after ${e.end}, or name it with -e during-sale=${e.name} to deploy during it`);
  });
  r.summary(`${services.length} groups, ${inv.saleEvents.length} sale events`);
  return r.report;
}
