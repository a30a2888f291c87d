// The gateway's cache of the catalog's public reads (localcloud/edge-cache.ts): hot reads are
// answered by HAProxy with at most one origin request per max-age window, nothing personal or
// outside the catalog's public reads is ever stored or answered from it, Cache-Control: no-cache
// is pure forwarding, and a write through the gateway is seen by the read that follows it. First
// against a catalog-like upstream that counts its requests, then against the real catalog service
// (admin PATCH, then GET). Needs Debian's haproxy and MariaDB.
import t from 'tap';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { EDGE_CACHE } from '../../localcloud/edge-cache.js';
import type { Gateway } from '../../localcloud/gateway.js';
import { catalogService } from '../../services/catalog/service.js';
import { seedCatalog } from '../../services/catalog/seeder.js';
import { PUBLIC_READ_CACHE_CONTROL, represent } from '../../services/catalog/representation.js';
import { testDatabase } from '../helpers/mysql.js';
import { startTestService } from '../helpers/service.js';
import { signToken } from '../helpers/tokens.js';
import { send, waitFor } from './fleet-harness.js';
import { gateway, get, healthy, register, upstream, type Upstream } from './gateway-harness.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A catalog-like answer: the body names the origin request it came from (`hit`), so a cached copy is recognisable. */
const publicRead =
  (u: () => Upstream, extra: Record<string, string> = {}, status = 200): Handler =>
  (req, res) => {
    const rep = represent({ url: req.url, hit: u().hits.length });
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(rep.body.length), etag: rep.etag, 'cache-control': PUBLIC_READ_CACHE_CONTROL, ...extra });
    res.end(rep.body);
  };

/** An upstream answering every path with `handler`, whatever its last segment. */
async function answering(name: string, handler: (u: () => Upstream) => Handler): Promise<Upstream> {
  const box: { u?: Upstream } = {};
  const h = handler(() => box.u!);
  box.u = await upstream(name, new Proxy<Record<string, Handler>>({}, { get: () => h }));
  return box.u;
}

/** A gateway routing the shop's four API services to catalog-like upstreams (each answering public reads). */
async function shopGateway() {
  const catalog = await answering('catalog', (u) => (req, res) => {
    const last = new URL(req.url ?? '/', 'http://x').pathname.split('/').pop();
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      return void res.end('{"written":true}');
    }
    if (last === 'missing') return publicRead(u, {}, 404)(req, res);
    if (last === 'private') return publicRead(u, { 'cache-control': 'private, max-age=5' })(req, res);
    if (last === 'cookie') return publicRead(u, { 'set-cookie': 'session=abc' })(req, res);
    publicRead(u)(req, res);
  });
  const others = { users: await answering('users', publicRead), orders: await answering('orders', publicRead), inventory: await answering('inventory', publicRead) };
  const g = await gateway();
  await g.setRoutes({ catalog: ['/api/catalog'], users: ['/api/users'], orders: ['/api/orders'], inventory: ['/api/inventory'] });
  register(g, 'catalog', catalog);
  for (const [service, u] of Object.entries(others)) register(g, service, u);
  for (const service of ['catalog', ...Object.keys(others)]) await healthy(g, service, 1);
  return { g, catalog, others };
}

/** Origin requests of `u` for exactly this URL. */
const originHits = (u: Upstream, url: string) => u.hits.filter((h) => h.url === url).length;

/** Polls until a GET of `path` is answered from the cache (HAProxy adds Age to those only). */
const cachedRead = (g: Gateway, path: string, headers: Record<string, string> = {}) =>
  waitFor(`${path} answered from the cache`, async () => {
    const r = await get(g, path, headers);
    return r.headers.has('age') ? r : undefined;
  }, 10_000);

