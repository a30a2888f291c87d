// Values feeders: a plain list (search terms, categories), picked uniformly.
import { Type } from '@sinclair/typebox';
import { Obj } from '../profile/shapes.js';
import { defineFeeder, type FeederKind } from './kind.js';

export interface ValuesFeederSpec {
  type: 'values';
  values: string[];
}

export const values: FeederKind<ValuesFeederSpec> = defineFeeder({
  schema: Obj(
    {
      type: Type.Literal('values'),
      values: Type.Array(Type.String(), { minItems: 1, description: 'the values to pick from, e.g. values: [chair, shirt, lamp]' }),
    },
    'a values feeder: {type: values, values: [...]}',
  ),
  fields: ['value', 'n'],
  compile: (f): ValuesFeederSpec => ({ type: 'values', values: f.values }),
  create(name, spec: ValuesFeederSpec) {
    const rows = spec.values.map((value, i) => Object.freeze({ value, n: i + 1 }));
    return { name, spec, size: rows.length, row: (i) => rows[i]!, pick: (rng) => rows[rng.int(rows.length)]! };
  },
});
