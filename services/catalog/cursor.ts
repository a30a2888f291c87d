// Opaque keyset cursors for the product listing. A cursor carries the last sku of a page and a
// digest of the filters it was issued for, sealed with an HMAC: a cursor that was edited, made up,
// or replayed against other filters is refused with 400 instead of silently paging from somewhere
// else. The sort key is public data, so the seal guards integrity only; it uses a fixed key so any
// instance of the service accepts the cursors of every other.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ApiError } from '../kit/errors.js';
import { isSku } from './schemas.js';

const KEY = 'saleday-catalog-cursor-v1';
const VERSION = 1;

export interface ListingFilters {
  category?: string | undefined;
  q?: string | undefined;
}

function filterDigest(f: ListingFilters): string {
  return createHmac('sha256', KEY).update(JSON.stringify([f.category ?? null, f.q ?? null])).digest('base64url').slice(0, 16);
}

function seal(payload: string): string {
  return createHmac('sha256', KEY).update(payload).digest('base64url').slice(0, 22);
}

export function encodeCursor(afterSku: string, filters: ListingFilters): string {
  const payload = Buffer.from(JSON.stringify({ v: VERSION, after: afterSku, f: filterDigest(filters) })).toString('base64url');
  return `${payload}.${seal(payload)}`;
}

/** The sku to continue after; 400 INVALID_CURSOR for anything this service did not issue for these filters. */
export function decodeCursor(cursor: string, filters: ListingFilters): string {
  const invalid = () => new ApiError(400, 'INVALID_CURSOR', 'cursor is not valid for this listing: start again without a cursor', { field: 'cursor' });
  const m = /^([A-Za-z0-9_-]{1,400})\.([A-Za-z0-9_-]{22})$/.exec(cursor);
  if (!m) throw invalid();
  const expected = Buffer.from(seal(m[1]!));
  const given = Buffer.from(m[2]!);
  if (!timingSafeEqual(expected, given)) throw invalid();
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(m[1]!, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  const d = doc as { v?: unknown; after?: unknown; f?: unknown };
  if (d?.v !== VERSION || typeof d.after !== 'string' || !isSku(d.after) || d.f !== filterDigest(filters)) throw invalid();
  return d.after;
}