t.test('the hot product page, listings and searches are answered from the cache, one origin request per max-age window', async (t) => {
  const { g, catalog } = await shopGateway();
  const page = '/api/catalog/products/SKU-000042';
  const origin = await get(g, page, { 'x-request-id': 'first' });
  t.equal(origin.status, 200);
  t.notOk(origin.headers.has('age'), 'the first read came from the origin');
  const hit = await cachedRead(g, page, { 'x-request-id': 'second' });
  const stored = await get(g, page, { 'x-request-id': 'third' });
  // (the entry may have just expired: then this one is the origin's answer, equally good)
  const fromCache = stored.headers.has('age') ? stored : hit;
  t.equal(fromCache.headers.get('etag'), represent(fromCache.json).etag, 'the ETag of the bytes the origin sent');
  t.equal(fromCache.headers.get('cache-control'), PUBLIC_READ_CACHE_CONTROL, "the origin's Cache-Control");
  t.equal(fromCache.headers.get('content-type'), 'application/json');
  t.ok(Number(fromCache.headers.get('age')) <= EDGE_CACHE.maxAgeSeconds, 'never older than max-age');
  t.equal(stored.headers.get('x-request-id'), 'third', "the requester's own request id, not the stored one");
  t.notOk(fromCache.headers.has('set-cookie'), 'no cookie');

  // A burst: every origin request starts a window of max-age; within it the cache answers.
  const before = originHits(catalog, page);
  const started = Date.now();
  let cached = 0;
  for (let i = 0; i < 50; i++) {
    const hitsBefore = originHits(catalog, page);
    const r = await get(g, page);
    t.equal(r.status, 200);
    if (r.headers.has('age')) {
      cached++;
      t.equal(originHits(catalog, page), hitsBefore, 'a cached answer did not reach the origin');
      t.ok(r.json.hit <= hitsBefore, 'and is a copy of an earlier origin answer');
    }
  }
  const windows = Math.ceil((Date.now() - started) / 1000 / EDGE_CACHE.maxAgeSeconds) + 1;
  const reached = originHits(catalog, page) - before;
  t.ok(reached <= windows, `at most one origin request per max-age window (${reached} in ${windows} windows)`);
  t.ok(cached >= 50 - windows, `the rest answered from the cache (${cached} of 50)`);

  // Listings and searches are cached too, each query string on its own.
  const five = await cachedRead(g, '/api/catalog/products?limit=5');
  const six = await cachedRead(g, '/api/catalog/products?limit=6');
  t.equal(five.json.url, '/api/catalog/products?limit=5');
  t.equal(six.json.url, '/api/catalog/products?limit=6', 'another query string is another entry');
  t.equal((await cachedRead(g, '/api/catalog/products?q=kettle')).json.url, '/api/catalog/products?q=kettle', 'a search');
  const head = await waitFor('a HEAD answered from the cache', async () => {
    await get(g, page); // HAProxy stores GET answers only
    const res = await fetch(`${g.url}${page}`, { method: 'HEAD' });
    return res.headers.has('age') ? res : undefined;
  }, 10_000);
  t.equal(head.status, 200, 'HEAD is answered from a stored GET');
  t.match(head.headers.get('etag'), /^"[A-Za-z0-9_-]+"$/, "with the stored answer's ETag");
  // A conditional request may be answered 304 by HAProxy from the stored ETag, or forwarded: either
  // way never a different representation.
  const etag = (await cachedRead(g, page)).headers.get('etag')!;
  const conditional = await send(g.url, 'GET', page, undefined, undefined, { 'if-none-match': etag });
  t.ok([200, 304].includes(conditional.status), `If-None-Match answered ${conditional.status}`);
});

t.test('never cached: Authorization, Cookie, other services, catalog paths outside the public reads, answers that are not a public 200', async (t) => {
  const { g, catalog, others } = await shopGateway();
  const twice = async (u: Upstream, path: string, headers: Record<string, string> = {}) => {
    const before = originHits(u, path);
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await get(g, path, headers));
    t.equal(originHits(u, path) - before, 3, `${path} ${JSON.stringify(headers)}: every read reached the origin`);
    t.notOk(answers.some((a) => a.headers.has('age')), `${path}: none answered from the cache`);
  };
  await twice(catalog, '/api/catalog/products/SKU-AUTH', { authorization: 'Bearer abc' });
  await twice(catalog, '/api/catalog/products/SKU-COOKIE', { cookie: 'session=abc' });
  // And not stored: the next anonymous read goes to the origin too.
  for (const path of ['/api/catalog/products/SKU-AUTH', '/api/catalog/products/SKU-COOKIE']) {
    const before = originHits(catalog, path);
    const r = await get(g, path);
    t.notOk(r.headers.has('age'), `${path}: the personal reads were not stored`);
    t.equal(originHits(catalog, path), before + 1);
  }
  await twice(others.users, '/api/users/me');
  await twice(others.orders, '/api/orders/123');
  await twice(others.inventory, '/api/inventory/stock/SKU-000001');
  await twice(catalog, '/api/catalog/categories');
  await twice(catalog, '/api/catalog/productsx');
  await twice(catalog, '/api/catalog/products/missing');
  await twice(catalog, '/api/catalog/products/private');
  await twice(catalog, '/api/catalog/products/cookie');
});

