// A fake of the shop's HTTP API (the paths of the users, catalog, orders and inventory services)
// for testing journeys: tokens, cursors, idempotency keys and stock behave like the real thing,
// and everything the harness sent is kept for the test to inspect. `oversell` makes it sell
// stock it does not have, for the oversell check to catch. `tokenTtlSeconds` makes access tokens
// expire (401 after), `refreshTokens` adds a refresh token to login's answer and
// POST /api/users/refresh (each refresh token is spent when used), as the users service does.
// `unansweredCheckouts` places orders whose answer never reaches the harness (a proxy's 504, a
// dropped connection), as a checkout that times out at the gateway and completes behind it.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { skuName } from '../../loadtest/lib/feeders/index.js';
import { json, startServer, type TestTap } from './helpers.js';

export interface FakeShopOptions {
  products?: number;
  /** stock per sku; skus not listed have `defaultStock` */
  stock?: Record<string, number>;
  defaultStock?: number;
  oversell?: boolean;
  tokenTtlSeconds?: number;
  refreshTokens?: boolean;
  /** the first N checkouts that sell are placed but their answer is lost: a 504, or the connection dropped (alternately) */
  unansweredCheckouts?: number;
}

export interface FakeShop {
  url: string;
  users: Map<string, { id: string; password: string; name: string }>;
  stock: Map<string, number>;
  orders: Map<string, { id: string; owner: string; items: Array<{ sku: string; qty: number }> }>;
  idempotencyKeys: string[];
  productViews: string[];
  orderReads: string[];
  hits: Map<string, number>;
  /** requests refused for an expired or unknown access token, and refreshes with a spent or unknown token */
  expiredTokens: number;
  spentRefreshes: number;
}

