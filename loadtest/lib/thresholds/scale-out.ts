// Scale-out thresholds: `{metric: scaleOut, service, reaches, within, phase}`: the fleet reached
// the size in service within the time after the phase began, as the scaling probe saw it.
import { Type } from '@sinclair/typebox';
import { Dur, Obj } from '../profile/shapes.js';
import { formatMs } from '../units.js';
import { inServiceSeries, NO_PROBE } from './fleet-series.js';
import { checkPhase, defineThreshold, type ThresholdBase, type ThresholdKind } from './kind.js';

export interface ScaleOutThreshold extends ThresholdBase {
  kind: 'scaleOut';
  service: string;
  reaches: number;
  withinMs: number;
  phase: string;
}

export const scaleOut: ThresholdKind<ScaleOutThreshold> = defineThreshold({
  metrics: ['scaleOut'],
  schema: Obj(
    {
      metric: Type.Literal('scaleOut'),
      service: Type.String({ minLength: 1, description: 'the service, e.g. service: catalog' }),
      reaches: Type.Integer({ minimum: 1, description: 'the in-service instance count it must reach, e.g. reaches: 3' }),
      within: Dur('how long after the phase start'),
      phase: Type.String({ description: 'the phase whose start the clock runs from, e.g. phase: flash-spike' }),
    },
    'a scale-out threshold: {metric: scaleOut, service, reaches, within, phase}',
  ),
  compile(t, site): ScaleOutThreshold {
    checkPhase(site, t.phase, [...site.at, 'phase']);
    const withinMs = site.compiler.duration(t.within, [...site.at, 'within'], 'within');
    return { kind: 'scaleOut', path: site.path, service: t.service, reaches: t.reaches, withinMs, phase: t.phase, label: `${t.service} reaches ${t.reaches} in service within ${formatMs(withinMs)} of ${t.phase}` };
  },
  judge(t, result) {
    const base = { path: t.path, label: t.label, kind: t.kind };
    const series = inServiceSeries(result.fleet.samples, t.service);
    if (!result.fleet.probe) return { ...base, ok: false, measured: NO_PROBE };
    if (!series.length) return { ...base, ok: false, measured: `the probe saw no service named ${t.service} (it saw ${Object.keys(result.fleet.samples.at(-1)?.services ?? {}).join(', ') || 'none'})` };
    const phase = result.profile.phases.find((p) => p.name === t.phase)!;
    const start = phase.startMs / 1000;
    const deadline = start + t.withinMs / 1000;
    const reached = series.find((s) => s.t >= start - 1 && s.n >= t.reaches);
    if (reached && reached.t <= deadline) return { ...base, ok: true, measured: `${t.service} had ${reached.n} in service ${Math.max(0, reached.t - start).toFixed(0)} s after ${t.phase} began` };
    const peak = series.filter((s) => s.t >= start && s.t <= deadline).reduce((a, s) => Math.max(a, s.n), 0);
    return { ...base, ok: false, measured: reached ? `${t.service} reached ${t.reaches} only ${(reached.t - start).toFixed(0)} s after ${t.phase} began` : `${t.service} peaked at ${peak} in service within ${formatMs(t.withinMs)} of ${t.phase} (needed ${t.reaches})` };
  },
});
