// One live status line for several generators: rates, counts and queues add; the p99 of the last
// second comes from the generators' last-second histograms added together (never an average of
// their p99s); the phase is the one the furthest generator is in.
import type { Status } from '../progress.js';
import { decode, newHistogram } from '../recorder.js';

export function aggregateStatus(parts: Array<Status | undefined>, running: number): Status | undefined {
  const present = parts.filter((s): s is Status => !!s);
  if (!present.length) return undefined;
  const lead = present.reduce((a, s) => (s.elapsedS > a.elapsedS ? s : a));
  const sum = (f: (s: Status) => number): number => present.reduce((a, s) => a + f(s), 0);
  const h = newHistogram();
  for (const s of present) if (s.latency) h.add(decode(s.latency));
  return {
    phase: lead.phase,
    phaseIndex: lead.phaseIndex,
    phases: lead.phases,
    elapsedS: lead.elapsedS,
    totalS: lead.totalS,
    scheduledRate: sum((s) => s.scheduledRate),
    achievedRate: sum((s) => s.achievedRate),
    requestsRate: sum((s) => s.requestsRate),
    p99Ms: h.totalCount ? h.getValueAtPercentile(99) / 1000 : undefined,
    errors: sum((s) => s.errors),
    requests: sum((s) => s.requests),
    inFlight: sum((s) => s.inFlight),
    queued: sum((s) => s.queued),
    dropped: sum((s) => s.dropped),
    fleet: present.find((s) => s.fleet)?.fleet,
    generators: { running, count: parts.length },
  };
}
