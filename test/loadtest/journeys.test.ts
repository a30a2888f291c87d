// Journeys against a fake of the shop's API: weighted choice, dependent steps, captures feeding
// later steps (token, cursor, sku, order id), an Idempotency-Key per checkout, the setup task,
// hot-sku skew, sales counted for the oversell check, and a sold-out 409 ending a journey.
import t from 'tap';
import { startFakeShop, shopProfile } from './fake-shop.js';
import { runInProcess } from './helpers.js';

const hot = ['SKU-000001', 'SKU-000002'];
const shop = await startFakeShop(t, { stock: { 'SKU-000001': 5, 'SKU-000002': 5 } });
const result = await runInProcess(shopProfile({ phases: '  - { name: shopping, duration: 5s, rate: 60 }' }), shop.url, { runId: 'jt1' });
const journeys = result.recording.journeys;
const total = Object.values(journeys).reduce((a, j) => a + j.started, 0);

t.test('setup registered every account of the users feeder before the phases', (t) => {
  t.same(result.setup, [{ journey: 'register-user', each: 'user', runs: 10, failed: 0 }]);
  for (let n = 1; n <= 10; n++) t.ok(shop.users.has(`test-${String(n).padStart(6, '0')}@loadtest.saleday.test`), `user ${n} exists`);
  t.end();
});

t.test('every journey ran without an error and the thresholds hold', (t) => {
  t.equal(total, 300, 'the schedule started 300 journeys');
  t.equal(Object.values(journeys).reduce((a, j) => a + j.failed, 0), 0, 'no journey failed');
  t.same(result.verdicts.map((v) => [v.label, v.ok]), [
    ['error rate ≤ 0.00%', true],
    ['no oversell (units sold = stock decrease, stock never negative)', true],
  ]);
  t.equal(result.passed, true);
  t.end();
});

t.test('journeys are chosen by weight', (t) => {
  const share = (name: string) => (journeys[name]?.started ?? 0) / total;
  for (const [name, weight] of [['browse', 0.6], ['search', 0.15], ['buyer', 0.2], ['newcomer', 0.05]] as const) {
    t.ok(Math.abs(share(name) - weight) < 0.08, `${name}: ${(share(name) * 100).toFixed(1)}% for a weight of ${weight * 100}`);
  }
  t.notOk(journeys['register-user']?.started, 'a weight-0 journey only runs in setup');
  t.end();
});

t.test('captures feed later steps', (t) => {
  const buyers = journeys.buyer!.started;
  t.equal(shop.idempotencyKeys.length, buyers, 'every buyer reached checkout with the token it captured at login');
  t.equal(new Set(shop.idempotencyKeys).size, buyers, 'each checkout had its own Idempotency-Key');
  const created = [...shop.orders.keys()];
  t.ok(created.length > 0, `${created.length} orders were created`);
  t.same([...shop.orderReads].sort(), [...created].sort(), 'each created order was read back by the id captured from its checkout');
  t.equal(shop.hits.get('GET /api/users/me'), journeys.newcomer!.started, 'every newcomer read /me with its own token');
  t.equal(result.recording.endpoints['GET /api/catalog/products']!.errors, 0, 'cursors captured from one page fetched the next');
  t.end();
});

t.test('the hot skus take most of the product traffic of the buyers', (t) => {
  const buyerViews = result.recording.endpoints['GET /api/catalog/products/:sku']!.requests;
  t.ok(buyerViews > 0, `${buyerViews} product views`);
  const hotViews = shop.productViews.filter((s) => hot.includes(s)).length;
  const buyers = journeys.buyer!.started;
  // buyers view a feeder sku (80% hot); browse and search views are spread over the catalog
  t.ok(hotViews >= buyers * 0.6, `${hotViews} views of the 2 hot skus from ${buyers} buyers`);
  t.end();
});

