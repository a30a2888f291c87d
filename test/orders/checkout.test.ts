// The checkout over HTTP with real catalog, inventory and orders services on real MariaDB:
// an order priced from the catalog at order time, idempotency under retries and 20 parallel
// requests (acceptance 3), listing and reading, cancelling (stock comes back), and a customer
// kept away from other customers' orders (acceptance 5).
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { rows, startTestShop } from '../helpers/shop.js';
import { client } from '../helpers/http.js';
import { unbalancedSkus } from '../helpers/inventory.js';

const shop = await startTestShop(t);
const api = shop.api;
const catalogApi = client(shop.catalog.url);
const alice = await shop.customer('alice');
const bob = await shop.customer('bob');
await shop.addProduct('KETTLE-1', 2999, 10);
await shop.addProduct('MUG-1', 450, 100);

const order = (token: string, items: unknown, key: string = randomUUID()) =>
  api.post('/api/orders', { items }, { token, headers: { 'idempotency-key': key } });

interface OrderJson { id: string; customerId: string; lines: unknown[] }
const itemsOf = (body: any): OrderJson[] => body.items as OrderJson[];

async function reservationsIn(status?: string): Promise<number> {
  const [r] = await rows(shop.dbs.inventory.sql, `SELECT COUNT(*) AS n FROM reservations ${status ? 'WHERE status = ?' : ''}`, status ? [status] : []);
  return Number(r!.n);
}

t.test('an order is priced from the catalog, confirmed, and its stock sold', async (t) => {
  const res = await order(alice, [{ sku: 'KETTLE-1', qty: 2 }, { sku: 'MUG-1', qty: 3 }]);
  t.equal(res.status, 201, res.text);
  t.match(res.body, {
    id: /^[0-9a-f-]{36}$/,
    customerId: 'alice',
    status: 'CONFIRMED',
    currency: 'EUR',
    totalCents: 2 * 2999 + 3 * 450,
    lines: [
      { sku: 'KETTLE-1', name: 'Product KETTLE-1', qty: 2, unitPriceCents: 2999, lineTotalCents: 5998 },
      { sku: 'MUG-1', name: 'Product MUG-1', qty: 3, unitPriceCents: 450, lineTotalCents: 1350 },
    ],
    confirmedAt: /Z$/,
    cancelledAt: null,
  });
  t.equal(res.headers.get('location'), `/api/orders/${res.body.id}`);
  t.notOk('reservationId' in res.body, 'internal reservation id stays inside');
  t.same(await shop.stock('KETTLE-1'), { sku: 'KETTLE-1', onHand: 8, reserved: 0, available: 8 });
  t.same(await shop.stock('MUG-1'), { sku: 'MUG-1', onHand: 97, reserved: 0, available: 97 });

  // A later price change does not touch the order: prices are taken at order time.
  const admin = await shop.admin();
  const patched = await catalogApi.patch('/api/catalog/products/KETTLE-1', { priceCents: 3999 }, { token: admin });
  t.equal(patched.status, 200);
  const again = await api.get(`/api/orders/${res.body.id}`, { token: alice });
  t.equal(again.body.lines[0].unitPriceCents, 2999);
  await catalogApi.patch('/api/catalog/products/KETTLE-1', { priceCents: 2999 }, { token: admin });
});

t.test('the same Idempotency-Key and basket: the same order, one reservation', async (t) => {
  const key = randomUUID();
  const before = await reservationsIn();
  const first = await order(alice, [{ sku: 'MUG-1', qty: 1 }], key);
  t.equal(first.status, 201);
  const retry = await order(alice, [{ sku: 'MUG-1', qty: 1 }], key);
  t.equal(retry.status, 201);
  t.equal(retry.body.id, first.body.id, 'the same order');
  t.equal(retry.headers.get('idempotent-replayed'), 'true');
  t.same(retry.body, first.body);
  t.equal(await reservationsIn(), before + 1, 'one reservation');
  const other = await order(alice, [{ sku: 'MUG-1', qty: 2 }], key);
  t.equal(other.status, 422, 'a different basket under a used key');
  t.equal(other.body.code, 'IDEMPOTENCY_KEY_REUSED');
  const bobSameKey = await order(bob, [{ sku: 'MUG-1', qty: 1 }], key);
  t.equal(bobSameKey.status, 201, "keys are per customer: bob's is his own");
  t.not(bobSameKey.body.id, first.body.id);
});

