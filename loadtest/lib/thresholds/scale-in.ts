// Scale-in thresholds: `{metric: scaleIn, service, within}`: after the last phase the fleet is
// back to its minimum in time (the runner keeps probing until it is, or the time is up).
import { Type } from '@sinclair/typebox';
import { Dur, Obj } from '../profile/shapes.js';
import { formatMs } from '../units.js';
import { inServiceSeries, NO_PROBE } from './fleet-series.js';
import { defineThreshold, type ThresholdBase, type ThresholdKind } from './kind.js';

export interface ScaleInThreshold extends ThresholdBase {
  kind: 'scaleIn';
  service: string;
  withinMs: number;
}

export const scaleIn: ThresholdKind<ScaleInThreshold> = defineThreshold({
  metrics: ['scaleIn'],
  schema: Obj(
    { metric: Type.Literal('scaleIn'), service: Type.String({ minLength: 1, description: 'the service, e.g. service: catalog' }), within: Dur('how long after the last phase the fleet may take to return to its minimum') },
    'a scale-in threshold: {metric: scaleIn, service, within}',
  ),
  compile(t, site): ScaleInThreshold {
    const withinMs = site.compiler.duration(t.within, [...site.at, 'within'], 'within');
    return { kind: 'scaleIn', path: site.path, service: t.service, withinMs, label: `${t.service} back to its minimum within ${formatMs(withinMs)} after the run` };
  },
  judge(t, result) {
    const base = { path: t.path, label: t.label, kind: t.kind };
    if (!result.fleet.probe) return { ...base, ok: false, measured: NO_PROBE };
    const series = inServiceSeries(result.fleet.samples, t.service);
    if (!series.length) return { ...base, ok: false, measured: `the probe saw no service named ${t.service}` };
    const end = result.profile.durationMs / 1000;
    const back = series.find((s) => s.t >= end && s.n <= s.min);
    if (back && back.t - end <= t.withinMs / 1000) return { ...base, ok: true, measured: `${t.service} back to ${back.n} (its minimum) ${(back.t - end).toFixed(0)} s after the last phase` };
    const last = series.at(-1)!;
    return { ...base, ok: false, measured: `${t.service} still had ${last.n} in service (minimum ${last.min}) ${(last.t - end).toFixed(0)} s after the last phase` };
  },
});
