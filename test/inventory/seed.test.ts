// The inventory seed command from dist: it stocks exactly the catalog seed's skus, the same units
// every time, with an audit row each; a second run changes nothing; bad arguments give one line.
import t from 'tap';
import { DEFAULT_SEED_COUNT, skuFor } from '../../services/catalog/seed-data.js';
import { seedUnits } from '../../services/inventory/stock-seeder.js';
import { testDatabase } from '../helpers/mysql.js';
import { runCommand } from '../helpers/processes.js';
import { unbalancedSkus } from '../helpers/inventory.js';

const db = await testDatabase(t, 'invseed');
const env = { DB_SECRET: db.refs.db };

t.test('the seed stocks the catalog seed skus, and a second run changes nothing', async (t) => {
  const first = await runCommand('services/inventory/seed.js', [], env);
  t.equal(first.code, 0, first.stderr);
  t.match(first.stdout, new RegExp(`stocked ${DEFAULT_SEED_COUNT}/${DEFAULT_SEED_COUNT} skus`));
  t.match(first.stdout, new RegExp(`${DEFAULT_SEED_COUNT} sku\\(s\\) stocked, 0 already had stock`));
  const [[summary]] = (await db.sql.query('SELECT COUNT(*) AS n, MIN(sku) AS first, MAX(sku) AS last, SUM(reserved) AS reserved FROM stock')) as unknown as [[Record<string, unknown>]];
  t.same(summary, { n: DEFAULT_SEED_COUNT, first: skuFor(1), last: skuFor(DEFAULT_SEED_COUNT), reserved: '0' });
  const [rows] = (await db.sql.query("SELECT sku, on_hand FROM stock WHERE sku IN ('SKU-000001', 'SKU-000777', 'SKU-010000') ORDER BY sku")) as unknown as [Array<Record<string, unknown>>];
  t.same(rows, [1, 777, 10_000].map((n) => ({ sku: skuFor(n), on_hand: seedUnits(n) })));
  t.same(await unbalancedSkus(db.sql), [], 'one audit row per stocked sku');

  await db.sql.query("UPDATE stock SET on_hand = 5 WHERE sku = 'SKU-000002'");
  const second = await runCommand('services/inventory/seed.js', [], env);
  t.equal(second.code, 0, second.stderr);
  t.match(second.stdout, new RegExp(`0 sku\\(s\\) stocked, ${DEFAULT_SEED_COUNT} already had stock`));
  const [[kept]] = (await db.sql.query("SELECT on_hand FROM stock WHERE sku = 'SKU-000002'")) as unknown as [[Record<string, unknown>]];
  t.equal(kept.on_hand, 5, 'existing stock is left as it is');
});

t.test('--count and --units', async (t) => {
  const db2 = await testDatabase(t, 'invseed2');
  const out = await runCommand('services/inventory/seed.js', ['--count', '30', '--units', '50'], { DB_SECRET: db2.refs.db });
  t.equal(out.code, 0, out.stderr);
  const [[summary]] = (await db2.sql.query('SELECT COUNT(*) AS n, MIN(on_hand) AS lo, MAX(on_hand) AS hi FROM stock')) as unknown as [[Record<string, unknown>]];
  t.same(summary, { n: 30, lo: 50, hi: 50 });
});

t.test('bad arguments and a missing secret give one line and change nothing', async (t) => {
  for (const args of [['--count', '0'], ['--count', 'ten'], ['--units', '-1'], ['--bogus']]) {
    const out = await runCommand('services/inventory/seed.js', args, env);
    t.equal(out.code, 2, `${args.join(' ')}: exit 2`);
    t.match(out.stderr, /^saleday-inventory seed: .+\nusage: /);
    t.notMatch(out.stderr, /\n\s+at /, 'no stack trace');
  }
  const missing = await runCommand('services/inventory/seed.js', [], {});
  t.equal(missing.code, 1);
  t.match(missing.stderr, /DB_SECRET is not set/);
});
