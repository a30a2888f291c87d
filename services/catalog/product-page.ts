// The stored product page: each product row keeps the exact bytes GET /api/catalog/products/:sku
// answers (`page`) and their ETag, rendered when the product is written, so the sale-day read is
// one row by primary key sent as is: no JSON built in the database, nothing parsed, rendered or
// hashed per request.
//
// A page is only served while it is provably current: `page_src` holds the columns it was rendered
// from (concatenated), and the read compares it with the row's columns as they are now, exactly
// (no hash: a plain byte comparison costs the database less than computing a digest per read). A
// row changed by anything that did not refresh its page (a hand-written UPDATE, a restored backup)
// fails that comparison and is rendered from its columns instead, as before; writes through the
// service and the seed refresh the page in the same transaction.
import { QueryTypes, type Sequelize, type Transaction } from 'sequelize';
import { caseWhen } from '../kit/sql.js';
import { renderProduct, toProduct, type ProductRow } from './product.js';
import type { Representation } from './representation.js';

/** What the product page serves: the JSON bytes and their strong ETag. */
export type ProductPage = Representation;

/**
 * The product as one JSON value, built by the database (MariaDB answers it as text, MySQL 8 as a
 * JSON value): the representation every page is rendered from, so a stored page and a page
 * rendered on the fly are the same bytes.
 */
export const PRODUCT_JSON = `JSON_OBJECT('sku', sku, 'name', name, 'description', description, 'priceCents', price_cents,
  'currency', currency, 'category', category, 'imagePath', image_path, 'active', active,
  'updatedAt', CONCAT(LEFT(DATE_FORMAT(updated_at, '%Y-%m-%dT%H:%i:%s.%f'), 23), 'Z'))`;

/**
 * The columns a page shows, concatenated (the sku is the key and never changes). Validated text
 * never holds the 0x1f separator, so distinct rows cannot concatenate alike.
 */
export const PAGE_SOURCE = `CONCAT_WS(0x1f, name, description, price_cents, currency, category, image_path, active, updated_at)`;

/**
 * The product page's read: the stored page while its source matches the row, the product JSON
 * otherwise (only then does the database build it).
 */
export const SELECT_PAGE_BY_SKU = `SELECT page, etag, IF(page_src = ${PAGE_SOURCE}, NULL, ${PRODUCT_JSON}) AS product FROM products WHERE sku = ?`;

export interface PageRow {
  page: Buffer | null;
  etag: string | null;
  product: string | ProductRow | null;
}

/** The answer for a row read with SELECT_PAGE_BY_SKU. */
export function pageOf(row: PageRow): ProductPage {
  if (row.product === null && row.page !== null && row.etag !== null) return { body: row.page, etag: row.etag };
  return renderProduct(productOf(row.product!));
}

function productOf(json: string | ProductRow) {
  return toProduct(typeof json === 'string' ? (JSON.parse(json) as ProductRow) : json);
}

const BATCH = 500;

/**
 * Renders and stores the page of each product whose page is missing or stale: the given skus, or
 * the whole table (in batches, for a migration). Returns how many pages were written.
 */
export async function refreshPages(sequelize: Sequelize, opts: { skus?: readonly string[]; transaction?: Transaction } = {}): Promise<number> {
  const { skus, transaction } = opts;
  if (skus !== undefined) {
    let written = 0;
    for (let i = 0; i < skus.length; i += BATCH) written += await refreshBatch(sequelize, 'sku IN (?)', [skus.slice(i, i + BATCH)], transaction);
    return written;
  }
  let written = 0;
  let after = '';
  for (;;) {
    const rows = await sequelize.query<{ sku: string }>(`SELECT sku FROM products WHERE sku > ? ORDER BY sku LIMIT ${BATCH}`, {
      replacements: [after],
      type: QueryTypes.SELECT,
      transaction,
    });
    if (rows.length === 0) return written;
    written += await refreshBatch(sequelize, 'sku IN (?)', [rows.map((r) => r.sku)], transaction);
    after = rows[rows.length - 1]!.sku;
  }
}

async function refreshBatch(sequelize: Sequelize, where: string, params: unknown[], transaction: Transaction | undefined): Promise<number> {
  // The source comes from the same read as the JSON, so it is exactly the columns rendered. A
  // transaction's caller holds the rows' locks (create, update); the seed and migrations run alone.
  const stale = await sequelize.query<{ sku: string; product: string | ProductRow; source: Buffer | string }>(
    `SELECT sku, ${PRODUCT_JSON} AS product, ${PAGE_SOURCE} AS source FROM products WHERE ${where} AND NOT (page_src <=> ${PAGE_SOURCE})`,
    { replacements: params, type: QueryTypes.SELECT, transaction, useMaster: true },
  );
  if (stale.length === 0) return 0;
  const pages = stale.map((row) => ({ sku: row.sku, source: row.source, ...renderProduct(productOf(row.product)) }));
  const page = caseWhen('sku', pages.map((p) => [p.sku, p.body] as const));
  const etag = caseWhen('sku', pages.map((p) => [p.sku, p.etag] as const));
  const source = caseWhen('sku', pages.map((p) => [p.sku, p.source] as const));
  await sequelize.query(`UPDATE products SET page = ${page.sql}, etag = ${etag.sql}, page_src = ${source.sql} WHERE sku IN (?)`, {
    replacements: [...page.params, ...etag.params, ...source.params, pages.map((p) => p.sku)],
    type: QueryTypes.UPDATE,
    transaction,
  });
  return pages.length;
}
