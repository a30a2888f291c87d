// The baselines' database access: a plain mysql2 pool (same size as the service's default) from
// BENCH_MYSQL_URL and BENCH_DATABASE, running the catalog's own product-by-sku statement.
import mysql, { type RowDataPacket } from 'mysql2';
import { SELECT_PRODUCT_BY_SKU } from '../../services/catalog/products.js';

const url = new URL(process.env.BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306');
const pool = mysql.createPool({
  host: url.hostname,
  port: Number(url.port || 3306),
  user: decodeURIComponent(url.username || 'root'),
  password: decodeURIComponent(url.password),
  database: process.env.BENCH_DATABASE,
  connectionLimit: Number(process.env.DB_POOL_MAX ?? 10),
});

export interface ProductJson {
  sku: string;
  active: boolean;
  [field: string]: unknown;
}

/** The product row by primary key, as the API's JSON shape; undefined when there is none. */
export function productBySku(sku: string, done: (err: Error | null, product?: ProductJson) => void): void {
  pool.execute<RowDataPacket[]>(SELECT_PRODUCT_BY_SKU, [sku], (err, rows) => {
    if (err) return done(err);
    const row = rows[0];
    done(null, row ? ({ ...row, active: row.active === 1 } as ProductJson) : undefined);
  });
}

export const port = Number(process.env.PORT ?? 0);
