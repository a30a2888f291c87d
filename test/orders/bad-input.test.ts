// Acceptance 6 for orders: hostile input (as in the foundation issue: malformed JSON, wrong types,
// missing and unknown fields, oversized bodies, SQL-looking strings, unicode and control
// characters) plus zero, negative and huge quantities, unknown skus, a sku twice and 1,000-line
// baskets give 4xx {code, message}; nothing is reserved and nothing is written. A fast-check fuzz
// of the order body asserts the same.
import t from 'tap';
import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { rows, startTestShop } from '../helpers/shop.js';
import { BAD_UNICODE, LOOKALIKES, SQL_LOOKING, hostileString, invalidBodies, isRejection, notAnInteger, notAString, rawBadBodies, tablesChecksum, type FieldSpec } from '../helpers/bad-input.js';

const MAX_BODY_BYTES = 64 * 1024;
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const shop = await startTestShop(t, { ordersEnv: { MAX_BODY_BYTES: String(MAX_BODY_BYTES) } });
const api = shop.api;
const customer = await shop.customer('picky');
await shop.addProduct('GOOD-1', 1000, 1_000_000);
await shop.addProduct('GOOD-2', 500, 1_000_000);
await shop.addProduct('RETIRED-1', 100, 10);
await shop.addProduct('ELSEWHERE-1', 100, 10, 'USD');
await shop.addProduct('LIMITED-1', 100, 2);
const admin = await shop.admin();
await shop.catalog.ctx.db.sequelize.query("UPDATE products SET active = 0 WHERE sku = 'RETIRED-1'");

/** Everything a refused request could have touched, in both databases. */
async function state(): Promise<string> {
  return (await tablesChecksum(shop.dbs.orders.sql, ['orders', 'order_lines', 'idempotency_keys'])) +
    (await tablesChecksum(shop.dbs.inventory.sql, ['stock', 'reservations', 'reservation_items', 'stock_audit']));
}

const post = (body: unknown, opts: { raw?: string | Buffer; contentType?: string; key?: string | null; token?: string } = {}) => {
  const headers: Record<string, string> = {};
  if (opts.key !== null) headers['idempotency-key'] = opts.key ?? randomUUID();
  if (opts.contentType) headers['content-type'] = opts.contentType;
  return api.post('/api/orders', body, { token: opts.token ?? customer, headers, raw: opts.raw });
};

t.test('quantities, skus and basket sizes that cannot be ordered', async (t) => {
  const before = await state();
  const lines = (n: number) => Array.from({ length: n }, (_, i) => ({ sku: `LINE-${i + 1}`, qty: 1 }));
  const cases: Array<[string, unknown, number, string]> = [
    ['zero quantity', { items: [{ sku: 'GOOD-1', qty: 0 }] }, 400, 'VALIDATION_FAILED'],
    ['negative quantity', { items: [{ sku: 'GOOD-1', qty: -1 }] }, 400, 'VALIDATION_FAILED'],
    ['huge quantity', { items: [{ sku: 'GOOD-1', qty: 1e9 }] }, 400, 'VALIDATION_FAILED'],
    ['beyond safe integers', { items: [{ sku: 'GOOD-1', qty: 2 ** 60 }] }, 400, 'VALIDATION_FAILED'],
    ['fractional quantity', { items: [{ sku: 'GOOD-1', qty: 0.5 }] }, 400, 'VALIDATION_FAILED'],
    ['quantity as a string', { items: [{ sku: 'GOOD-1', qty: '2' }] }, 400, 'VALIDATION_FAILED'],
    ['a sku twice', { items: [{ sku: 'GOOD-1', qty: 1 }, { sku: 'GOOD-2', qty: 1 }, { sku: 'GOOD-1', qty: 2 }] }, 400, 'VALIDATION_FAILED'],
    ['1,000 lines', { items: lines(1000) }, 400, 'VALIDATION_FAILED'],
    ['101 lines', { items: lines(101) }, 400, 'VALIDATION_FAILED'],
    ['no lines', { items: [] }, 400, 'VALIDATION_FAILED'],
    ['unknown sku', { items: [{ sku: 'GOOD-1', qty: 1 }, { sku: 'NO-SUCH-1', qty: 1 }] }, 422, 'UNKNOWN_SKU'],
    ['inactive product', { items: [{ sku: 'RETIRED-1', qty: 1 }] }, 422, 'PRODUCT_UNAVAILABLE'],
    ['two currencies', { items: [{ sku: 'GOOD-1', qty: 1 }, { sku: 'ELSEWHERE-1', qty: 1 }] }, 422, 'CURRENCY_MISMATCH'],
    ['more than in stock', { items: [{ sku: 'GOOD-1', qty: 1000 }, { sku: 'LIMITED-1', qty: 3 }] }, 409, 'OUT_OF_STOCK'],
    ['a lower-case sku', { items: [{ sku: 'good-1', qty: 1 }] }, 422, 'UNKNOWN_SKU'],
    ['unknown field', { items: [{ sku: 'GOOD-1', qty: 1 }], coupon: 'FREE' }, 400, 'VALIDATION_FAILED'],
    ['price sent by the client', { items: [{ sku: 'GOOD-1', qty: 1, priceCents: 1 }] }, 400, 'VALIDATION_FAILED'],
    ['customer id sent by the client', { items: [{ sku: 'GOOD-1', qty: 1 }], customerId: 'someone-else' }, 400, 'VALIDATION_FAILED'],
  ];
  for (const [name, body, status, code] of cases) {
    const res = await post(body);
    t.equal(res.status, status, `${name}: status`);
    t.equal(res.body?.code, code, `${name}: code`);
    t.type(res.body?.message, 'string', `${name}: message`);
  }
  t.equal(await state(), before, 'nothing reserved, nothing written');
});

