// Data feeders: who the virtual customers are and which products they want. Users are
// deterministic accounts (the setup step registers them; their passwords are derived from the
// profile's seed, so no password is written down anywhere); skus follow the catalog seed's
// SKU-000001 … naming, with a hot set that takes most of the traffic, as in a flash sale.
import { createHash } from 'node:crypto';
import type { Random } from './random.js';

export interface UsersFeederSpec {
  type: 'users';
  count: number;
  prefix: string;
  domain: string;
}

export interface SkusFeederSpec {
  type: 'skus';
  count: number;
  first: number;
  hot?: { count: number; share: number; skus?: string[] };
}

/** A plain list (search terms, categories), picked uniformly. */
export interface ValuesFeederSpec {
  type: 'values';
  values: string[];
}

export type FeederSpec = UsersFeederSpec | SkusFeederSpec | ValuesFeederSpec;

export const FEEDER_FIELDS: Record<FeederSpec['type'], string[]> = {
  users: ['email', 'password', 'name', 'n'],
  skus: ['sku', 'n'],
  values: ['value', 'n'],
};

export type Row = Readonly<Record<string, string | number>>;

export interface Feeder {
  readonly name: string;
  readonly spec: FeederSpec;
  readonly size: number;
  /** Row n (0-based), in a stable order. */
  row(n: number): Row;
  /** A row drawn with the feeder's skew. */
  pick(rng: Random): Row;
}

export const skuName = (n: number): string => `SKU-${String(n).padStart(6, '0')}`;

export function createFeeder(name: string, spec: FeederSpec, seed: number): Feeder {
  switch (spec.type) {
    case 'users':
      return usersFeeder(name, spec, seed);
    case 'skus':
      return skusFeeder(name, spec);
    case 'values': {
      const rows = spec.values.map((value, i) => Object.freeze({ value, n: i + 1 }));
      return { name, spec, size: rows.length, row: (i) => rows[i]!, pick: (rng) => rows[rng.int(rows.length)]! };
    }
  }
}

function usersFeeder(name: string, spec: UsersFeederSpec, seed: number): Feeder {
  const cache = new Map<number, Row>();
  const row = (i: number): Row => {
    let r = cache.get(i);
    if (!r) {
      const n = i + 1;
      const id = String(n).padStart(6, '0');
      // Meets any reasonable strength rule: long, mixed case, digits and a symbol.
      const secret = createHash('sha256').update(`${seed}:${spec.prefix}:${n}`).digest('base64url').slice(0, 18);
      r = Object.freeze({ n, email: `${spec.prefix}-${id}@${spec.domain}`, password: `${secret}-Aa1!`, name: `Load Tester ${id}` });
      cache.set(i, r);
    }
    return r;
  };
  return { name, spec, size: spec.count, row, pick: (rng) => row(rng.int(spec.count)) };
}

function skusFeeder(name: string, spec: SkusFeederSpec): Feeder {
  const rows = (skus: string[]): Row[] => skus.map((sku, i) => Object.freeze({ sku, n: i + 1 }));
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
}

/** The skus a feeder treats as hot (the oversell check watches these by default). */
export function hotSkus(spec: SkusFeederSpec): string[] {
  if (spec.hot?.skus) return spec.hot.skus;
  return Array.from({ length: Math.min(spec.hot?.count ?? 0, spec.count) }, (_, i) => skuName(spec.first + i));
}