export async function startFakeShop(t: TestTap, opts: FakeShopOptions = {}): Promise<FakeShop> {
  const products = Array.from({ length: opts.products ?? 100 }, (_, i) => skuName(i + 1));
  const shop: Omit<FakeShop, 'url'> = {
    users: new Map(),
    stock: new Map(products.map((s) => [s, opts.stock?.[s] ?? opts.defaultStock ?? 1000])),
    orders: new Map(),
    idempotencyKeys: [],
    productViews: [],
    orderReads: [],
    hits: new Map(),
    expiredTokens: 0,
    spentRefreshes: 0,
  };
  const byKey = new Map<string, string>();
  let lost = 0;
  // With a lifetime, tokens are tok-<id>.<n>, each known until it expires.
  const tokens = new Map<string, { id: string; expiresAt: number }>();
  const refreshTokens = new Map<string, string>();
  let issued = 0;
  const issue = (id: string): Record<string, unknown> => {
    if (!opts.tokenTtlSeconds) return { token: `tok-${id}`, expiresIn: 900 };
    const token = `tok-${id}.${++issued}`;
    tokens.set(token, { id, expiresAt: Date.now() + opts.tokenTtlSeconds * 1000 });
    const answer: Record<string, unknown> = { token, expiresIn: opts.tokenTtlSeconds };
    if (opts.refreshTokens) {
      const refresh = `ref-${randomUUID()}`;
      refreshTokens.set(refresh, id);
      answer.refreshToken = refresh;
    }
    return answer;
  };
  const userOf = (req: IncomingMessage): string | undefined => {
    const auth = req.headers.authorization ?? '';
    if (opts.tokenTtlSeconds) {
      const known = tokens.get(auth.replace(/^Bearer /, ''));
      if (known && known.expiresAt > Date.now()) return known.id;
      shop.expiredTokens++;
      return undefined;
    }
    const m = /^Bearer tok-(.+)$/.exec(auth);
    return m && [...shop.users.values()].some((u) => u.id === m[1]) ? m[1] : undefined;
  };
  const handler = (req: IncomingMessage, res: ServerResponse, raw: string): void => {
    const url = new URL(req.url ?? '/', 'http://shop');
    const route = `${req.method} ${url.pathname.replace(/SKU-\d+/, ':sku').replace(/\/orders\/[\w-]+$/, '/orders/:id')}`;
    shop.hits.set(route, (shop.hits.get(route) ?? 0) + 1);
    let body: Record<string, unknown> = {};
    if (raw) {
      try {
        body = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        return json(res, 400, { code: 'MALFORMED_JSON', message: 'body is not JSON' });
      }
    }
    const path = url.pathname;
    if (req.method === 'POST' && path === '/api/users/register') {
      const { email, password, name } = body as Record<string, string>;
      if (!email || !password || !name) return json(res, 400, { code: 'VALIDATION_FAILED', message: 'email, password and name are required' });
      if (shop.users.has(email)) return json(res, 409, { code: 'EMAIL_TAKEN', message: 'taken' });
      const id = String(shop.users.size + 1);
      shop.users.set(email, { id, password, name });
      return json(res, 201, { id, email, name });
    }
    if (req.method === 'POST' && path === '/api/users/login') {
      const u = shop.users.get(String(body.email));
      if (!u || u.password !== body.password) return json(res, 401, { code: 'UNAUTHORIZED', message: 'wrong email or password' });
      return json(res, 200, issue(u.id));
    }
    if (req.method === 'POST' && path === '/api/users/refresh' && opts.refreshTokens) {
      const id = refreshTokens.get(String(body.refreshToken));
      if (!id) {
        shop.spentRefreshes++;
        return json(res, 401, { code: 'UNAUTHORIZED', message: 'refresh token spent or unknown' });
      }
      refreshTokens.delete(String(body.refreshToken));
      return json(res, 200, issue(id));
    }
    if (req.method === 'GET' && path === '/api/users/me') {
      const id = userOf(req);
      return id ? json(res, 200, { id }) : json(res, 401, { code: 'UNAUTHORIZED', message: 'token required' });
    }
    if (req.method === 'GET' && path === '/api/catalog/products') {
      const limit = Math.min(100, Number(url.searchParams.get('limit') ?? 20));
      const from = Number(url.searchParams.get('cursor') ?? 0);
      const items = products.slice(from, from + limit).map((sku) => ({ sku, name: `Product ${sku}` }));
      return json(res, 200, { items, nextCursor: from + limit < products.length ? String(from + limit) : null });
    }
    const product = /^\/api\/catalog\/products\/([^/]+)$/.exec(path);
    if (req.method === 'GET' && product) {
      const sku = decodeURIComponent(product[1]!);
      shop.productViews.push(sku);
      return products.includes(sku) ? json(res, 200, { sku, priceCents: 999, currency: 'EUR' }) : json(res, 404, { code: 'NOT_FOUND', message: 'no such product' });
    }
    if (req.method === 'POST' && path === '/api/orders') {
      const owner = userOf(req);
      if (!owner) return json(res, 401, { code: 'UNAUTHORIZED', message: 'token required' });
      const key = req.headers['idempotency-key'];
      if (typeof key !== 'string' || !key) return json(res, 400, { code: 'VALIDATION_FAILED', message: 'Idempotency-Key required' });
      shop.idempotencyKeys.push(key);
      const known = byKey.get(key);
      if (known) return json(res, 201, shop.orders.get(known));
      const items = (body.items ?? []) as Array<{ sku: string; qty: number }>;
      const short = items.filter((i) => (shop.stock.get(i.sku) ?? 0) < i.qty);
      if (short.length && !opts.oversell) return json(res, 409, { code: 'OUT_OF_STOCK', message: 'out of stock', items: short });
      for (const i of items) shop.stock.set(i.sku, (shop.stock.get(i.sku) ?? 0) - i.qty - (opts.oversell ? 1 : 0));
      const order = { id: randomUUID(), owner, items };
      shop.orders.set(order.id, order);
      byKey.set(key, order.id);
      if (lost < (opts.unansweredCheckouts ?? 0)) {
        lost++;
        if (lost % 2 === 1) return json(res, 504, { code: 'UPSTREAM_TIMEOUT', message: 'no answer in time' });
        req.socket.destroy();
        return;
      }
      return json(res, 201, order);
    }
    const order = /^\/api\/orders\/([\w-]+)$/.exec(path);
    if (req.method === 'GET' && order) {
      shop.orderReads.push(order[1]!);
      const o = shop.orders.get(order[1]!);
      return o && o.owner === userOf(req) ? json(res, 200, o) : json(res, 404, { code: 'NOT_FOUND', message: 'no such order' });
    }
    const stock = /^\/api\/inventory\/stock\/([^/]+)$/.exec(path);
    if (req.method === 'GET' && stock) {
      const sku = decodeURIComponent(stock[1]!);
      return shop.stock.has(sku) ? json(res, 200, { sku, available: shop.stock.get(sku) }) : json(res, 404, { code: 'NOT_FOUND', message: 'no such sku' });
    }
    return json(res, 404, { code: 'NOT_FOUND', message: `${req.method} ${path}` });
  };
  const { url } = await startServer(t, handler);
  return { url, ...shop };
}

