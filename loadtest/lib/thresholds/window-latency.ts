// Sliding-window latency thresholds: `{metric: windowP95, max: 800ms, window: 60s, endpoint}` —
// the percentile of the requests (all, or one endpoint's) that ended in any `window` of the run
// is at most `max`. Judged exactly on the per-second HDR histograms summed over each window;
// abortOnFail judges the last whole window every second during the run.
import { Type } from '@sinclair/typebox';
import type { Histogram } from 'hdr-histogram-js';
import { Latency, Obj } from '../profile/shapes.js';
import type { SecondRecord } from '../recorder.js';
import type { Verdict } from '../result.js';
import { formatMs, parseLatency } from '../units.js';
import { defineThreshold, type ThresholdBase, type ThresholdKind } from './kind.js';
import { AbortProps, compileAbort, compileScope } from './scope.js';
import { compileWindow, lastWindow, slide, windowAt, WindowProps } from './windows.js';

const PERCENTILE = { windowP50: 50, windowP95: 95, windowP99: 99, windowMax: 100 } as const;
export type WindowLatencyMetric = keyof typeof PERCENTILE;
const METRICS = Object.keys(PERCENTILE) as WindowLatencyMetric[];

export interface WindowLatencyThreshold extends ThresholdBase {
  kind: 'windowLatency';
  metric: WindowLatencyMetric;
  maxMs: number;
  windowS: number;
  endpoint: string | undefined;
  abortOnFail: boolean;
  graceMs: number;
}

const name = (m: WindowLatencyMetric): string => (m === 'windowMax' ? 'max' : m.slice(6).toLowerCase());

function valueOf(h: Histogram | undefined, metric: WindowLatencyMetric): number | undefined {
  if (!h || h.totalCount === 0) return undefined;
  return (metric === 'windowMax' ? h.maxValue : h.getValueAtPercentile(PERCENTILE[metric])) / 1000;
}

function judgeSeconds(t: WindowLatencyThreshold, seconds: readonly SecondRecord[]): Verdict {
  const base = { path: t.path, label: t.label, kind: t.kind };
  let first: { at: string; v: number } | undefined;
  let worst: { at: string; v: number; n: number } | undefined;
  let windows = 0;
  slide(seconds, t.windowS, t.endpoint, true, (w) => {
    const v = valueOf(w.latency, t.metric);
    if (v === undefined) return;
    windows++;
    if (!worst || v > worst.v) worst = { at: windowAt(w), v, n: w.latency!.totalCount };
    if (v > t.maxMs && !first) first = { at: windowAt(w), v };
  });
  const what = `${name(t.metric)} over ${t.windowS} s`;
  if (!worst) return { ...base, ok: false, measured: `no responses recorded${t.endpoint ? ` for ${t.endpoint}` : ''}` };
  const w: { at: string; v: number; n: number } = worst;
  if (!first) return { ...base, ok: true, measured: `worst ${what}: ${formatMs(w.v)} in ${w.at} (${w.n} requests; ${windows} windows)` };
  const f: { at: string; v: number } = first;
  return { ...base, ok: false, measured: `${what} first above ${formatMs(t.maxMs)} in ${f.at} (${formatMs(f.v)}); worst ${formatMs(w.v)} in ${w.at}` };
}

export const windowLatency: ThresholdKind<WindowLatencyThreshold> = defineThreshold({
  metrics: METRICS,
  schema: Obj(
    { metric: Type.Union(METRICS.map((m) => Type.Literal(m))), max: Latency('the highest acceptable value in any window'), ...WindowProps, ...AbortProps },
    'a sliding-window latency threshold: {metric: windowP95, max, window, endpoint, abortOnFail, grace}',
  ),
  compile(t, site): WindowLatencyThreshold {
    const abort = compileAbort(t, site);
    const maxMs = parseLatency(t.max);
    if (maxMs === undefined) site.compiler.add([...site.at, 'max'], `${JSON.stringify(t.max)} is not a latency`, 'write it as 250ms or 1.5s (a bare number is milliseconds)');
    const windowS = compileWindow(t.window, site);
    const { endpoint } = compileScope({ ...(t.endpoint !== undefined ? { endpoint: t.endpoint } : {}) }, site);
    return {
      kind: 'windowLatency',
      path: site.path,
      metric: t.metric,
      maxMs: maxMs ?? 0,
      windowS,
      endpoint,
      ...abort,
      label: `${name(t.metric)}${endpoint ? ` of ${endpoint}` : ''} ≤ ${formatMs(maxMs ?? 0)} in every ${windowS} s window`,
    };
  },
  judge: (t, result) => judgeSeconds(t, result.recording.seconds),
  live(t, now, elapsedMs) {
    if (!t.abortOnFail || elapsedMs < t.graceMs) return undefined;
    const w = lastWindow(now.closedSeconds(), t.windowS, t.endpoint, true);
    const v = valueOf(w?.latency, t.metric);
    if (v === undefined || v <= t.maxMs) return undefined;
    return { path: t.path, label: t.label, kind: t.kind, ok: false, measured: `${name(t.metric)} ${formatMs(v)} over ${w!.latency!.totalCount} requests in ${windowAt(w!)}` };
  },
});
