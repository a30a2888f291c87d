// The oversell threshold, `{metric: oversell}`: units sold equal the stock decrease of every
// watched sku, and stock never goes negative. Its settings are the profile's `oversell:` section
// (which skus, where stock is read); ../oversell.ts reads the stock before and after the run.
import { Type, type Static } from '@sinclair/typebox';
import type { FeederSpec } from '../feeders/index.js';
import { parsePlaceholders, placeholderRefs, type PlaceholderText } from '../placeholders.js';
import type { ProfileCompiler } from '../profile/compiler.js';
import { Dur, Obj } from '../profile/shapes.js';
import type { RunResult, Verdict } from '../result.js';
import type { Journey } from '../profile/types.js';
import { defineThreshold, type ThresholdBase, type ThresholdKind } from './kind.js';

export interface OversellThreshold extends ThresholdBase {
  kind: 'oversell';
}

/** The compiled `oversell:` section. */
export interface OversellCheck {
  feeder: string;
  skus: string[] | 'hot';
  stockPath: PlaceholderText;
  availableField: string;
  settleMs: number;
}

export const oversell: ThresholdKind<OversellThreshold> = defineThreshold({
  metrics: ['oversell'],
  schema: Obj({ metric: Type.Literal('oversell') }, 'the oversell check: {metric: oversell}'),
  compile: (_t, site): OversellThreshold => ({ kind: 'oversell', path: site.path, label: 'no oversell (units sold = stock decrease, stock never negative)' }),
  judge: judgeOversell,
});

/** Whether a sku's stock decrease is accounted for: at least the answered sales, at most those plus the unanswered ones; stock never negative. */
export function balanced(s: { before: number | null; after: number | null; sold: number; unanswered?: number }): boolean {
  if (s.before === null || s.after === null || s.after < 0) return false;
  const decrease = s.before - s.after;
  return decrease >= s.sold && decrease <= s.sold + (s.unanswered ?? 0);
}

function judgeOversell(t: OversellThreshold, result: RunResult): Verdict {
  const o = result.oversell;
  const base = { path: t.path, label: t.label, kind: t.kind };
  if (!o) return { ...base, ok: false, measured: 'the check did not run' };
  // One shard sees only its own sales while the others sell too: the merge judges.
  const shards = Number(result.processes[0]?.shard.split('/')[1] ?? 1);
  if (shards > result.processes.length) {
    const sold = Object.values(result.recording.sales).reduce((a, n) => a + n, 0);
    return { ...base, ok: true, measured: `judged when the ${shards} shards are merged (this shard sold ${sold} units)` };
  }
  if (o.error) return { ...base, ok: false, measured: `stock could not be read: ${o.error}` };
  const bad = o.skus.filter((s) => !balanced(s));
  const sold = o.skus.reduce((a, s) => a + s.sold, 0);
  const unanswered = o.skus.reduce((a, s) => a + (s.unanswered ?? 0), 0);
  const show = (s: (typeof o.skus)[number]) => `${s.sku}: sold ${s.sold}${s.unanswered ? ` (+ up to ${s.unanswered} unanswered)` : ''}, stock ${s.before ?? '?'} → ${s.after ?? '?'}`;
  if (bad.length) return { ...base, ok: false, measured: bad.slice(0, 5).map(show).join('; ') };
  const matching = unanswered
    ? `each stock decrease within its answered sales plus the ${unanswered} units of checkouts that got no answer or a 5xx`
    : 'each matching its stock decrease';
  return { ...base, ok: true, measured: `${sold} units sold over ${o.skus.length} skus, ${matching} (${o.skus.slice(0, 3).map(show).join('; ')}${o.skus.length > 3 ? '; …' : ''})` };
}

// --- the oversell: section --------------------------------------------------------------------------

export const OversellSchema = Obj(
  {
    feeder: Type.Optional(Type.String({ description: 'the skus feeder whose skus are checked' })),
    skus: Type.Optional(Type.Union([Type.Literal('hot'), Type.Array(Type.String(), { minItems: 1 })], { description: 'hot (the feeder’s hot set) or a list of skus' })),
    stockPath: Type.Optional(Type.String({ description: 'where stock is read, default /api/inventory/stock/{{sku}}' })),
    availableField: Type.Optional(Type.String({ description: 'the field of the stock answer that holds the available units (default available)' })),
    settle: Type.Optional(Dur('how long to wait for stock to settle after the run')),
  },
  'the oversell check: {feeder, skus, stockPath, availableField, settle}',
);

/** The check, when the profile has an `oversell:` section or an oversell threshold. */
export function compileOversell(
  raw: Static<typeof OversellSchema> | undefined,
  profile: { thresholds: ThresholdBase[]; journeys: Journey[]; feeders: Record<string, FeederSpec> },
  compiler: ProfileCompiler,
): OversellCheck | undefined {
  const threshold = profile.thresholds.findIndex((t) => t.kind === 'oversell');
  if (!raw && threshold < 0) return undefined;
  const { feeders } = profile;
  const skuFeeders = Object.keys(feeders).filter((n) => feeders[n]!.type === 'skus');
  const feeder = raw?.feeder ?? skuFeeders[0];
  if (!feeder || feeders[feeder]?.type !== 'skus') {
    compiler.add(['oversell', 'feeder'], feeder ? `"${feeder}" is not a skus feeder` : 'the oversell check needs a skus feeder', skuFeeders.length ? `use one of ${skuFeeders.join(', ')}` : 'define one under feeders: (type: skus, count: N, hot: {count, share})');
  }
  if (!profile.journeys.some((j) => j.steps.some((s) => s.sale))) {
    compiler.add(threshold >= 0 ? ['thresholds', threshold] : ['oversell'], 'no step is marked as a sale', 'add sale: true to the checkout step (POST /api/orders)');
  }
  const spec = feeder ? feeders[feeder] : undefined;
  const skus = raw?.skus ?? 'hot';
  if (skus === 'hot' && spec?.type === 'skus' && !spec.hot) compiler.add(['oversell', 'skus'], `the feeder "${feeder}" has no hot set`, `give the feeder hot: {count: N, share: 80%} or list the skus to check under oversell.skus`);
  const stockSource = raw?.stockPath ?? '/api/inventory/stock/{{sku}}';
  let stockPath = parsePlaceholders('/');
  try {
    stockPath = parsePlaceholders(stockSource);
  } catch (err) {
    compiler.add(['oversell', 'stockPath'], (err as Error).message, 'write it like /api/inventory/stock/{{sku}}');
  }
  if (!placeholderRefs(stockPath).some((ref) => ref[0] === 'sku')) compiler.add(['oversell', 'stockPath'], `"${stockSource}" has no {{sku}}`, 'write it like /api/inventory/stock/{{sku}}');
  return {
    feeder: feeder ?? '',
    skus,
    stockPath,
    availableField: raw?.availableField ?? 'available',
    settleMs: raw?.settle === undefined ? 30_000 : compiler.duration(raw.settle, ['oversell', 'settle'], 'the settle time'),
  };
}
