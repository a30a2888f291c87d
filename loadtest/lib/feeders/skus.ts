// Skus feeders: the catalog seed's SKU-000001 … naming, with a hot set that takes most of the
// picks, as in a flash sale.
import { Type } from '@sinclair/typebox';
import { Obj, Ratio } from '../profile/shapes.js';
import { defineFeeder, type FeederKind, type Row } from './kind.js';

export interface SkusFeederSpec {
  type: 'skus';
  count: number;
  first: number;
  hot?: { count: number; share: number; skus?: string[] };
}

export const skuName = (n: number): string => `SKU-${String(n).padStart(6, '0')}`;

/** The skus a feeder treats as hot (the oversell check watches these by default). */
export function hotSkus(spec: SkusFeederSpec): string[] {
  if (spec.hot?.skus) return spec.hot.skus;
  return Array.from({ length: Math.min(spec.hot?.count ?? 0, spec.count) }, (_, i) => skuName(spec.first + i));
}

export const skus: FeederKind<SkusFeederSpec> = defineFeeder({
  schema: Obj(
    {
      type: Type.Literal('skus'),
      count: Type.Integer({ minimum: 1, description: 'how many skus of the seeded catalog, e.g. count: 10000' }),
      first: Type.Optional(Type.Integer({ minimum: 1, description: 'the number of the first sku (SKU-000001 is 1)' })),
      hot: Type.Optional(
        Obj(
          {
            count: Type.Optional(Type.Integer({ minimum: 1, description: 'how many of the first skus are hot, e.g. count: 5' })),
            skus: Type.Optional(Type.Array(Type.String({ pattern: '^\\S+$' }), { minItems: 1, description: 'the hot skus by name' })),
            share: Ratio('the share of picks that go to the hot skus'),
          },
          'the hot set: {count or skus, share}',
        ),
      ),
    },
    'a skus feeder: {type: skus, count, first, hot: {count, share}}',
  ),
  fields: ['sku', 'n'],
  compile(f, { at, compiler }): SkusFeederSpec {
    const hot = f.hot;
    if (hot && !hot.count && !hot.skus) compiler.add([...at, 'hot'], 'names no hot skus', 'add count: N (the first N skus are hot) or skus: [SKU-000001, …]');
    const spec: SkusFeederSpec = { type: 'skus', count: f.count, first: f.first ?? 1 };
    if (hot) spec.hot = { count: hot.count ?? hot.skus?.length ?? 0, share: compiler.ratio(hot.share, [...at, 'hot', 'share']), ...(hot.skus ? { skus: hot.skus } : {}) };
    if (hot?.count && hot.count > spec.count) compiler.add([...at, 'hot', 'count'], `is ${hot.count}, more than the ${spec.count} skus of the feeder`, `make it at most ${spec.count}`);
    return spec;
  },
  create(name, spec: SkusFeederSpec) {
    const rows = (names: string[]): Row[] => names.map((sku, i) => Object.freeze({ sku, n: i + 1 }));
    const all = rows(Array.from({ length: spec.count }, (_, i) => skuName(spec.first + i)));
    const hotNames = spec.hot?.skus ?? all.slice(0, Math.min(spec.hot?.count ?? 0, all.length)).map((r) => r.sku as string);
    const hotSet = new Set(hotNames);
    const hot = rows(hotNames);
    const cold = all.filter((r) => !hotSet.has(r.sku as string));
    const share = spec.hot ? spec.hot.share : 0;
    return {
      name,
      spec,
      size: all.length,
      row: (i) => all[i]!,
      pick(rng) {
        if (hot.length && (cold.length === 0 || rng.next() < share)) return hot[rng.int(hot.length)]!;
        return cold[rng.int(cold.length)]!;
      },
    };
  },
});
