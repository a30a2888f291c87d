// The catalog API against real MariaDB: product page (ETag, 304, 404), listing (keyset pages,
// filters, cursors), categories, and the admin writes with their error paths.
import t from 'tap';
import { catalogService } from '../../services/catalog/service.js';
import { seedCatalog } from '../../services/catalog/seeder.js';
import { seedProduct } from '../../services/catalog/seed-data.js';
import { testDatabase } from '../helpers/mysql.js';
import { startTestService } from '../helpers/service.js';
import { client } from '../helpers/http.js';
import { signToken } from '../helpers/tokens.js';

const db = await testDatabase(t, 'catapi');
const svc = await startTestService(t, catalogService, db);
const api = client(svc.url);
await seedCatalog(svc.ctx.db, 250);
const admin = await signToken(db, 'admin');
const customer = await signToken(db, 'customer');

/** The skus of a listing answer. */
const skusOf = (body: { items: Array<{ sku: string }> }): string[] => body.items.map((p) => p.sku);

const newProduct = (sku: string) => ({
  sku,
  name: 'Flash-sale kettle ☕',
  description: 'Boils water.\nFast.',
  priceCents: 2999,
  currency: 'EUR',
  category: 'kitchen',
  imagePath: '/images/products/kettle.jpg',
});

t.test('a product by sku: the contract shape, a strong ETag and CDN caching', async (t) => {
  const res = await api.get('/api/catalog/products/SKU-000001');
  t.equal(res.status, 200);
  const seed = seedProduct(1);
  t.same(Object.keys(res.body), ['sku', 'name', 'description', 'priceCents', 'currency', 'category', 'imagePath', 'active', 'updatedAt']);
  t.match(res.body, { ...seed, updatedAt: /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/ });
  t.ok(Number.isInteger(res.body.priceCents));
  const etag = res.headers.get('etag');
  t.match(etag, /^"[A-Za-z0-9_-]+"$/, 'strong ETag (no W/ prefix)');
  t.match(res.headers.get('cache-control'), /public/);
  t.match(res.headers.get('cache-control'), /max-age=\d+/);

  const again = await api.get('/api/catalog/products/SKU-000001');
  t.equal(again.headers.get('etag'), etag, 'same representation, same ETag');

  const notModified = await api.get('/api/catalog/products/SKU-000001', { headers: { 'if-none-match': etag! } });
  t.equal(notModified.status, 304);
  t.equal(notModified.text, '');
  t.equal(notModified.headers.get('etag'), etag);
  t.equal((await api.get('/api/catalog/products/SKU-000001', { headers: { 'if-none-match': `"other", ${etag}` } })).status, 304, 'one of a list');
  t.equal((await api.get('/api/catalog/products/SKU-000001', { headers: { 'if-none-match': '"stale"' } })).status, 200, 'a different ETag gets the body');
});

t.test('unknown and malformed skus are 404 {code, message}', async (t) => {
  for (const sku of ['SKU-999999', 'nope', "SKU-1'%20OR%20'1'='1", '%F0%9F%98%80', 'x'.repeat(200)]) {
    const res = await api.get(`/api/catalog/products/${sku}`);
    t.equal(res.status, 404, sku);
    t.equal(res.body.code, 'NOT_FOUND');
    t.type(res.body.message, 'string');
  }
});

