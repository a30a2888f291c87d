// The seed command from dist: the default loads at least 10,000 deterministic products across
// categories; a second run changes nothing; bad arguments and a missing secret give one line.
import t from 'tap';
import { DEFAULT_SEED_COUNT, SEED_CATEGORIES, seedProduct, skuFor } from '../../services/catalog/seed-data.js';
import { testDatabase } from '../helpers/mysql.js';
import { runCommand } from '../helpers/processes.js';
import { tablesChecksum } from '../helpers/bad-input.js';

const db = await testDatabase(t, 'catseed');
const env = { DB_SECRET: db.refs.db };

t.test('the seed generator is deterministic and follows the sku contract', (t) => {
  t.ok(DEFAULT_SEED_COUNT >= 10_000);
  t.equal(skuFor(1), 'SKU-000001');
  t.equal(skuFor(10_000), 'SKU-010000');
  t.same(seedProduct(42), seedProduct(42));
  t.not(seedProduct(42).name + seedProduct(42).priceCents, seedProduct(43).name + seedProduct(43).priceCents);
  const p = seedProduct(7);
  t.ok(Number.isInteger(p.priceCents) && p.priceCents > 0);
  t.ok(SEED_CATEGORIES.some((c) => c.slug === p.category));
  t.throws(() => skuFor(0));
  t.end();
});

t.test('seed loads the default catalog, and a second run changes nothing', async (t) => {
  const first = await runCommand('services/catalog/seed.js', [], env);
  t.equal(first.code, 0, first.stderr);
  t.match(first.stdout, /seeded 10000\/10000 products/);
  t.match(first.stdout, /10000 product\(s\) inserted, 0 already present/);
  const [[counts]] = (await db.sql.query('SELECT COUNT(*) AS products, COUNT(DISTINCT category) AS categories, MIN(sku) AS first, MAX(sku) AS last FROM products')) as unknown as [[Record<string, unknown>]];
  t.same(counts, { products: DEFAULT_SEED_COUNT, categories: SEED_CATEGORIES.length, first: 'SKU-000001', last: skuFor(DEFAULT_SEED_COUNT) });
  // What another process wrote is what this process generates.
  const [rows] = (await db.sql.query("SELECT sku, name, description, price_cents AS priceCents, currency, category, image_path AS imagePath FROM products WHERE sku IN ('SKU-000001', 'SKU-005000', 'SKU-010000') ORDER BY sku")) as unknown as [Array<Record<string, unknown>>];
  t.same(rows, [1, 5000, 10000].map((n) => {
    const { active: _active, ...rest } = seedProduct(n);
    return rest;
  }));

  const before = await tablesChecksum(db.sql, ['products', 'categories']);
  const second = await runCommand('services/catalog/seed.js', [], env);
  t.equal(second.code, 0, second.stderr);
  t.match(second.stdout, /0 product\(s\) inserted, 10000 already present/);
  t.equal(await tablesChecksum(db.sql, ['products', 'categories']), before, 'idempotent');

  const more = await runCommand('services/catalog/seed.js', ['--count', '10005'], env);
  t.match(more.stdout, /5 product\(s\) inserted, 10000 already present/);
});

t.test('bad arguments and a missing secret end in one line that says what to do', async (t) => {
  for (const args of [['--count', 'many'], ['--count', '0'], ['--colour', 'red']]) {
    const res = await runCommand('services/catalog/seed.js', args, env);
    t.equal(res.code, 2, args.join(' '));
    t.match(res.stderr, /usage: node dist\/services\/catalog\/seed.js \[--count N\]/);
    t.notMatch(res.stderr, /\n\s+at /, 'no stack trace');
  }
  const noSecret = await runCommand('services/catalog/seed.js', [], {});
  t.equal(noSecret.code, 1);
  t.match(noSecret.stderr, /DB_SECRET is not set/);
  t.notMatch(noSecret.stderr, /\n\s+at /);
});