t.test('Cache-Control: no-cache and Pragma: no-cache are forwarded, and their answers not stored', async (t) => {
  const { g, catalog } = await shopGateway();
  const page = '/api/catalog/products/SKU-000007';
  await cachedRead(g, page);
  for (const headers of [{ 'cache-control': 'no-cache' }, { pragma: 'no-cache' }] as Array<Record<string, string>>) {
    const before = originHits(catalog, page);
    const fresh = await get(g, page, headers);
    t.notOk(fresh.headers.has('age'), `${JSON.stringify(headers)}: not from the cache`);
    t.equal(originHits(catalog, page), before + 1, 'it reached the origin');
    const next = await get(g, page);
    t.not(next.json.hit, fresh.json.hit, 'its answer was not stored');
  }
});

t.test('a write through the gateway makes the following reads bypass the cache for a while', async (t) => {
  const { g, catalog } = await shopGateway();
  const page = '/api/catalog/products/SKU-000003';
  await cachedRead(g, page);
  // A browser's preflight is not a write: the cache keeps answering.
  await get(g, page, { origin: 'http://shop.example', 'access-control-request-method': 'PATCH' }, 'OPTIONS');
  t.ok((await get(g, page)).headers.has('age'), 'an OPTIONS request does not start the bypass');
  t.equal((await get(g, '/api/catalog/products/SKU-000003', { 'content-type': 'application/json' }, 'PATCH', '{"priceCents":5}')).status, 200);
  for (let i = 0; i < 3; i++) {
    const before = originHits(catalog, page);
    const r = await get(g, page);
    t.notOk(r.headers.has('age'), 'not from the cache right after a write');
    t.equal(originHits(catalog, page), before + 1, 'every read reaches the origin');
  }
  const writtenAt = Date.now();
  await cachedRead(g, page);
  t.ok(Date.now() - writtenAt < EDGE_CACHE.writeBypassMs + 5000, 'the cache is used again once the bypass window is over');
});

t.test('the real catalog: an admin price change through the gateway is seen by the next read, with a new ETag', async (t) => {
  const db = await testDatabase(t, 'gwcache');
  const svc = await startTestService(t, catalogService, db);
  await seedCatalog(svc.ctx.db, 20);
  const admin = await signToken(db, 'admin');
  const g = await gateway();
  await g.setRoutes({ catalog: ['/api/catalog'] });
  g.addTarget({ id: 'catalog-1', service: 'catalog', host: '127.0.0.1', port: svc.port, onHealth: () => undefined });
  await healthy(g, 'catalog', 1);
  const page = '/api/catalog/products/SKU-000005';

  const cached = await cachedRead(g, page);
  const direct = await fetch(`${svc.url}${page}`);
  t.equal(cached.headers.get('etag'), direct.headers.get('etag'), "the cached answer carries the origin's ETag");
  t.equal(cached.headers.get('cache-control'), direct.headers.get('cache-control'), "and its Cache-Control");
  t.same(cached.json, await direct.json(), 'and its body');
  const ignored = new Set(['age', 'date', 'x-request-id', 'connection', 'keep-alive']);
  const names = (h: Headers) => [...h.keys()].filter((k) => !ignored.has(k)).sort();
  t.same(names(cached.headers), names(direct.headers), 'no header the origin did not send');

  const price = (cached.json.priceCents as number) + 111;
  const patched = await get(g, page, { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, 'PATCH', JSON.stringify({ priceCents: price }));
  t.equal(patched.status, 200, patched.text);
  // Right after the write, and on the reads that follow it (which the cache would answer without
  // the write's bypass, whatever the old entry's age).
  for (let i = 0; i < 3; i++) {
    const after = await get(g, page);
    t.equal(after.status, 200);
    t.equal(after.json.priceCents, price, 'a read right after the write has the new price');
    t.not(after.headers.get('etag'), cached.headers.get('etag'), 'and a new ETag');
    t.notOk(after.headers.has('age'), 'from the origin');
  }
  const listing = await get(g, '/api/catalog/products?limit=20');
  t.equal((listing.json.items as Array<{ sku: string; priceCents: number }>).find((p) => p.sku === 'SKU-000005')?.priceCents, price, 'listings too');
});
