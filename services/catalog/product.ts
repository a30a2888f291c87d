// The product as the API answers it (a contract: orders reads prices from it), and its rendered
// form: the JSON bytes and a strong ETag computed from exactly those bytes, so every instance gives
// the same ETag for the same representation and a changed product always gets a new one.
import { strongEtag } from './representation.js';

export interface Product {
  sku: string;
  name: string;
  description: string;
  /** integer cents */
  priceCents: number;
  /** ISO 4217, e.g. "EUR" */
  currency: string;
  /** category slug */
  category: string;
  imagePath: string;
  active: boolean;
  /** ISO 8601, UTC, millisecond precision */
  updatedAt: string;
}

export interface RenderedProduct {
  product: Product;
  body: Buffer;
  etag: string;
}

/** A product row as the store reads it (MySQL gives TINYINT(1) as a number on the raw path). */
export interface ProductRow {
  sku: string;
  name: string;
  description: string;
  priceCents: number;
  currency: string;
  category: string;
  imagePath: string;
  active: number | boolean;
  updatedAt: string | Date;
}

export function toProduct(row: ProductRow): Product {
  // Property order is the contract's, and fixes the bytes the ETag is computed from.
  return {
    sku: row.sku,
    name: row.name,
    description: row.description,
    priceCents: Number(row.priceCents),
    currency: row.currency,
    category: row.category,
    imagePath: row.imagePath,
    active: row.active === true || row.active === 1,
    updatedAt: typeof row.updatedAt === 'string' ? row.updatedAt : row.updatedAt.toISOString(),
  };
}

export function renderProduct(product: Product): RenderedProduct {
  const body = Buffer.from(JSON.stringify(product));
  return { product, body, etag: strongEtag(body) };
}
