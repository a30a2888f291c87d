// The payment seam: a PaymentStep passed to createOrdersService decides between writing the order
// and committing its stock. Approved → CONFIRMED; declined or failed → the order is cancelled and
// its stock released, never sold.
import t from 'tap';
import { randomUUID } from 'node:crypto';
import type { PaymentStep } from '../../services/orders/payment.js';
import { rows, startTestShop } from '../helpers/shop.js';

const seen: string[] = [];
const payment: PaymentStep = {
  authorize(order) {
    seen.push(`${order.id}:${order.totalCents}`);
    if (order.totalCents > 100_000) return Promise.reject(new Error('the payment provider timed out'));
    return Promise.resolve(order.totalCents > 10_000 ? { approved: false, reason: 'card limit exceeded' } : { approved: true, reference: 'auth-1' });
  },
};
const shop = await startTestShop(t, { payment });
const token = await shop.customer('payer');
await shop.addProduct('PAY-1', 2_500, 100);
const order = (qty: number) => shop.api.post('/api/orders', { items: [{ sku: 'PAY-1', qty }] }, { token, headers: { 'idempotency-key': randomUUID() } });

t.test('an approved payment confirms the order', async (t) => {
  const res = await order(2);
  t.equal(res.status, 201);
  t.equal(res.body.status, 'CONFIRMED');
  t.ok(seen.includes(`${res.body.id}:5000`), 'the step saw the written order and its total');
  t.same(await shop.stock('PAY-1'), { sku: 'PAY-1', onHand: 98, reserved: 0, available: 98 });
});

t.test('a declined payment cancels the order and releases its stock', async (t) => {
  const res = await order(5);
  t.equal(res.status, 402);
  t.equal(res.body.code, 'PAYMENT_DECLINED');
  t.match(res.body.message, /card limit exceeded/);
  t.equal(res.body.order.status, 'CANCELLED');
  t.same(await shop.stock('PAY-1'), { sku: 'PAY-1', onHand: 98, reserved: 0, available: 98 }, 'nothing sold, nothing held');
});

t.test('a failing payment step cancels the order and releases its stock', async (t) => {
  const res = await order(41);
  t.equal(res.status, 500);
  t.equal(res.body.code, 'INTERNAL');
  t.notMatch(res.text, /provider/, 'no internal detail leaks');
  t.same(await shop.stock('PAY-1'), { sku: 'PAY-1', onHand: 98, reserved: 0, available: 98 });
  t.same(await rows(shop.dbs.orders.sql, "SELECT status FROM orders WHERE status NOT IN ('CONFIRMED', 'CANCELLED')"), []);
});
