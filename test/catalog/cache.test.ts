// The hot-product cache: concurrent misses share one load, entries live for the TTL, writes in this
// process invalidate them (even mid-load), and a TTL of 0 turns it off. Then the same through the
// real service: within the TTL a product page is answered without reading the database.
import t from 'tap';
import { ProductCache } from '../../services/catalog/product-cache.js';
import { renderProduct, type RenderedProduct } from '../../services/catalog/product.js';
import { catalogService } from '../../services/catalog/service.js';
import { seedCatalog } from '../../services/catalog/seeder.js';
import { testDatabase } from '../helpers/mysql.js';
import { startTestService } from '../helpers/service.js';
import { client } from '../helpers/http.js';
import { signToken } from '../helpers/tokens.js';

const rendered = (sku: string, priceCents: number): RenderedProduct =>
  renderProduct({ sku, name: 'n', description: '', priceCents, currency: 'EUR', category: 'c', imagePath: '/i.jpg', active: true, updatedAt: new Date(0).toISOString() });

/** A loader whose loads are released by hand, counting how often it ran. */
function gatedLoader() {
  const pending: Array<() => void> = [];
  let price = 100;
  const loader = {
    calls: 0,
    setPrice: (p: number) => (price = p),
    release: () => pending.splice(0).forEach((go) => go()),
    waiting: () => pending.length,
    load: (sku: string) => {
      loader.calls++;
      const at = price;
      return new Promise<RenderedProduct | undefined>((resolve) => pending.push(() => resolve(sku === 'MISSING' ? undefined : rendered(sku, at))));
    },
  };
  return loader;
}

t.test('concurrent misses for one sku share a single load', async (t) => {
  const loader = gatedLoader();
  const cache = new ProductCache(loader.load, { ttlMs: 60_000, maxEntries: 100 });
  const all = Promise.all(Array.from({ length: 50 }, () => cache.get('SKU-1')));
  const other = cache.get('SKU-2');
  t.equal(loader.calls, 2, 'one load per sku');
  loader.release();
  const results = await all;
  t.ok(results.every((r) => r?.product.priceCents === 100));
  t.equal((await other)?.product.sku, 'SKU-2');
  t.equal(cache.peek('SKU-1')?.product.priceCents, 100, 'then served from memory');
  await cache.get('SKU-1');
  t.equal(loader.calls, 2);
});

t.test('a missing product is cached as missing', async (t) => {
  const loader = gatedLoader();
  const cache = new ProductCache(loader.load, { ttlMs: 60_000, maxEntries: 100 });
  const miss = cache.get('MISSING');
  loader.release();
  t.equal(await miss, undefined);
  t.equal(cache.peek('MISSING'), null);
  t.equal(await cache.get('MISSING'), undefined);
  t.equal(loader.calls, 1);
});

t.test('an invalidation during a load keeps the loaded value out of the cache', async (t) => {
  const loader = gatedLoader();
  const cache = new ProductCache(loader.load, { ttlMs: 60_000, maxEntries: 100 });
  const reader = cache.get('SKU-1');
  loader.setPrice(200); // the write happens while the first load is on its way
  cache.invalidate('SKU-1');
  // The reader reads again rather than trusting the load that raced the write.
  while (loader.waiting() < 2) await new Promise((r) => setImmediate(r));
  loader.release();
  t.equal((await reader)?.product.priceCents, 200);
  t.equal(cache.peek('SKU-1'), undefined, 'the raced load was not cached');
});

t.test('entries expire after the TTL', async (t) => {
  const loader = gatedLoader();
  const cache = new ProductCache(loader.load, { ttlMs: 30, maxEntries: 100 });
  const first = cache.get('SKU-1');
  loader.release();
  await first;
  t.ok(cache.peek('SKU-1'));
  while (cache.peek('SKU-1')) await new Promise((r) => setTimeout(r, 5));
  loader.setPrice(300);
  const second = cache.get('SKU-1');
  loader.release();
  t.equal((await second)?.product.priceCents, 300);
  t.equal(loader.calls, 2);
});

