// Sale-day load through the real checkout (orders → catalog + inventory, real MariaDB, HTTP):
// acceptance 1, the flash sale (500 concurrent checkouts from 100 customers for 50 units), and
// acceptance 2, overlapping multi-item baskets taken in different orders.
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { rows, startTestShop } from '../helpers/shop.js';
import { unbalancedSkus } from '../helpers/inventory.js';

const shop = await startTestShop(t);
const api = shop.api;

const order = (token: string, items: Array<{ sku: string; qty: number }>) =>
  api.post('/api/orders', { items }, { token, headers: { 'idempotency-key': randomUUID() } });

async function confirmedUnits(sku: string): Promise<number> {
  const [r] = await rows(shop.dbs.orders.sql, "SELECT COALESCE(SUM(l.qty), 0) AS n FROM order_lines l JOIN orders o ON o.id = l.order_id WHERE l.sku = ? AND o.status = 'CONFIRMED'", [sku]);
  return Number(r!.n);
}

t.test('acceptance 1: flash sale, 500 concurrent checkouts for 50 units', async (t) => {
  await shop.addProduct('FLASH-1', 1999, 50);
  const customers = await Promise.all(Array.from({ length: 100 }, (_, i) => shop.customer(`buyer-${i}`)));
  const results = await Promise.all(Array.from({ length: 500 }, (_, i) => order(customers[i % 100]!, [{ sku: 'FLASH-1', qty: 1 }])));

  const byStatus = new Map<number, number>();
  for (const r of results) byStatus.set(r.status, (byStatus.get(r.status) ?? 0) + 1);
  t.same(Object.fromEntries(byStatus), { 201: 50, 409: 450 }, 'exactly 50 orders; every other request 409');
  t.equal(results.filter((r) => r.status >= 500).length, 0, 'zero 5xx');
  t.ok(results.filter((r) => r.status === 409).every((r) => r.body.code === 'OUT_OF_STOCK'), 'every refusal is OUT_OF_STOCK');
  t.ok(results.filter((r) => r.status === 201).every((r) => r.body.status === 'CONFIRMED'));

  t.equal(await confirmedUnits('FLASH-1'), 50, 'exactly 50 units in CONFIRMED orders');
  t.same(await shop.stock('FLASH-1'), { sku: 'FLASH-1', onHand: 0, reserved: 0, available: 0 }, 'available 0, reserved 0');
  t.same(await rows(shop.dbs.orders.sql, "SELECT id FROM orders WHERE status <> 'CONFIRMED'"), [], 'no other order exists');
  t.same(await rows(shop.dbs.inventory.sql, "SELECT id FROM reservations WHERE status = 'HELD'"), [], 'no stock held');
});

t.test('acceptance 2: overlapping baskets in different orders finish without a deadlock reaching a client', async (t) => {
  const skus = ['SHARED-A', 'SHARED-B', 'SHARED-C', 'SHARED-D', 'SHARED-E'];
  const initial = 40;
  for (const sku of skus) await shop.addProduct(sku, 500, initial);
  const customers = await Promise.all(Array.from({ length: 30 }, (_, i) => shop.customer(`overlap-${i}`)));
  // 200 baskets of 2-5 skus, rotated and reversed so that concurrent baskets name shared skus in opposite orders.
  const baskets = Array.from({ length: 200 }, (_, i) => {
    const size = 2 + (i % 4);
    const start = (i * 3) % skus.length;
    const picked = Array.from({ length: size }, (_, j) => skus[(start + j) % skus.length]!);
    if (i % 2) picked.reverse();
    return picked.map((sku, j) => ({ sku, qty: 1 + ((i + j) % 2) }));
  });
  const results = await Promise.all(baskets.map((items, i) => order(customers[i % 30]!, items)));

  t.equal(results.filter((r) => r.status >= 500).length, 0, 'zero 5xx (no deadlock or lock wait reached a client)');
  t.same([...new Set(results.map((r) => r.status))].sort(), [201, 409], 'each basket either ordered or out of stock');
  for (const sku of skus) {
    const stock = await shop.stock(sku);
    t.equal((await confirmedUnits(sku)) + stock.available, initial, `${sku}: sold + available = initial stock`);
    t.equal(stock.reserved, 0, `${sku}: nothing left reserved`);
  }
  t.same(await unbalancedSkus(shop.dbs.inventory.sql), [], 'the inventory books balance');
});
