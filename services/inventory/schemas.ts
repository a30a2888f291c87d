// Request shapes of the inventory API (TypeBox), with the limits that keep one request bounded.
import { Type } from '@sinclair/typebox';
import { Text, validator } from '../kit/validation.js';
import { badRequest } from '../kit/errors.js';

/** Lines per reservation; a basket beyond it is refused before anything is locked. */
export const MAX_LINES = 100;
/** Units of one sku per reservation. */
export const MAX_QTY = 10_000;
/** The largest stock level of one sku (fits INT with room for arithmetic). */
export const MAX_ON_HAND = 1_000_000_000;
export const MAX_TTL_SECONDS = 86_400;

export const SKU_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$';
const SKU_RE = new RegExp(SKU_PATTERN);
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const Sku = () => Type.String({ pattern: SKU_PATTERN, maxLength: 64 });
export const Reason = () => Text({ maxLength: 200 });

export const ReserveLine = Type.Object({ sku: Sku(), qty: Type.Integer({ minimum: 1, maximum: MAX_QTY }) }, { additionalProperties: false });

const reserveBody = validator(
  Type.Object(
    {
      items: Type.Array(ReserveLine, { minItems: 1, maxItems: MAX_LINES }),
      ttlSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_TTL_SECONDS })),
    },
    { additionalProperties: false },
  ),
);

export interface ReserveRequest {
  items: Array<{ sku: string; qty: number }>;
  ttlSeconds: number | undefined;
}

/** The reservation body; a sku may appear once per basket (its quantity says how many). */
export function parseReserveBody(body: unknown): ReserveRequest {
  const parsed = reserveBody(body);
  assertDistinctSkus(parsed.items);
  return { items: parsed.items, ttlSeconds: parsed.ttlSeconds };
}

export function assertDistinctSkus(items: ReadonlyArray<{ sku: string }>, where = 'body.items'): void {
  const seen = new Set<string>();
  items.forEach((item, i) => {
    if (seen.has(item.sku)) throw badRequest(`${where}.${i}.sku: ${item.sku} appears more than once; send one line per sku`, { field: `items.${i}.sku` });
    seen.add(item.sku);
  });
}

export const parseSetStockBody = validator(
  Type.Object({ onHand: Type.Integer({ minimum: 0, maximum: MAX_ON_HAND }), reason: Reason() }, { additionalProperties: false }),
);

const adjustmentBody = validator(
  Type.Object({ delta: Type.Integer({ minimum: -MAX_ON_HAND, maximum: MAX_ON_HAND }), reason: Reason() }, { additionalProperties: false }),
);

export function parseAdjustmentBody(body: unknown): { delta: number; reason: string } {
  const parsed = adjustmentBody(body);
  if (parsed.delta === 0) throw badRequest('body.delta: must not be 0', { field: 'delta' });
  return parsed;
}

export const parseAuditQuery = validator(
  Type.Object(
    {
      limit: Type.Optional(Type.String({ pattern: '^(?:[1-9]|[1-9][0-9]|100)$' })),
      before: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,18}$' })),
    },
    { additionalProperties: false },
  ),
);

/** A path sku: malformed → 400 (it could never exist). */
export function skuParam(value: unknown): string {
  if (typeof value !== 'string' || !SKU_RE.test(value)) throw badRequest('sku: must be 1-64 letters, digits, dots, dashes or underscores', { field: 'sku' });
  return value;
}

export function isReservationId(value: unknown): value is string {
  return typeof value === 'string' && UUID_RE.test(value);
}