t.test('sold-out checkouts end the journey without an error, and sales add up', (t) => {
  const checkout = result.recording.endpoints['POST /api/orders']!;
  t.ok((checkout.statuses['409'] ?? 0) > 0, `${checkout.statuses['409']} checkouts found the hot skus sold out`);
  t.equal(checkout.errors, 0);
  const sold = Object.values(result.recording.sales).reduce((a, n) => a + n, 0);
  t.equal(sold, shop.orders.size, 'one unit per order');
  t.same(result.oversell?.skus.map((s) => [s.sku, s.before, s.after, s.sold]), [
    ['SKU-000001', 5, 0, 5],
    ['SKU-000002', 5, 0, 5],
  ]);
  t.end();
});

t.test('an oversold sku fails the oversell check', async (t) => {
  const bad = await startFakeShop(t, { oversell: true, stock: { 'SKU-000001': 2, 'SKU-000002': 2 } });
  const r = await runInProcess(shopProfile({ name: 'oversell', phases: '  - { name: shopping, duration: 2s, rate: 40 }', hot: 2, share: '100%', extra: 'oversell: { settle: 1s }' }), bad.url, { runId: 'jt2' });
  const v = r.verdicts.find((x) => x.kind === 'oversell')!;
  t.equal(v.ok, false);
  t.match(v.measured, /SKU-00000[12]: sold \d+, stock 2 → -\d+/);
  t.equal(r.passed, false);
});

t.test('checkouts placed behind a lost answer (504, dropped connection) are not an oversell', async (t) => {
  const lossy = await startFakeShop(t, { unansweredCheckouts: 4, stock: { 'SKU-000001': 50, 'SKU-000002': 50 } });
  const r = await runInProcess(
    shopProfile({ name: 'lost-answers', phases: '  - { name: shopping, duration: 2s, rate: 40 }', hot: 2, share: '100%', thresholds: '  - { metric: oversell }', extra: 'oversell: { settle: 1s }' }),
    lossy.url,
    { runId: 'jt3' },
  );
  const checkout = r.recording.endpoints['POST /api/orders']!;
  t.equal(checkout.statuses['504'], 2, 'two checkouts answered 504');
  t.equal(checkout.errors, 4, 'two more got their connection dropped');
  const unanswered = r.oversell!.skus.reduce((a, s) => a + (s.unanswered ?? 0), 0);
  t.equal(unanswered, 4, 'their units are counted as may-have-sold');
  const decrease = r.oversell!.skus.reduce((a, s) => a + (s.before! - s.after!), 0);
  const sold = r.oversell!.skus.reduce((a, s) => a + s.sold, 0);
  t.equal(decrease, sold + 4, 'the shop sold them all the same');
  const v = r.verdicts.find((x) => x.kind === 'oversell')!;
  t.equal(v.ok, true, v.measured);
  t.match(v.measured, /4 units of checkouts that got no answer or a 5xx/);
});

t.test('the oversell rule: stock decrease between the answered sales and those plus the unanswered', async (t) => {
  const { balanced } = await import('../../loadtest/lib/thresholds/oversell.js');
  t.ok(balanced({ before: 10, after: 7, sold: 3 }), 'decrease = sold');
  t.ok(balanced({ before: 10, after: 5, sold: 3, unanswered: 2 }), 'two unanswered checkouts sold too');
  t.ok(balanced({ before: 10, after: 7, sold: 3, unanswered: 2 }), 'two unanswered checkouts did not sell');
  t.notOk(balanced({ before: 10, after: 4, sold: 3, unanswered: 2 }), 'a decrease beyond every checkout sent is an oversell');
  t.notOk(balanced({ before: 10, after: 8, sold: 3, unanswered: 2 }), 'answered sales the stock never lost');
  t.notOk(balanced({ before: 2, after: -1, sold: 3 }), 'stock below zero');
  t.notOk(balanced({ before: null, after: 7, sold: 3 }), 'stock unread');
});
