// Stocks the catalog seed's skus (SKU-000001 … by the shared generator), for load tests and local
// runs. Deterministic: sku n gets the same units every time. Idempotent: a sku that already has
// stock is left exactly as it is, so a second run changes nothing. Each stocked sku gets its audit
// row (actor "seed").
import type { Database } from '../kit/db.js';
import { execute, selectRows } from '../kit/sql.js';
import { skuFor } from '../catalog/seed-data.js';

const CHUNK = 1000;

/** Units for seed product n: 100-999, spread so that some products run out before others. */
export function seedUnits(n: number): number {
  return 100 + ((n * 7919) % 900);
}

export interface SeedOutcome {
  inserted: number;
  present: number;
}

export async function seedStock(
  db: Database,
  count: number,
  units: (n: number) => number = seedUnits,
  progress: (done: number, total: number) => void = () => undefined,
): Promise<SeedOutcome> {
  const outcome: SeedOutcome = { inserted: 0, present: 0 };
  for (let first = 1; first <= count; first += CHUNK) {
    const numbers = Array.from({ length: Math.min(CHUNK, count - first + 1) }, (_, i) => first + i);
    const skus = numbers.map(skuFor);
    await db.transaction(async (t) => {
      const existing = new Set((await selectRows<{ sku: string }>(db.sequelize, 'SELECT sku FROM stock WHERE sku IN (?) FOR UPDATE', [skus], t)).map((r) => r.sku));
      const missing = numbers.filter((n) => !existing.has(skuFor(n)));
      if (missing.length > 0) {
        await execute(db.sequelize, 'INSERT INTO stock (sku, on_hand, reserved) VALUES ?', [missing.map((n) => [skuFor(n), units(n), 0])], t);
        await execute(db.sequelize, 'INSERT INTO stock_audit (sku, delta, on_hand_after, reason, actor) VALUES ?', [
          missing.map((n) => [skuFor(n), units(n), units(n), 'seed stock', 'seed']),
        ], t);
      }
      outcome.inserted += missing.length;
      outcome.present += existing.size;
    });
    progress(first + numbers.length - 1, count);
  }
  return outcome;
}