t.test('acceptance 3: 20 parallel requests with one key make exactly one order and one reservation', async (t) => {
  const key = randomUUID();
  const reservationsBefore = await reservationsIn();
  const ordersBefore = (await rows(shop.dbs.orders.sql, 'SELECT COUNT(*) AS n FROM orders'))[0]!.n;
  const stockBefore = await shop.stock('MUG-1');
  const results = await Promise.all(Array.from({ length: 20 }, () => order(alice, [{ sku: 'MUG-1', qty: 2 }], key)));
  t.same([...new Set(results.map((r) => r.status))], [201], 'every request answered with the order');
  t.equal(new Set(results.map((r) => String(r.body.id))).size, 1, 'one order id');
  t.equal(results.filter((r) => r.headers.get('idempotent-replayed') !== 'true').length, 1, 'one of them made it');
  const ordersAfter = (await rows(shop.dbs.orders.sql, 'SELECT COUNT(*) AS n FROM orders'))[0]!.n;
  t.equal(Number(ordersAfter) - Number(ordersBefore), 1, 'one order row');
  t.equal(await reservationsIn() - reservationsBefore, 1, 'one reservation');
  t.equal((await shop.stock('MUG-1')).onHand, stockBefore.onHand - 2, 'two units sold, once');
});

t.test('an order that cannot be filled leaves nothing behind, and its key can be used again', async (t) => {
  const key = randomUUID();
  const before = await reservationsIn();
  const res = await order(alice, [{ sku: 'MUG-1', qty: 1 }, { sku: 'KETTLE-1', qty: 500 }], key);
  t.equal(res.status, 409);
  t.equal(res.body.code, 'OUT_OF_STOCK');
  t.same(res.body.items, [{ sku: 'KETTLE-1', requested: 500, available: 8 }]);
  t.equal(await reservationsIn(), before, 'no reservation');
  t.same(await rows(shop.dbs.orders.sql, 'SELECT * FROM idempotency_keys WHERE idem_key = ?', [key]), [], 'the key was given up');
  const retry = await order(alice, [{ sku: 'MUG-1', qty: 1 }], key);
  t.equal(retry.status, 201, 'a new basket under the given-up key');
});

t.test('listing is own orders only, newest first, in pages', async (t) => {
  const carol = await shop.customer('carol');
  const made: string[] = [];
  for (let i = 0; i < 5; i++) made.push((await order(carol, [{ sku: 'MUG-1', qty: 1 }])).body.id);
  const page1 = await api.get('/api/orders?limit=2', { token: carol });
  t.equal(page1.status, 200);
  t.same(itemsOf(page1.body).map((o) => o.id), [made[4], made[3]]);
  const page2 = await api.get(`/api/orders?limit=2&cursor=${page1.body.nextCursor}`, { token: carol });
  t.same(itemsOf(page2.body).map((o) => o.id), [made[2], made[1]]);
  const page3 = await api.get(`/api/orders?limit=2&cursor=${page2.body.nextCursor}`, { token: carol });
  t.same(itemsOf(page3.body).map((o) => o.id), [made[0]]);
  t.equal(page3.body.nextCursor, null);
  t.ok(itemsOf(page1.body).every((o) => o.customerId === 'carol' && o.lines.length === 1));
  t.equal((await api.get('/api/orders?limit=0', { token: carol })).status, 400);
  t.equal((await api.get('/api/orders?cursor=%27%20OR%201%3D1', { token: carol })).status, 400);
  t.equal((await api.get('/api/orders?cursor=bm90LWEtbnVtYmVy', { token: carol })).status, 400, 'a cursor not given out');
});

