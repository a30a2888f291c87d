// Acceptance 4: a real orders process (node dist/services/orders/main.js) is SIGKILLed part-way
// through a checkout, held there by an injected fault (ORDERS_FAULT). Between reserve and commit:
// the reservation expires, the stock is available again, no order exists, and a retry with the
// same Idempotency-Key later succeeds once. After the order was written: the next orders process
// settles the PENDING order (cancelled, stock back), so no order is left without stock.
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { client } from '../helpers/http.js';
import { waitUntil } from '../helpers/processes.js';
import { unbalancedSkus } from '../helpers/inventory.js';
import { rows, startTestShop } from '../helpers/shop.js';

const shop = await startTestShop(t, { withoutOrders: true, inventoryEnv: { SWEEP_INTERVAL_MS: '100' } });
await shop.addProduct('CRASH-1', 1000, 5);
const token = await shop.customer('crash-victim');
// Short enough to watch expiry happen, long enough that a loaded machine sees the hold first.
const short = { CHECKOUT_RESERVATION_TTL_SECONDS: '4', IDEMPOTENCY_LEASE_SECONDS: '2' };

const reservation = async (id: string) =>
  (await rows(shop.dbs.inventory.sql, 'SELECT status FROM reservations WHERE id = ?', [id]))[0]?.status as string | undefined;

t.test('killed between reserve and commit: the reservation expires, the stock is back, no order exists', async (t) => {
  const orders = await shop.spawnOrders({ ORDERS_FAULT: 'pause-after-reserve', ...short });
  const key = randomUUID();
  const body = { items: [{ sku: 'CRASH-1', qty: 3 }] };
  const pending = client(orders.url).post('/api/orders', body, { token, headers: { 'idempotency-key': key } }).then(
    (res) => ({ answered: res.status }),
    (err: Error) => ({ dropped: err.message }),
  );
  const paused = await orders.waitForLog((l) => l.msg === 'fault injected: checkout paused');
  const reservationId = String(paused.reservationId);
  t.same(await shop.stock('CRASH-1'), { sku: 'CRASH-1', onHand: 5, reserved: 3, available: 2 }, 'the reservation holds 3 units');
  t.equal(await reservation(reservationId), 'HELD');

  orders.child.kill('SIGKILL');
  t.equal(await orders.exited, 'SIGKILL');
  t.match(await pending, { dropped: /fetch failed/ }, 'the client saw its connection drop, no answer');

  await waitUntil(async () => (await shop.stock('CRASH-1')).available === 5, 'the reservation to expire', 30_000, 50);
  t.same(await shop.stock('CRASH-1'), { sku: 'CRASH-1', onHand: 5, reserved: 0, available: 5 }, 'the stock is available again');
  t.equal(await reservation(reservationId), 'EXPIRED');
  t.same(await rows(shop.dbs.orders.sql, 'SELECT id FROM orders'), [], 'no order exists');

  // The customer retries with the same key on a healthy process: the dead request's claim has
  // lapsed, so this one takes it over and makes exactly one order.
  const healthy = await shop.spawnOrders(short);
  const retry = await client(healthy.url).post('/api/orders', body, { token, headers: { 'idempotency-key': key } });
  t.equal(retry.status, 201, retry.text);
  t.equal(retry.body.status, 'CONFIRMED');
  t.same(await shop.stock('CRASH-1'), { sku: 'CRASH-1', onHand: 2, reserved: 0, available: 2 });
  t.equal((await rows(shop.dbs.orders.sql, 'SELECT id FROM orders')).length, 1);
  healthy.child.kill('SIGTERM');
  t.equal(await healthy.exited, 0, 'a healthy process stops cleanly');
});

t.test('killed after writing the order: the next process cancels it and the stock is back', async (t) => {
  const orders = await shop.spawnOrders({ ORDERS_FAULT: 'pause-after-order', ...short });
  const pending = client(orders.url).post('/api/orders', { items: [{ sku: 'CRASH-1', qty: 2 }] }, { token, headers: { 'idempotency-key': randomUUID() } }).catch(() => undefined);
  const paused = await orders.waitForLog((l) => l.msg === 'fault injected: checkout paused');
  const orderId = String(paused.orderId);
  t.same((await rows(shop.dbs.orders.sql, 'SELECT status FROM orders WHERE id = ?', [orderId]))[0], { status: 'PENDING' });
  orders.child.kill('SIGKILL');
  await orders.exited;
  await pending;

  const next = await shop.spawnOrders({ ...short, RECONCILE_INTERVAL_MS: '100', RECONCILE_GRACE_SECONDS: '0' });
  await waitUntil(async () => (await rows(shop.dbs.orders.sql, 'SELECT status FROM orders WHERE id = ?', [orderId]))[0]?.status === 'CANCELLED', 'the pending order to be settled', 30_000, 50);
  t.match((await rows(shop.dbs.orders.sql, 'SELECT cancel_reason FROM orders WHERE id = ?', [orderId]))[0], { cancel_reason: /did not complete/ });
  t.same(await shop.stock('CRASH-1'), { sku: 'CRASH-1', onHand: 2, reserved: 0, available: 2 }, 'no stock held for it');
  t.same(await rows(shop.dbs.orders.sql, "SELECT id FROM orders WHERE status = 'PENDING'"), [], 'no order left pending');
  const seen = await client(next.url).get(`/api/orders/${orderId}`, { token });
  t.equal(seen.body.status, 'CANCELLED', 'the customer sees it cancelled');
  t.same(await unbalancedSkus(shop.dbs.inventory.sql), []);
});
