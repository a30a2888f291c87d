// `node dist/services/catalog/seed.js [--count N]`: loads the deterministic seed catalog (10,000
// products by default) into DB_SECRET's database, applying pending migrations first. Idempotent:
// products and categories already present are left exactly as they are.
import { parseArgs } from 'node:util';
import { runDatabaseCommand } from '../kit/command.js';
import { migrations } from './migrations/index.js';
import { DEFAULT_SEED_COUNT, SEED_CATEGORIES } from './seed-data.js';
import { seedCatalog } from './seeder.js';

function parseCount(argv: string[]): number {
  const { values } = parseArgs({ args: argv, options: { count: { type: 'string' } }, strict: true });
  if (values.count === undefined) return DEFAULT_SEED_COUNT;
  const count = Number(values.count);
  if (!/^\d+$/.test(values.count) || count < 1 || count > 999_999) throw new Error(`--count must be a whole number from 1 to 999999, got ${JSON.stringify(values.count)}`);
  return count;
}

let count = DEFAULT_SEED_COUNT;
try {
  count = parseCount(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`saleday-catalog seed: ${(err as Error).message}\nusage: node dist/services/catalog/seed.js [--count N]\n`);
  process.exit(2);
}
await runDatabaseCommand({ service: 'catalog', name: 'seed', migrations }, async (db) => {
  const started = Date.now();
  const out = await seedCatalog(db, count, (done, total) => process.stdout.write(`  seeded ${done}/${total} products\n`));
  process.stdout.write(
    `catalog seed: ${out.inserted} product(s) inserted, ${out.present} already present (${count} in the seed, ${SEED_CATEGORIES.length} categories) in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
  );
});
