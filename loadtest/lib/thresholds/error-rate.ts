// Error-rate thresholds: `{metric: errorRate, max: 1%}` of requests (all, or one endpoint's) or
// of journeys (one journey's runs that failed); abortOnFail judges them live.
import { Type } from '@sinclair/typebox';
import { Obj, Ratio } from '../profile/shapes.js';
import type { Verdict } from '../result.js';
import { formatPercent } from '../units.js';
import { defineThreshold, type ThresholdBase, type ThresholdKind } from './kind.js';
import { AbortProps, compileAbort, compileScope, scopeLabel, scopeName, ScopeProps, type Scope } from './scope.js';

export interface ErrorRateThreshold extends ThresholdBase {
  kind: 'errorRate';
  max: number;
  scope: Scope;
  abortOnFail: boolean;
  graceMs: number;
}

function judgeErrors(t: ErrorRateThreshold, errors: number, total: number): Verdict {
  const rate = total ? errors / total : 0;
  const what = t.scope.journey ? 'journeys failed' : 'requests failed';
  return { path: t.path, label: t.label, kind: t.kind, ok: total > 0 && rate <= t.max, measured: total ? `${formatPercent(rate)} (${errors} of ${total} ${what})` : `nothing recorded for ${scopeName(t.scope)}` };
}

export const errorRate: ThresholdKind<ErrorRateThreshold> = defineThreshold({
  metrics: ['errorRate'],
  schema: Obj(
    { metric: Type.Literal('errorRate'), max: Ratio('the highest acceptable error rate'), ...ScopeProps, ...AbortProps },
    'an error-rate threshold: {metric, max, endpoint or journey, abortOnFail, grace}',
  ),
  compile(t, site): ErrorRateThreshold {
    const abort = compileAbort(t, site);
    const max = site.compiler.ratio(t.max, [...site.at, 'max']);
    const scope = compileScope(t, site);
    return { kind: 'errorRate', path: site.path, max, scope, ...abort, label: `error rate${scopeLabel(scope)} ≤ ${formatPercent(max)}` };
  },
  judge(t, result) {
    const rec = result.recording;
    if (t.scope.endpoint) {
      const e = rec.endpoints[t.scope.endpoint];
      return judgeErrors(t, e?.errors ?? 0, e?.requests ?? 0);
    }
    if (t.scope.journey) {
      const j = rec.journeys[t.scope.journey];
      return judgeErrors(t, j?.failed ?? 0, (j?.completed ?? 0) + (j?.failed ?? 0));
    }
    const all = Object.values(rec.endpoints);
    return judgeErrors(t, all.reduce((a, e) => a + e.errors, 0), all.reduce((a, e) => a + e.requests, 0));
  },
  live(t, now, elapsedMs) {
    if (!t.abortOnFail || elapsedMs < t.graceMs) return undefined;
    const rate = now.errorRate(t.scope);
    return rate > t.max ? { path: t.path, label: t.label, kind: t.kind, ok: false, measured: formatPercent(rate) } : undefined;
  },
});
