// Loads the deterministic seed catalog into the database: categories first, then products in
// batches, each with its stored product page. Idempotent: rows already present (by slug or sku)
// are left exactly as they are (a missing or stale stored page is refreshed).
import { QueryTypes } from 'sequelize';
import type { Database } from '../kit/db.js';
import { refreshPages } from './product-page.js';
import { SEED_CATEGORIES, seedProducts, type SeedProduct } from './seed-data.js';

const BATCH = 500;

export interface SeedOutcome {
  inserted: number;
  present: number;
}

/** Inserts what is missing of products 1 … count; `progress` hears about every batch. */
export async function seedCatalog(db: Database, count: number, progress: (done: number, total: number) => void = () => undefined): Promise<SeedOutcome> {
  const sequelize = db.sequelize;
  await sequelize.query(
    `INSERT INTO categories (slug, name, created_at, updated_at) VALUES ${SEED_CATEGORIES.map(() => '(?, ?, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))').join(', ')}
     ON DUPLICATE KEY UPDATE slug = slug`,
    { replacements: SEED_CATEGORIES.flatMap((c) => [c.slug, c.name]), type: QueryTypes.INSERT },
  );
  let inserted = 0;
  let batch: SeedProduct[] = [];
  let done = 0;
  const flush = async () => {
    const [, affected] = await sequelize.query(
      `INSERT INTO products (sku, name, description, price_cents, currency, category, image_path, active, created_at, updated_at)
       VALUES ${batch.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))').join(', ')}
       ON DUPLICATE KEY UPDATE sku = sku`,
      { replacements: batch.flatMap((p) => [p.sku, p.name, p.description, p.priceCents, p.currency, p.category, p.imagePath, p.active]), type: QueryTypes.INSERT },
    );
    inserted += Number(affected);
    await refreshPages(sequelize, { skus: batch.map((p) => p.sku) });
    done += batch.length;
    batch = [];
    progress(done, count);
  };
  for (const product of seedProducts(count)) {
    batch.push(product);
    if (batch.length === BATCH) await flush();
  }
  if (batch.length) await flush();
  return { inserted, present: count - inserted };
}
