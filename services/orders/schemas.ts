// Request shapes of the orders API: the basket, the Idempotency-Key header, list paging.
import { createHash } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import type { Request } from 'restify';
import { badRequest } from '../kit/errors.js';
import { validator } from '../kit/validation.js';

/** Lines per order; a basket beyond it is refused before anything is reserved. */
export const MAX_LINES = 100;
/** Units of one sku per order. */
export const MAX_QTY = 1_000;

const SKU_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$';
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;
const ORDER_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface BasketLine {
  sku: string;
  qty: number;
}

const basket = validator(
  Type.Object(
    {
      items: Type.Array(
        Type.Object({ sku: Type.String({ pattern: SKU_PATTERN, maxLength: 64 }), qty: Type.Integer({ minimum: 1, maximum: MAX_QTY }) }, { additionalProperties: false }),
        { minItems: 1, maxItems: MAX_LINES },
      ),
    },
    { additionalProperties: false },
  ),
);

/** The order body: 1-100 lines, each sku once, 1-1000 units each. */
export function parseBasket(body: unknown): BasketLine[] {
  const { items } = basket(body);
  const seen = new Set<string>();
  items.forEach((line, i) => {
    if (seen.has(line.sku)) throw badRequest(`body.items.${i}.sku: ${line.sku} appears more than once; send one line per sku`, { field: `items.${i}.sku` });
    seen.add(line.sku);
  });
  return items.map((l) => ({ sku: l.sku, qty: l.qty }));
}

/** Same basket, same hash (line order does not matter). */
export function basketHash(lines: readonly BasketLine[]): string {
  const canonical = [...lines].sort((a, b) => (a.sku < b.sku ? -1 : 1)).map((l) => [l.sku, l.qty]);
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex');
}

export function idempotencyKey(req: Request): string {
  const key = req.headers['idempotency-key'];
  if (typeof key !== 'string' || key === '') {
    throw badRequest('the Idempotency-Key header is required: send a unique value per checkout (a UUID) and repeat it on retries', { field: 'Idempotency-Key' });
  }
  if (!IDEMPOTENCY_KEY.test(key)) throw badRequest('Idempotency-Key must be 1-255 printable ASCII characters without spaces', { field: 'Idempotency-Key' });
  return key;
}

export function isOrderId(value: unknown): value is string {
  return typeof value === 'string' && ORDER_ID.test(value);
}

const listQuery = validator(
  Type.Object(
    {
      limit: Type.Optional(Type.String({ pattern: '^(?:[1-9]|[1-9][0-9]|100)$' })),
      cursor: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{1,40}$' })),
    },
    { additionalProperties: false },
  ),
);

export function parseListQuery(query: unknown): { limit: number; before: string | undefined } {
  const q = listQuery(query ?? {}, 'query');
  let before: string | undefined;
  if (q.cursor !== undefined) {
    before = Buffer.from(q.cursor, 'base64url').toString('utf8');
    if (!/^[1-9][0-9]{0,18}$/.test(before)) throw badRequest('query.cursor: is not a cursor this service gave out', { field: 'cursor' });
  }
  return { limit: Number(q.limit ?? 20), before };
}

export function cursorFor(seq: string): string {
  return Buffer.from(seq, 'utf8').toString('base64url');
}
