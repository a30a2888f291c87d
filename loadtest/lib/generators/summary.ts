// Which generator saw what: each generator's share of the schedule, what it started, its requests
// and errors, and whether it kept up. A generator that failed, or started fewer than 95% of the
// journeys its share scheduled, is named in the verdict: the load was not what the profile asked,
// so the run cannot pass.
import type { RunResult, Verdict } from '../result.js';

/** A generator may fall this far behind its schedule before the run fails. */
export const BEHIND_LIMIT = 0.05;

export interface GeneratorSummary {
  /** its shard, i/n */
  shard: string;
  /** where it ran: host and pid, or the task */
  where: string;
  state: 'ok' | 'behind' | 'failed';
  /** why it failed, when it did */
  error: string | undefined;
  scheduled: number;
  started: number;
  dropped: number;
  requests: number;
  errors: number;
  /** requests per second over the profile's duration */
  requestRate: number;
}

/** The summary of one generator from its own result, or of one that left no result. */
export function summarizeGenerator(shard: string, where: string, result: RunResult | undefined, error?: string): GeneratorSummary {
  if (!result) return { shard, where, state: 'failed', error: error ?? 'it left no result', scheduled: 0, started: 0, dropped: 0, requests: 0, errors: 0, requestRate: 0 };
  const scheduled = result.phases.reduce((a, p) => a + p.scheduled, 0);
  const started = result.phases.reduce((a, p) => a + p.started, 0);
  const dropped = result.phases.reduce((a, p) => a + p.dropped, 0);
  const requests = result.recording.seconds.reduce((a, s) => a + s.requests, 0);
  const errors = result.recording.seconds.reduce((a, s) => a + s.errors, 0);
  const behind = scheduled > 0 && started < scheduled * (1 - BEHIND_LIMIT);
  return {
    shard,
    where,
    state: error ? 'failed' : behind ? 'behind' : 'ok',
    error,
    scheduled,
    started,
    dropped,
    requests,
    errors,
    requestRate: requests / Math.max(1, result.profile.durationMs / 1000),
  };
}

export function generatorVerdicts(result: RunResult): Verdict[] {
  const gens = result.generators ?? [];
  if (!gens.length) return [];
  const bad = gens.filter((g) => g.state !== 'ok');
  const describe = (g: GeneratorSummary): string =>
    g.state === 'failed'
      ? `generator ${g.shard} (${g.where}) failed: ${g.error ?? 'no result'}`
      : `generator ${g.shard} (${g.where}) fell behind: started ${g.started} of ${g.scheduled} journeys (${((g.started / g.scheduled) * 100).toFixed(1)}%${g.dropped ? `, ${g.dropped} dropped` : ''})`;
  return [
    {
      path: 'generators',
      label: `every generator sent its share of the load (within ${BEHIND_LIMIT * 100}% of its schedule)`,
      kind: 'achievedRate',
      ok: bad.length === 0,
      measured: bad.length ? bad.map(describe).join('; ') : `${gens.length} generators, ${gens.map((g) => `${g.shard} ${g.started}/${g.scheduled}`).join(', ')}`,
    },
  ];
}
