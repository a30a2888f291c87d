// Latency thresholds: `{metric: p99, max: 800ms}` over all requests, one endpoint or one journey
// (whole-journey durations), judged on the HDR histograms; abortOnFail judges them live.
import { Type } from '@sinclair/typebox';
import type { Histogram } from 'hdr-histogram-js';
import { Latency, Obj } from '../profile/shapes.js';
import { decode } from '../recorder.js';
import type { Verdict } from '../result.js';
import { formatMs, parseLatency } from '../units.js';
import { defineThreshold, type ThresholdBase, type ThresholdKind } from './kind.js';
import { AbortProps, compileAbort, compileScope, scopeLabel, scopeName, ScopeProps, type Scope } from './scope.js';

const PERCENTILE = { p50: 50, p95: 95, p99: 99, max: 100 } as const;
export type LatencyMetric = keyof typeof PERCENTILE;
const METRICS = Object.keys(PERCENTILE) as LatencyMetric[];

export interface LatencyThreshold extends ThresholdBase {
  kind: 'latency';
  metric: LatencyMetric;
  maxMs: number;
  scope: Scope;
  abortOnFail: boolean;
  graceMs: number;
}

function latencyOf(h: Histogram | undefined, metric: LatencyMetric): number | undefined {
  if (!h || h.totalCount === 0) return undefined;
  return (metric === 'max' ? h.maxValue : h.getValueAtPercentile(PERCENTILE[metric])) / 1000;
}

function judgeLatency(t: LatencyThreshold, h: Histogram | undefined): Verdict {
  const v = latencyOf(h, t.metric);
  if (v === undefined) return { path: t.path, label: t.label, kind: t.kind, ok: false, measured: `no responses recorded for ${scopeName(t.scope)}` };
  return { path: t.path, label: t.label, kind: t.kind, ok: v <= t.maxMs, measured: `${t.metric} ${formatMs(v)} over ${h!.totalCount} ${t.scope.journey ? 'journeys' : 'requests'}` };
}

export const latency: ThresholdKind<LatencyThreshold> = defineThreshold({
  metrics: METRICS,
  schema: Obj(
    { metric: Type.Union(METRICS.map((m) => Type.Literal(m))), max: Latency('the highest acceptable value'), ...ScopeProps, ...AbortProps },
    'a latency threshold: {metric, max, endpoint or journey, abortOnFail, grace}',
  ),
  compile(t, site): LatencyThreshold {
    const abort = compileAbort(t, site);
    const maxMs = parseLatency(t.max);
    if (maxMs === undefined) site.compiler.add([...site.at, 'max'], `${JSON.stringify(t.max)} is not a latency`, 'write it as 250ms or 1.5s (a bare number is milliseconds)');
    const scope = compileScope(t, site);
    return { kind: 'latency', path: site.path, metric: t.metric, maxMs: maxMs ?? 0, scope, ...abort, label: `${t.metric}${scopeLabel(scope)} ≤ ${formatMs(maxMs ?? 0)}` };
  },
  judge(t, result) {
    const rec = result.recording;
    const encoded = t.scope.endpoint ? rec.endpoints[t.scope.endpoint]?.latency : t.scope.journey ? rec.journeys[t.scope.journey]?.duration : rec.latency;
    return judgeLatency(t, encoded ? decode(encoded) : undefined);
  },
  live(t, now, elapsedMs) {
    if (!t.abortOnFail || elapsedMs < t.graceMs) return undefined;
    const h = now.latency(t.scope);
    if (!h || h.totalCount === 0) return undefined;
    const v = judgeLatency(t, h);
    return v.ok ? undefined : v;
  },
});
