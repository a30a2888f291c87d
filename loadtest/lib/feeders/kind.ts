// What a feeder kind is: the shape of its settings under `feeders:`, the fields a step reads as
// {{feeder.field}}, how its settings compile, and the rows it deals out during a run. Each kind
// is one file beside this one, registered by its `type:` in index.ts.
import type { Static, TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { PathKey } from '../../../environment/index.js';
import type { ProfileCompiler } from '../profile/compiler.js';
import type { Random } from '../random.js';
import type { FeederSpec } from './index.js';

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

/** Where a feeder is defined: `feeders.<name>`. */
export interface FeederSite {
  at: PathKey[];
  compiler: ProfileCompiler;
}

export interface FeederKind<S extends { type: string }> {
  /** The shape of `feeders.<name>` for this `type:`. */
  readonly schema: TSchema;
  /** What a step may read from a row, as {{feeder.field}}. */
  readonly fields: readonly string[];
  /** Compiles settings its schema accepted, with the defaults filled in. */
  compile(raw: unknown, site: FeederSite): S;
  create(name: string, spec: S, seed: number): Feeder;
}

interface KindDefinition<Sch extends TSchema, S extends { type: string }> extends Omit<FeederKind<S>, 'schema' | 'compile'> {
  readonly schema: Sch;
  compile(raw: Static<Sch>, site: FeederSite): S;
}

/** A feeder kind whose compile step sees the raw settings typed by its schema. */
export function defineFeeder<Sch extends TSchema, S extends { type: string }>(def: KindDefinition<Sch, S>): FeederKind<S> {
  return {
    ...def,
    compile(raw, site) {
      if (!Value.Check(def.schema, raw)) throw new Error(`feeder ${site.at.join('.')} was compiled before its schema accepted it`);
      return def.compile(raw, site);
    },
  };
}
