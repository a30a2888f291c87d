// Users feeders: deterministic accounts (the setup step registers them). Their passwords are
// derived from the profile's seed, so no password is written down anywhere.
import { createHash } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import { Obj } from '../profile/shapes.js';
import { defineFeeder, type FeederKind, type Row } from './kind.js';

export interface UsersFeederSpec {
  type: 'users';
  count: number;
  prefix: string;
  domain: string;
}

export const users: FeederKind<UsersFeederSpec> = defineFeeder({
  schema: Obj(
    {
      type: Type.Literal('users'),
      count: Type.Integer({ minimum: 1, description: 'how many accounts, e.g. count: 200' }),
      prefix: Type.Optional(Type.String({ pattern: '^[a-z0-9][a-z0-9-]*$', description: 'the start of each email address (lower-case letters, digits and -)' })),
      domain: Type.Optional(Type.String({ pattern: '^[a-z0-9.-]+\\.[a-z]+$', description: 'the email domain, e.g. loadtest.saleday.test' })),
    },
    'a users feeder: {type: users, count, prefix, domain}',
  ),
  fields: ['email', 'password', 'name', 'n'],
  compile: (f): UsersFeederSpec => ({ type: 'users', count: f.count, prefix: f.prefix ?? 'loadtest', domain: f.domain ?? 'loadtest.saleday.test' }),
  create(name, spec: UsersFeederSpec, seed) {
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
  },
});
