// `node dist/services/inventory/seed.js [--count N] [--units N]`: stocks the catalog seed's skus
// (SKU-000001 … SKU-0NNNNN, 10,000 by default) in DB_SECRET's database, applying pending
// migrations first. Units per sku are deterministic (100-999) unless --units sets them all.
// Idempotent: skus that already have stock are left as they are.
import { parseArgs } from 'node:util';
import { runDatabaseCommand } from '../kit/command.js';
import { DEFAULT_SEED_COUNT } from '../catalog/seed-data.js';
import { migrations } from './migrations/index.js';
import { MAX_ON_HAND } from './schemas.js';
import { seedStock, seedUnits } from './stock-seeder.js';

function whole(name: string, value: string | undefined, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > max) throw new Error(`--${name} must be a whole number from 1 to ${max}, got ${JSON.stringify(value)}`);
  return n;
}

let count = DEFAULT_SEED_COUNT;
let units: (n: number) => number = seedUnits;
try {
  const { values } = parseArgs({ args: process.argv.slice(2), options: { count: { type: 'string' }, units: { type: 'string' } }, strict: true });
  count = whole('count', values.count, DEFAULT_SEED_COUNT, 999_999);
  if (values.units !== undefined) {
    const fixed = whole('units', values.units, 0, MAX_ON_HAND);
    units = () => fixed;
  }
} catch (err) {
  process.stderr.write(`saleday-inventory seed: ${(err as Error).message.replace(/\s*\n\s*/g, ' ')}\nusage: node dist/services/inventory/seed.js [--count N] [--units N]\n`);
  process.exit(2);
}
await runDatabaseCommand({ service: 'inventory', name: 'seed', migrations }, async (db) => {
  const started = Date.now();
  const out = await seedStock(db, count, units, (done, total) => process.stdout.write(`  stocked ${done}/${total} skus\n`));
  process.stdout.write(`inventory seed: ${out.inserted} sku(s) stocked, ${out.present} already had stock (${count} in the seed) in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
});