t.test('the Idempotency-Key, the token and the role', async (t) => {
  const before = await state();
  const body = { items: [{ sku: 'GOOD-1', qty: 1 }] };
  const cases: Array<[string, Promise<{ status: number; body: any }>, number, string]> = [
    ['no key', post(body, { key: null }), 400, 'VALIDATION_FAILED'],
    ['empty key', post(body, { key: '' }), 400, 'VALIDATION_FAILED'],
    ['key with spaces', post(body, { key: 'my key' }), 400, 'VALIDATION_FAILED'],
    ['overlong key', post(body, { key: 'k'.repeat(256) }), 400, 'VALIDATION_FAILED'],
    ['no token', api.post('/api/orders', body, { headers: { 'idempotency-key': randomUUID() } }), 401, 'UNAUTHORIZED'],
    ['forged token', post(body, { token: `${customer.slice(0, -4)}AAAA` }), 401, 'UNAUTHORIZED'],
    ['admin token', post(body, { token: admin }), 403, 'FORBIDDEN'],
    ['service credential instead of a token', api.post('/api/orders', body, { headers: { 'idempotency-key': randomUUID(), 'x-service-token': shop.serviceToken } }), 401, 'UNAUTHORIZED'],
  ];
  for (const [name, pending, status, code] of cases) {
    const res = await pending;
    t.equal(res.status, status, `${name}: status`);
    t.equal(res.body?.code, code, `${name}: code`);
  }
  const placed = await post(body);
  t.equal(placed.status, 201);
  const afterOne = await state();
  const cancelBad = await api.post(`/api/orders/${placed.body.id}/cancel`, { reason: "'; DROP TABLE orders; --" }, { token: customer });
  t.equal(cancelBad.status, 400, 'cancel takes no body');
  t.equal(await state(), afterOne, 'the refused cancel changed nothing');
  t.not(before, afterOne);
});

t.test('raw bodies no JSON endpoint may accept', async (t) => {
  const before = await state();
  for (const c of rawBadBodies({ items: [{ sku: 'GOOD-1', qty: 1 }] }, MAX_BODY_BYTES)) {
    const res = await post(undefined, { raw: c.raw, contentType: c.contentType });
    t.ok(isRejection(res), `${c.name}: 4xx {code, message} (got ${res.status})`);
  }
  for (const sku of [...SQL_LOOKING, ...BAD_UNICODE, ...LOOKALIKES]) {
    const res = await post({ items: [{ sku, qty: 1 }] });
    t.ok(isRejection(res), `sku ${JSON.stringify(sku)}: 4xx (got ${res.status})`);
  }
  t.equal(await state(), before, 'nothing reserved, nothing written');
});

t.test(`fuzz: ${RUNS} invalid order bodies give 4xx and change nothing`, async (t) => {
  const sku = fc.constantFrom('GOOD-1', 'GOOD-2');
  const lineFields: Record<string, FieldSpec> = {
    sku: { required: true, valid: sku, invalid: fc.oneof(notAString, hostileString, fc.constantFrom('', 'A'.repeat(65), 'NO-SUCH-SKU', 'SKU 1')) },
    qty: { required: true, valid: fc.integer({ min: 1, max: 5 }), invalid: fc.oneof(notAnInteger, fc.integer({ max: 0 }), fc.integer({ min: 1001 }), fc.constant(1e300)) },
  };
  const validItems = fc.uniqueArray(fc.record({ sku, qty: fc.integer({ min: 1, max: 5 }) }), { minLength: 1, maxLength: 2, selector: (l) => l.sku });
  const bodyFields: Record<string, FieldSpec> = {
    items: {
      required: true,
      valid: validItems,
      invalid: fc.oneof(
        notAString.filter((v) => !Array.isArray(v) || v.length === 0),
        fc.constant([]),
        fc.tuple(validItems, invalidBodies(lineFields)).map(([items, bad]) => [...items, bad]),
        fc.constant([{ sku: 'GOOD-1', qty: 1 }, { sku: 'GOOD-1', qty: 1 }]),
        fc.integer({ min: 101, max: 300 }).map((n) => Array.from({ length: n }, (_, i) => ({ sku: `L-${i}`, qty: 1 }))),
      ),
    },
  };
  const before = await state();
  let fivexx = 0;
  await fc.assert(
    fc.asyncProperty(invalidBodies(bodyFields), async (body) => {
      const res = await post(body);
      if (res.status >= 500) fivexx += 1;
      return isRejection(res);
    }),
    { numRuns: RUNS },
  );
  t.equal(fivexx, 0, 'no 5xx');
  t.equal(await state(), before, 'nothing reserved, nothing written');
  t.same(await rows(shop.dbs.inventory.sql, "SELECT id FROM reservations WHERE status = 'HELD'"), []);
});
