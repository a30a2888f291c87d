// Thresholds: the verdict of a run. Each threshold of the profile is judged by its kind on the
// recorded histograms and counts (after the run, or on a merge of shards), and those marked
// abortOnFail are also judged every second during the run once their grace period is over.
import { generatorVerdicts } from '../generators/summary.js';
import type { Snapshot } from '../recorder.js';
import type { RunResult, Verdict } from '../result.js';
import { thresholdKind, type Threshold } from './registry.js';

export { THRESHOLD_KINDS, METRICS, kindOfMetric, thresholdKind, type Threshold } from './registry.js';
export type { Scope } from './scope.js';

/** Judges the abortOnFail thresholds on what has been recorded so far; the first failure, if any. */
export function checkAbort(thresholds: Threshold[], live: Snapshot, elapsedMs: number): Verdict | undefined {
  for (const t of thresholds) {
    const failing = thresholdKind(t.kind).live?.(t, live, elapsedMs);
    if (failing) return failing;
  }
  return undefined;
}

export function evaluate(result: RunResult): Verdict[] {
  const verdicts = result.profile.thresholds.map((t) => thresholdKind(t.kind).judge(t, result));
  if (result.aborted) {
    verdicts.push({ path: 'abortOnFail', label: 'the run ran to the end', kind: 'latency', ok: false, measured: `aborted at ${result.aborted.atS.toFixed(0)} s: ${result.aborted.reason}` });
  }
  for (const s of result.setup) {
    if (s.failed) verdicts.push({ path: 'setup', label: `setup ${s.journey} for each ${s.each}`, kind: 'errorRate', ok: false, measured: `${s.failed} of ${s.runs} failed` });
  }
  verdicts.push(...generatorVerdicts(result));
  return verdicts;
}
