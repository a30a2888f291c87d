// Sliding-window error thresholds: `{metric: windowErrorRate, max: 5%, window: 30s}` (failed ÷
// requests) or `{metric: windowErrors, max: 20, window: 30s}` (a count) over any window of the
// run, for all requests or one endpoint. A rate is judged only in windows with at least
// `minRequests` requests (default 1), so one failure in a quiet second is not 100%. abortOnFail
// judges the last whole window every second during the run.
import { Type } from '@sinclair/typebox';
import { Obj } from '../profile/shapes.js';
import type { SecondRecord } from '../recorder.js';
import type { Verdict } from '../result.js';
import { formatPercent } from '../units.js';
import { defineThreshold, type ThresholdBase, type ThresholdKind } from './kind.js';
import { AbortProps, compileAbort, compileScope } from './scope.js';
import { compileWindow, lastWindow, slide, windowAt, WindowProps, type WindowFigures } from './windows.js';

export interface WindowErrorsThreshold extends ThresholdBase {
  kind: 'windowErrors';
  metric: 'windowErrorRate' | 'windowErrors';
  /** a ratio for windowErrorRate, a count for windowErrors */
  max: number;
  minRequests: number;
  windowS: number;
  endpoint: string | undefined;
  abortOnFail: boolean;
  graceMs: number;
}

/** The window's figure, or undefined when the window does not count (too few requests). */
function valueOf(t: WindowErrorsThreshold, w: WindowFigures): number | undefined {
  if (t.metric === 'windowErrors') return w.errors;
  return w.requests >= t.minRequests && w.requests > 0 ? w.errors / w.requests : undefined;
}

const show = (t: WindowErrorsThreshold, v: number, w: WindowFigures): string =>
  t.metric === 'windowErrors' ? `${v} errors in ${windowAt(w)} (of ${w.requests} requests)` : `${formatPercent(v)} in ${windowAt(w)} (${w.errors} of ${w.requests} requests)`;

function judgeSeconds(t: WindowErrorsThreshold, seconds: readonly SecondRecord[]): Verdict {
  const base = { path: t.path, label: t.label, kind: t.kind };
  let first: string | undefined;
  let worst: { v: number; text: string } | undefined;
  slide(seconds, t.windowS, t.endpoint, false, (w) => {
    const v = valueOf(t, w);
    if (v === undefined) return;
    if (!worst || v > worst.v) worst = { v, text: show(t, v, w) };
    if (v > t.max && first === undefined) first = show(t, v, w);
  });
  if (!worst) return { ...base, ok: false, measured: `no window had ${t.minRequests} request${t.minRequests === 1 ? '' : 's'}${t.endpoint ? ` of ${t.endpoint}` : ''}` };
  const w: { v: number; text: string } = worst;
  if (first === undefined) return { ...base, ok: true, measured: `worst ${t.windowS} s window: ${w.text}` };
  return { ...base, ok: false, measured: `first failing ${t.windowS} s window: ${first}; worst: ${w.text}` };
}

export const windowErrors: ThresholdKind<WindowErrorsThreshold> = defineThreshold({
  metrics: ['windowErrorRate', 'windowErrors'],
  schema: Obj(
    {
      metric: Type.Union([Type.Literal('windowErrorRate'), Type.Literal('windowErrors')]),
      max: Type.Union([Type.String(), Type.Number()], { description: 'the most errors acceptable in any window: a rate such as 5% for windowErrorRate, a count such as 20 for windowErrors' }),
      minRequests: Type.Optional(Type.Integer({ minimum: 1, description: 'windowErrorRate: judge only windows with at least this many requests (default 1)' })),
      ...WindowProps,
      ...AbortProps,
    },
    'a sliding-window error threshold: {metric: windowErrorRate or windowErrors, max, window, endpoint, minRequests, abortOnFail, grace}',
  ),
  compile(t, site): WindowErrorsThreshold {
    const abort = compileAbort(t, site);
    let max = 0;
    if (t.metric === 'windowErrorRate') max = site.compiler.ratio(t.max, [...site.at, 'max']);
    else if (typeof t.max === 'number' && Number.isInteger(t.max) && t.max >= 0) max = t.max;
    else site.compiler.add([...site.at, 'max'], `${JSON.stringify(t.max)} is not a count of errors`, 'write a whole number such as max: 20 (or use metric: windowErrorRate for a rate such as 5%)');
    if (t.minRequests !== undefined && t.metric === 'windowErrors') site.compiler.add([...site.at, 'minRequests'], 'applies to windowErrorRate only', 'remove it, or use metric: windowErrorRate');
    const windowS = compileWindow(t.window, site);
    const { endpoint } = compileScope({ ...(t.endpoint !== undefined ? { endpoint: t.endpoint } : {}) }, site);
    const of = endpoint ? ` of ${endpoint}` : '';
    const label = t.metric === 'windowErrors' ? `errors${of} ≤ ${max} in every ${windowS} s window` : `error rate${of} ≤ ${formatPercent(max)} in every ${windowS} s window`;
    return { kind: 'windowErrors', path: site.path, metric: t.metric, max, minRequests: t.minRequests ?? 1, windowS, endpoint, ...abort, label };
  },
  judge: (t, result) => judgeSeconds(t, result.recording.seconds),
  live(t, now, elapsedMs) {
    if (!t.abortOnFail || elapsedMs < t.graceMs) return undefined;
    const w = lastWindow(now.closedSeconds(), t.windowS, t.endpoint, false);
    const v = w && valueOf(t, w);
    if (v === undefined || v <= t.max) return undefined;
    return { path: t.path, label: t.label, kind: t.kind, ok: false, measured: show(t, v, w!) };
  },
});
