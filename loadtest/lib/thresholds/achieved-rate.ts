// Achieved-rate thresholds: `{metric: achievedRate, min: 95%}`: journeys started ÷ scheduled, per
// phase (one, or every phase with journeys scheduled), so a harness that cannot keep up fails.
import { Type } from '@sinclair/typebox';
import { Obj, Ratio } from '../profile/shapes.js';
import { formatPercent } from '../units.js';
import { checkPhase, defineThreshold, type ThresholdBase, type ThresholdKind } from './kind.js';

export interface AchievedRateThreshold extends ThresholdBase {
  kind: 'achievedRate';
  min: number;
  phase: string | undefined;
}

export const achievedRate: ThresholdKind<AchievedRateThreshold> = defineThreshold({
  metrics: ['achievedRate'],
  schema: Obj(
    { metric: Type.Literal('achievedRate'), min: Ratio('the lowest acceptable ratio of achieved to scheduled journeys per second'), phase: Type.Optional(Type.String({ description: 'a phase name (every phase when left out)' })) },
    'an achieved-rate threshold: {metric, min, phase}',
  ),
  compile(t, site): AchievedRateThreshold {
    checkPhase(site, t.phase, [...site.at, 'phase']);
    const min = site.compiler.ratio(t.min, [...site.at, 'min']);
    return { kind: 'achievedRate', path: site.path, min, phase: t.phase, label: `achieved rate ≥ ${formatPercent(min)} of schedule in ${t.phase ? `phase ${t.phase}` : 'every phase'}` };
  },
  judge(t, result) {
    const phases = result.phases.filter((p) => (t.phase ? p.name === t.phase : p.scheduled > 0));
    const worst = phases.map((p) => ({ p, ratio: p.scheduled ? p.started / p.scheduled : 1 })).sort((a, b) => a.ratio - b.ratio);
    const failing = worst.filter((w) => w.ratio < t.min);
    const shown = (failing.length ? failing : worst.slice(0, 1)).map(({ p, ratio }) => `${p.name}: ${p.achievedRate.toFixed(1)}/s of ${p.scheduledRate.toFixed(1)}/s scheduled (${formatPercent(ratio)})`);
    return { path: t.path, label: t.label, kind: t.kind, ok: failing.length === 0, measured: shown.join('; ') || 'no phase had journeys scheduled' };
  },
});