t.test('a TTL of 0 turns the cache off', async (t) => {
  const loader = gatedLoader();
  const cache = new ProductCache(loader.load, { ttlMs: 0, maxEntries: 100 });
  t.equal(cache.enabled, false);
  const a = cache.get('SKU-1');
  const b = cache.get('SKU-1');
  loader.release();
  await Promise.all([a, b]);
  t.equal(loader.calls, 2);
  t.equal(cache.peek('SKU-1'), undefined);
});

t.test('load failures reach the caller and are not cached', async (t) => {
  let fail = true;
  const cache = new ProductCache((sku) => (fail ? Promise.reject(new Error('database down')) : Promise.resolve(rendered(sku, 1))), { ttlMs: 60_000, maxEntries: 100 });
  await t.rejects(cache.get('SKU-1'), /database down/);
  fail = false;
  t.equal((await cache.get('SKU-1'))?.product.priceCents, 1);
});

t.test('through the service: within the TTL a product page does not read the database', async (t) => {
  const db = await testDatabase(t, 'catcache');
  const cached = await startTestService(t, catalogService, db, { CATALOG_CACHE_TTL_MS: '600000' });
  const uncached = await startTestService(t, catalogService, db, { CATALOG_CACHE_TTL_MS: '0', MIGRATE_ON_START: 'false' });
  await seedCatalog(cached.ctx.db, 5);
  const hot = client(cached.url);
  const cold = client(uncached.url);
  const admin = await signToken(db, 'admin');

  const first = await hot.get('/api/catalog/products/SKU-000001');
  t.equal(first.status, 200);
  // Change the row behind the service's back: the cached instance keeps answering from memory.
  await db.sql.query("UPDATE products SET price_cents = 1, updated_at = UTC_TIMESTAMP(3) WHERE sku = 'SKU-000001'");
  const views = await Promise.all(Array.from({ length: 20 }, () => hot.get('/api/catalog/products/SKU-000001')));
  t.ok(views.every((v) => v.status === 200 && v.body.priceCents === first.body.priceCents && v.headers.get('etag') === first.headers.get('etag')), 'answered from memory, ETag unchanged');
  const fresh = await cold.get('/api/catalog/products/SKU-000001');
  t.equal(fresh.body.priceCents, 1, 'with the cache off every view reads the database');
  t.not(fresh.headers.get('etag'), first.headers.get('etag'), 'and the ETag follows the content');

  // A write through the cached instance invalidates its entry at once.
  const patched = await hot.patch('/api/catalog/products/SKU-000001', { priceCents: 777 }, { token: admin });
  t.equal(patched.status, 200);
  const after = await hot.get('/api/catalog/products/SKU-000001');
  t.equal(after.body.priceCents, 777);
  t.equal(after.headers.get('etag'), patched.headers.get('etag'));
});

t.test('through the service: the cache catches up with other writers after the TTL', async (t) => {
  const db = await testDatabase(t, 'catttl');
  const svc = await startTestService(t, catalogService, db, { CATALOG_CACHE_TTL_MS: '200' });
  await seedCatalog(svc.ctx.db, 3);
  const api = client(svc.url);
  const before = await api.get('/api/catalog/products/SKU-000002');
  await db.sql.query("UPDATE products SET price_cents = 5, updated_at = UTC_TIMESTAMP(3) WHERE sku = 'SKU-000002'");
  let latest = before;
  for (let i = 0; i < 200 && latest.body.priceCents !== 5; i++) {
    await new Promise((r) => setTimeout(r, 20));
    latest = await api.get('/api/catalog/products/SKU-000002');
  }
  t.equal(latest.body.priceCents, 5);
  t.not(latest.headers.get('etag'), before.headers.get('etag'));
});