t.test('listing: keyset pages in sku order cover every active product exactly once', async (t) => {
  const seen: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const res: Awaited<ReturnType<typeof api.get>> = await api.get(`/api/catalog/products?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    t.equal(res.status, 200);
    t.ok(res.body.items.length <= 100);
    seen.push(...skusOf(res.body));
    cursor = res.body.nextCursor;
    pages++;
  } while (cursor && pages < 10);
  t.equal(pages, 3);
  t.equal(seen.length, 250);
  t.same(seen, [...seen].sort(), 'stable sku order');
  t.equal(new Set(seen).size, 250, 'no duplicates');
});

t.test('listing and search: the product page\'s CDN caching, a strong ETag and 304', async (t) => {
  for (const path of ['/api/catalog/products?limit=5', '/api/catalog/products?category=kitchen&limit=3', `/api/catalog/products?q=${encodeURIComponent(seedProduct(7).name.split(' ').pop()!)}`]) {
    const res = await api.get(path);
    t.equal(res.status, 200, path);
    t.equal(res.headers.get('cache-control'), 'public, max-age=5, stale-while-revalidate=30', `${path}: as the product page`);
    const etag = res.headers.get('etag');
    t.match(etag, /^"[A-Za-z0-9_-]+"$/, `${path}: strong ETag (no W/ prefix)`);
    t.equal((await api.get(path)).headers.get('etag'), etag, `${path}: same answer, same ETag`);
    const notModified = await api.get(path, { headers: { 'if-none-match': `"other", W/${etag}` } });
    t.equal(notModified.status, 304, `${path}: If-None-Match (weak comparison) gets 304`);
    t.equal(notModified.headers.get('etag'), etag);
    t.equal(notModified.headers.get('cache-control'), 'public, max-age=5, stale-while-revalidate=30');
    t.equal((await api.get(path, { headers: { 'if-none-match': '"stale"' } })).status, 200, `${path}: a different ETag gets the body`);
  }
  const first = await api.get('/api/catalog/products?limit=5');
  const other = await api.get('/api/catalog/products?limit=6');
  t.not(other.headers.get('etag'), first.headers.get('etag'), 'another page, another ETag');
  const changed = await api.patch(`/api/catalog/products/${skusOf(first.body)[4]!}`, { priceCents: 4321 }, { token: admin });
  t.equal(changed.status, 200);
  const after = await api.get('/api/catalog/products?limit=5', { headers: { 'if-none-match': first.headers.get('etag')! } });
  t.equal(after.status, 200, 'a changed product changes the listing\'s ETag');
  t.equal(after.body.items[4].priceCents, 4321);
  t.equal((await api.get('/api/catalog/products?limit=0')).headers.get('cache-control'), null, 'refusals are not marked cacheable');
});

t.test('listing: limit defaults, is capped at 100, and refuses nonsense', async (t) => {
  t.equal((await api.get('/api/catalog/products')).body.items.length, 20);
  t.equal((await api.get('/api/catalog/products?limit=1000')).body.items.length, 100);
  for (const bad of ['limit=0', 'limit=-1', 'limit=abc', 'limit=1.5', 'limit=1&limit=2', 'color=red', 'category=Not%20A%20Slug', 'q=%00']) {
    const res = await api.get(`/api/catalog/products?${bad}`);
    t.equal(res.status, 400, bad);
    t.type(res.body.message, 'string');
  }
});

t.test('listing: category and q filters, and cursors bound to their filters', async (t) => {
  const kitchen = await api.get('/api/catalog/products?category=kitchen&limit=100');
  const expected = Array.from({ length: 250 }, (_, i) => seedProduct(i + 1)).filter((p) => p.category === 'kitchen');
  t.same(skusOf(kitchen.body), expected.map((p) => p.sku));

  const word = seedProduct(7).name.split(' ').pop()!;
  const found = await api.get(`/api/catalog/products?q=${encodeURIComponent(word.toUpperCase())}&limit=100`);
  t.ok(found.body.items.length > 0);
  t.ok((found.body.items as Array<{ name: string }>).every((p) => p.name.toLowerCase().includes(word.toLowerCase())), 'q matches names, ignoring case');
  t.same((await api.get('/api/catalog/products?q=%25')).body.items, [], 'LIKE wildcards are taken literally');
  t.same((await api.get(`/api/catalog/products?q=${encodeURIComponent("' OR '1'='1")}`)).body.items, []);

  const first = await api.get('/api/catalog/products?category=kitchen&limit=2');
  const cursor: string = first.body.nextCursor;
  t.type(cursor, 'string');
  const second = await api.get(`/api/catalog/products?category=kitchen&limit=2&cursor=${encodeURIComponent(cursor)}`);
  t.equal(second.status, 200);
  t.same(skusOf(second.body), expected.slice(2, 4).map((p) => p.sku));

  const elsewhere = await api.get(`/api/catalog/products?category=toys&limit=2&cursor=${encodeURIComponent(cursor)}`);
  t.equal(elsewhere.status, 400, 'a cursor is only good for the filters it came from');
  t.equal(elsewhere.body.code, 'INVALID_CURSOR');

  const [payload] = cursor.split('.');
  const decoded = JSON.parse(Buffer.from(payload!, 'base64url').toString());
  const forgedPayload = Buffer.from(JSON.stringify({ ...decoded, after: 'SKU-000200' })).toString('base64url');
  for (const forged of [`${forgedPayload}.${cursor.split('.')[1]}`, 'abc', `${cursor}x`, Buffer.from('{"after":"SKU-000001"}').toString('base64url')]) {
    const res = await api.get(`/api/catalog/products?category=kitchen&cursor=${encodeURIComponent(forged)}`);
    t.equal(res.status, 400, `forged cursor ${forged.slice(0, 20)}…`);
    t.equal(res.body.code, 'INVALID_CURSOR');
  }
});

t.test('categories', async (t) => {
  const res = await api.get('/api/catalog/categories');
  t.equal(res.status, 200);
  t.ok(res.body.items.length >= 10);
  t.match(res.body.items[0], { slug: String, name: String });

  t.equal((await api.post('/api/catalog/categories', { slug: 'flash', name: 'Flash sale' })).status, 401);
  t.equal((await api.post('/api/catalog/categories', { slug: 'flash', name: 'Flash sale' }, { token: customer })).status, 403);
  const created = await api.post('/api/catalog/categories', { slug: 'flash', name: 'Flash sale' }, { token: admin });
  t.equal(created.status, 201);
  t.same(created.body, { slug: 'flash', name: 'Flash sale' });
  const dup = await api.post('/api/catalog/categories', { slug: 'flash', name: 'Again' }, { token: admin });
  t.equal(dup.status, 409);
  t.equal(dup.body.code, 'CATEGORY_EXISTS');
  t.ok(((await api.get('/api/catalog/categories')).body.items as Array<{ slug: string }>).some((c) => c.slug === 'flash'));
});

t.test('admin writes need an admin token', async (t) => {
  const cases = [
    () => api.post('/api/catalog/products', newProduct('AUTH-1')),
    () => api.patch('/api/catalog/products/SKU-000001', { priceCents: 1 }),
    () => api.post('/api/catalog/products/SKU-000001/deactivate'),
  ];
  for (const call of cases) {
    const res = await call();
    t.equal(res.status, 401);
    t.equal(res.body.code, 'UNAUTHORIZED');
  }
  t.equal((await api.post('/api/catalog/products', newProduct('AUTH-1'), { token: customer })).status, 403);
  t.equal((await api.patch('/api/catalog/products/SKU-000001', { priceCents: 1 }, { token: customer })).status, 403);
  t.equal((await api.post('/api/catalog/products/SKU-000001/deactivate', undefined, { token: customer })).status, 403);
  t.equal((await api.post('/api/catalog/products', newProduct('AUTH-1'), { token: 'not.a.token' })).status, 401);
  t.equal((await api.get('/api/catalog/products/AUTH-1')).status, 404, 'nothing was created');
  t.equal((await api.get('/api/catalog/products/SKU-000001')).body.priceCents, seedProduct(1).priceCents, 'nothing was changed');
});

t.test('create, conflict, unknown category', async (t) => {
  t.equal((await api.get('/api/catalog/products/NEW-1')).status, 404, 'known missing first (and so cached as missing)');
  const created = await api.post('/api/catalog/products', newProduct('NEW-1'), { token: admin });
  t.equal(created.status, 201);
  t.match(created.body, { ...newProduct('NEW-1'), active: true });
  t.equal(created.headers.get('location'), '/api/catalog/products/NEW-1');
  const read = await api.get('/api/catalog/products/NEW-1');
  t.equal(read.status, 200, 'the creating instance sees it at once');
  t.same(read.body, created.body);
  t.equal(read.headers.get('etag'), created.headers.get('etag'), 'the ETag of the write answer matches the read');

  const dup = await api.post('/api/catalog/products', { ...newProduct('NEW-1'), name: 'other' }, { token: admin });
  t.equal(dup.status, 409);
  t.equal(dup.body.code, 'PRODUCT_EXISTS');
  t.equal((await api.get('/api/catalog/products/NEW-1')).body.name, newProduct('NEW-1').name);

  const orphan = await api.post('/api/catalog/products', { ...newProduct('NEW-2'), category: 'no-such-category' }, { token: admin });
  t.equal(orphan.status, 400);
  t.equal(orphan.body.code, 'UNKNOWN_CATEGORY');
  t.equal((await api.get('/api/catalog/products/NEW-2')).status, 404);

  const sqlName = await api.post('/api/catalog/products', { ...newProduct('NEW-3'), name: "x'); DROP TABLE products; --" }, { token: admin });
  t.equal(sqlName.status, 201, 'SQL-looking text is just text');
  t.equal((await api.get('/api/catalog/products/NEW-3')).body.name, "x'); DROP TABLE products; --");
});

t.test('update: the cache of this instance sees it at once, the ETag changes, If-Match guards it', async (t) => {
  const before = await api.get('/api/catalog/products/SKU-000002');
  const etag = before.headers.get('etag')!;
  const updated = await api.patch('/api/catalog/products/SKU-000002', { priceCents: 1234, name: 'Renamed' }, { token: admin, headers: { 'if-match': etag } });
  t.equal(updated.status, 200);
  t.match(updated.body, { sku: 'SKU-000002', priceCents: 1234, name: 'Renamed', description: before.body.description });
  const after = await api.get('/api/catalog/products/SKU-000002');
  t.same(after.body, updated.body);
  t.not(after.headers.get('etag'), etag);
  t.equal((await api.get('/api/catalog/products/SKU-000002', { headers: { 'if-none-match': etag } })).status, 200, 'the old ETag no longer matches');

  const stale = await api.patch('/api/catalog/products/SKU-000002', { priceCents: 1 }, { token: admin, headers: { 'if-match': etag } });
  t.equal(stale.status, 412);
  t.equal(stale.body.code, 'PRECONDITION_FAILED');
  t.equal((await api.get('/api/catalog/products/SKU-000002')).body.priceCents, 1234);

  const missing = await api.patch('/api/catalog/products/SKU-999999', { priceCents: 1 }, { token: admin });
  t.equal(missing.status, 404);
  const unknownCategory = await api.patch('/api/catalog/products/SKU-000002', { category: 'nowhere' }, { token: admin });
  t.equal(unknownCategory.status, 400);
  t.equal(unknownCategory.body.code, 'UNKNOWN_CATEGORY');
  const empty = await api.patch('/api/catalog/products/SKU-000002', {}, { token: admin });
  t.equal(empty.status, 400);
  const skuChange = await api.patch('/api/catalog/products/SKU-000002', { sku: 'SKU-777777' }, { token: admin });
  t.equal(skuChange.status, 400, 'the sku cannot be changed');
});

t.test('deactivate: still readable with active false, gone from the listing, idempotent', async (t) => {
  const res = await api.post('/api/catalog/products/SKU-000003/deactivate', undefined, { token: admin });
  t.equal(res.status, 200);
  t.equal(res.body.active, false);
  t.equal((await api.get('/api/catalog/products/SKU-000003')).body.active, false);
  const list = await api.get('/api/catalog/products?limit=5');
  t.notOk(skusOf(list.body).includes('SKU-000003'));
  t.equal((await api.post('/api/catalog/products/SKU-000003/deactivate', undefined, { token: admin })).status, 200);
  t.equal((await api.post('/api/catalog/products/SKU-999999/deactivate', undefined, { token: admin })).status, 404);
  const reactivated = await api.patch('/api/catalog/products/SKU-000003', { active: true }, { token: admin });
  t.equal(reactivated.body.active, true);
});
