// The stored product page (services/catalog/product-page.ts): the page served is always the one
// rendered from the row's current columns. Writes through the API refresh it (new bytes, new
// ETag), a row changed behind the service's back is rendered from its columns until refreshed,
// and the migration gives existing rows their page.
import t from 'tap';
import { catalogService } from '../../services/catalog/service.js';
import { seedCatalog } from '../../services/catalog/seeder.js';
import { migrations } from '../../services/catalog/migrations/index.js';
import { refreshPages } from '../../services/catalog/product-page.js';
import { renderProduct, toProduct, type ProductRow } from '../../services/catalog/product.js';
import { migrateDown, migrateUp } from '../../services/kit/migrate.js';
import { testDatabase } from '../helpers/mysql.js';
import { startTestService } from '../helpers/service.js';
import { client } from '../helpers/http.js';
import { signToken } from '../helpers/tokens.js';

const db = await testDatabase(t, 'catpage');
const svc = await startTestService(t, catalogService, db, { CATALOG_CACHE_TTL_MS: '0' });
const api = client(svc.url);
const sequelize = svc.ctx.db.sequelize;
await seedCatalog(svc.ctx.db, 20);
const admin = await signToken(db, 'admin');

interface StoredRow {
  page: Buffer | null;
  etag: string | null;
  fresh: number | null;
}

async function stored(sku: string): Promise<StoredRow> {
  const [rows] = (await db.sql.query(
    `SELECT page, etag, page_src = CONCAT_WS(0x1f, name, description, price_cents, currency, category, image_path, active, updated_at) AS fresh
     FROM products WHERE sku = ?`,
    [sku],
  )) as unknown as [StoredRow[]];
  return rows[0]!;
}

/** The page as rendered from the row's columns right now (what the service answered before pages were stored). */
async function renderedFromColumns(sku: string): Promise<{ body: string; etag: string }> {
  const [rows] = (await db.sql.query(
    `SELECT sku, name, description, price_cents AS priceCents, currency, category, image_path AS imagePath, active,
       CONCAT(LEFT(DATE_FORMAT(updated_at, '%Y-%m-%dT%H:%i:%s.%f'), 23), 'Z') AS updatedAt FROM products WHERE sku = ?`,
    [sku],
  )) as unknown as [ProductRow[]];
  const r = renderProduct(toProduct(rows[0]!));
  return { body: r.body.toString(), etag: r.etag };
}

async function raw(path: string): Promise<{ status: number; body: string; etag: string | null }> {
  const res = await fetch(`${svc.url}${path}`);
  return { status: res.status, body: await res.text(), etag: res.headers.get('etag') };
}

t.test('the seed stores each page, and the page served is byte for byte the one rendered from the columns', async (t) => {
  for (const sku of ['SKU-000001', 'SKU-000007', 'SKU-000020']) {
    const row = await stored(sku);
    t.equal(row.fresh, 1, `${sku} has a current stored page`);
    const served = await raw(`/api/catalog/products/${sku}`);
    const expected = await renderedFromColumns(sku);
    t.equal(served.body, expected.body);
    t.equal(served.etag, expected.etag);
    t.equal(served.body, row.page!.toString(), 'served from the stored page');
    t.equal(served.etag, row.etag);
  }
});

t.test('an update through the API changes the stored page, the page served and its ETag', async (t) => {
  const before = await raw('/api/catalog/products/SKU-000003');
  const patched = await api.patch('/api/catalog/products/SKU-000003', { priceCents: 12345, name: 'Renamed “kettle” \\ ☕' }, { token: admin });
  t.equal(patched.status, 200);
  const after = await raw('/api/catalog/products/SKU-000003');
  t.not(after.etag, before.etag, 'a new ETag');
  t.equal(after.etag, patched.headers.get('etag'), 'the same ETag as the write answered');
  t.same(JSON.parse(after.body), patched.body, 'the same product as the write answered');
  t.equal(JSON.parse(after.body).priceCents, 12345);
  const row = await stored('SKU-000003');
  t.equal(row.fresh, 1, 'the stored page is current');
  t.equal(row.page!.toString(), after.body);
  t.equal(after.body, (await renderedFromColumns('SKU-000003')).body);

  const conditional = await fetch(`${svc.url}/api/catalog/products/SKU-000003`, { headers: { 'if-none-match': before.etag! } });
  t.equal(conditional.status, 200, 'the old ETag no longer matches');
  const revalidated = await fetch(`${svc.url}/api/catalog/products/SKU-000003`, { headers: { 'if-none-match': after.etag! } });
  t.equal(revalidated.status, 304);

  const deactivated = await api.post('/api/catalog/products/SKU-000003/deactivate', undefined, { token: admin });
  t.equal(deactivated.status, 200);
  const gone = await raw('/api/catalog/products/SKU-000003');
  t.equal(JSON.parse(gone.body).active, false);
  t.equal(gone.etag, deactivated.headers.get('etag'));
});

t.test('a product created through the API is served from its stored page', async (t) => {
  const created = await api.post('/api/catalog/products', {
    sku: 'PAGE-NEW-1', name: 'Flash-sale kettle ☕', description: 'Boils water.\nFast.', priceCents: 2999, currency: 'EUR', category: 'kitchen', imagePath: '/images/products/kettle.jpg',
  }, { token: admin });
  t.equal(created.status, 201);
  t.equal((await stored('PAGE-NEW-1')).fresh, 1);
  const served = await raw('/api/catalog/products/PAGE-NEW-1');
  t.equal(served.etag, created.headers.get('etag'));
  t.same(JSON.parse(served.body), created.body);
});

t.test('a row changed behind the service\'s back is served from its columns, never from the stale page', async (t) => {
  const before = await raw('/api/catalog/products/SKU-000005');
  // No updated_at change either: the comparison with the stored page's source still notices.
  await db.sql.query("UPDATE products SET price_cents = 1 WHERE sku = 'SKU-000005'");
  t.equal((await stored('SKU-000005')).fresh, 0, 'the stored page is stale');
  const after = await raw('/api/catalog/products/SKU-000005');
  t.equal(JSON.parse(after.body).priceCents, 1);
  t.not(after.etag, before.etag);
  t.same(after, { status: 200, ...(await renderedFromColumns('SKU-000005')) });

  t.equal(await refreshPages(sequelize), 1, 'a refresh renders only the stale page');
  t.equal((await stored('SKU-000005')).fresh, 1);
  t.same(await raw('/api/catalog/products/SKU-000005'), after, 'and the answer stays the same');
});

t.test('unknown skus stay 404 {code, message}', async (t) => {
  const res = await api.get('/api/catalog/products/SKU-999999');
  t.equal(res.status, 404);
  t.same(Object.keys(res.body), ['code', 'message']);
});

t.test('the migration gives existing rows their pages, and reverts cleanly', async (t) => {
  const expected = await raw('/api/catalog/products/SKU-000010');
  t.same(await migrateDown(sequelize, migrations, 1), ['0003-product-pages']);
  t.same(await migrateUp(sequelize, migrations), ['0003-product-pages']);
  t.equal((await stored('SKU-000010')).fresh, 1);
  t.same(await raw('/api/catalog/products/SKU-000010'), expected);
});