/** A profile with the shop's journeys, in the shape of the shipped ones, at a test's scale. */
export function shopProfile(opts: { name?: string; phases: string; users?: number; hot?: number; share?: string; thresholds?: string; maxInFlight?: number; extra?: string }): string {
  return `
name: ${opts.name ?? 'fake-shop'}
seed: 5
maxInFlight: ${opts.maxInFlight ?? 32}
drain: 10s
phases:
${opts.phases}
feeders:
  user: { type: users, count: ${opts.users ?? 10}, prefix: test }
  product: { type: skus, count: 100, hot: { count: ${opts.hot ?? 2}, share: ${opts.share ?? '80%'} } }
  term: { type: values, values: [chair, lamp] }
setup:
  - { journey: register-user, each: user, rate: 50 }
journeys:
  - name: browse
    weight: 60
    steps:
      - name: list
        request: GET /api/catalog/products?limit=20
        capture: { cursor: nextCursor }
      - name: page
        request: GET /api/catalog/products?limit=20&cursor={{cursor}}
        capture: { sku: "items[*].sku" }
      - name: view
        request: GET /api/catalog/products/{{sku}}
  - name: search
    weight: 15
    steps:
      - request: GET /api/catalog/products?q={{term.value}}&limit=5
        capture: { sku: "items[0].sku" }
      - request: GET /api/catalog/products/{{sku}}
  - name: buyer
    weight: 20
    steps:
      - name: login
        request: POST /api/users/login
        json: { email: "{{user.email}}", password: "{{user.password}}" }
        capture: { token: token }
      - name: view
        request: GET /api/catalog/products/{{product.sku}}
      - name: checkout
        request: POST /api/orders
        headers: { Authorization: "Bearer {{token}}", Idempotency-Key: "{{uuid}}" }
        json: { items: [{ sku: "{{product.sku}}", qty: 1 }] }
        expect: [201, 409]
        sale: true
        capture: { orderId: id }
      - name: order
        request: GET /api/orders/{{orderId}}
        headers: { Authorization: "Bearer {{token}}" }
  - name: newcomer
    weight: 5
    steps:
      - request: POST /api/users/register
        json: { email: "new-{{run}}-{{n}}@loadtest.saleday.test", password: "Nw-{{uuid}}-Aa1!", name: "Newcomer {{n}}" }
        expect: [201]
      - request: POST /api/users/login
        json: { email: "new-{{run}}-{{n}}@loadtest.saleday.test", password: "Nw-{{uuid}}-Aa1!" }
        capture: { token: token }
      - request: GET /api/users/me
        headers: { Authorization: "Bearer {{token}}" }
  - name: register-user
    weight: 0
    steps:
      - request: POST /api/users/register
        json: { email: "{{user.email}}", password: "{{user.password}}", name: "{{user.name}}" }
        expect: [201, 409]
thresholds:
${opts.thresholds ?? '  - { metric: errorRate, max: 0% }\n  - { metric: oversell }'}
${opts.extra ?? ''}
`;
}