t.test('cancelling a confirmed order returns its stock; cancelling again answers the same', async (t) => {
  const before = await shop.stock('KETTLE-1');
  const placed = await order(alice, [{ sku: 'KETTLE-1', qty: 3 }]);
  t.equal((await shop.stock('KETTLE-1')).onHand, before.onHand - 3);
  const cancelled = await api.post(`/api/orders/${placed.body.id}/cancel`, undefined, { token: alice });
  t.equal(cancelled.status, 200);
  t.match(cancelled.body, { status: 'CANCELLED', cancelReason: 'cancelled by the customer', cancelledAt: /Z$/ });
  t.same(await shop.stock('KETTLE-1'), before, 'the stock is back');
  const again = await api.post(`/api/orders/${placed.body.id}/cancel`, undefined, { token: alice });
  t.same(again.body, cancelled.body);
  t.same(await shop.stock('KETTLE-1'), before, 'returned once');
  const [audit] = await rows(shop.dbs.inventory.sql, "SELECT COUNT(*) AS n FROM stock_audit WHERE sku = 'KETTLE-1' AND reason LIKE 'returned%'");
  t.ok(Number(audit!.n) >= 1, 'the return is audited');
});

t.test('acceptance 5: a customer cannot read, list or cancel another customer’s orders', async (t) => {
  const placed = await order(alice, [{ sku: 'MUG-1', qty: 1 }]);
  const id = placed.body.id;
  const read = await api.get(`/api/orders/${id}`, { token: bob });
  t.equal(read.status, 404, 'reading: 404, as if it did not exist');
  t.same(Object.keys(read.body).sort(), ['code', 'message']);
  t.notMatch(read.text, /alice/);
  const missing = await api.get('/api/orders/00000000-0000-4000-8000-000000000000', { token: bob });
  t.same(read.body, missing.body, 'indistinguishable from a missing order');
  const list = await api.get('/api/orders?limit=100', { token: bob });
  t.ok(itemsOf(list.body).every((o) => o.customerId === 'bob'), "bob's list holds only bob's orders");
  t.notOk(itemsOf(list.body).some((o) => o.id === id));
  const cancel = await api.post(`/api/orders/${id}/cancel`, undefined, { token: bob });
  t.equal(cancel.status, 404, 'cancelling: 404');
  t.equal((await api.get(`/api/orders/${id}`, { token: alice })).body.status, 'CONFIRMED', 'untouched');
  t.equal((await api.get(`/api/orders/${id}`)).status, 401, 'no token');
  t.equal((await api.get('/api/orders')).status, 401);
  t.equal((await api.post(`/api/orders/${id}/cancel`)).status, 401);
  const adminRead = await api.get(`/api/orders/${id}`, { token: await shop.admin() });
  t.equal(adminRead.status, 200, 'an admin may read it');
  const badId = await api.get('/api/orders/1%20OR%201=1', { token: bob });
  t.equal(badId.status, 404);
});

t.test('the books balance after everything above', async (t) => {
  t.same(await unbalancedSkus(shop.dbs.inventory.sql), []);
  t.same(await rows(shop.dbs.orders.sql, "SELECT id FROM orders WHERE status = 'PENDING'"), [], 'no order left pending');
  t.equal(await reservationsIn('HELD'), 0, 'no stock held');
  // Units in confirmed orders = units sold by inventory, per sku.
  for (const sku of ['KETTLE-1', 'MUG-1']) {
    const [ordered] = await rows(shop.dbs.orders.sql, "SELECT COALESCE(SUM(l.qty), 0) AS n FROM order_lines l JOIN orders o ON o.id = l.order_id WHERE l.sku = ? AND o.status = 'CONFIRMED'", [sku]);
    const [sold] = await rows(shop.dbs.inventory.sql, "SELECT COALESCE(SUM(ri.qty), 0) AS n FROM reservation_items ri JOIN reservations r ON r.id = ri.reservation_id WHERE ri.sku = ? AND r.status = 'COMMITTED'", [sku]);
    t.equal(Number(ordered!.n), Number(sold!.n), `${sku}: confirmed = sold`);
  }
});
