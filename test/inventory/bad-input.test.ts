// Every inventory write endpoint against hostile input (malformed JSON, wrong types, missing and
// unknown fields, oversized bodies, SQL-looking strings, unicode and control characters): 4xx
// {code, message} and no change, shown by fixed cases and a fast-check fuzz per endpoint.
import t from 'tap';
import fc from 'fast-check';
import { testDatabase } from '../helpers/mysql.js';
import { client } from '../helpers/http.js';
import { signToken } from '../helpers/tokens.js';
import { putStock, serviceCredential, startInventory } from '../helpers/inventory.js';
import { BAD_UNICODE, hostileString, invalidBodies, isRejection, notAnInteger, notAString, rawBadBodies, tablesChecksum, type FieldSpec } from '../helpers/bad-input.js';

const MAX_BODY_BYTES = 64 * 1024;
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const db = await testDatabase(t, 'invbad');
const cred = await serviceCredential(db);
const svc = await startInventory(t, db, cred.ref, { MAX_BODY_BYTES: String(MAX_BODY_BYTES) });
const api = client(svc.url);
const admin = await signToken(db, 'admin');
await putStock(db.sql, 'FUZZ-1', 1000);
await putStock(db.sql, 'FUZZ-2', 1000);
const held = await api.post('/api/inventory/reservations', { items: [{ sku: 'FUZZ-1', qty: 1 }] }, { headers: { 'x-service-token': cred.token } });
const reservationId = String(held.body.reservationId);

const state = () => tablesChecksum(db.sql, ['stock', 'reservations', 'reservation_items', 'stock_audit']);
const sku = fc.constantFrom('FUZZ-1', 'FUZZ-2');
const badSku = fc.oneof(notAString, hostileString, fc.constantFrom('', 'A'.repeat(65), '-leading-dash', 'sku with space'));
const reason = fc.constantFrom('restock', 'Ünïcødé reason ☕', "'; DROP TABLE stock; --");
const badReason = fc.oneof(notAString, fc.constantFrom(...BAD_UNICODE), fc.constantFrom('', 'r'.repeat(201)));

const lineFields: Record<string, FieldSpec> = {
  sku: { required: true, valid: sku, invalid: badSku },
  qty: { required: true, valid: fc.integer({ min: 1, max: 3 }), invalid: fc.oneof(notAnInteger, fc.integer({ max: 0 }), fc.integer({ min: 10_001 }), fc.constant(1e300)) },
};
const validLines = fc.uniqueArray(fc.record({ sku, qty: fc.integer({ min: 1, max: 3 }) }), { minLength: 1, maxLength: 2, selector: (l) => l.sku });

const endpoints = [
  {
    name: 'POST /api/inventory/reservations',
    method: 'POST',
    path: '/api/inventory/reservations',
    auth: { headers: { 'x-service-token': cred.token } },
    valid: { items: [{ sku: 'FUZZ-1', qty: 1 }], ttlSeconds: 60 },
    spec: {
      items: {
        required: true,
        valid: validLines,
        invalid: fc.oneof(
          notAString.filter((v) => !Array.isArray(v) || v.length === 0),
          fc.tuple(validLines, invalidBodies(lineFields)).map(([lines, bad]) => [...lines, bad]),
          fc.constant([{ sku: 'FUZZ-1', qty: 1 }, { sku: 'FUZZ-1', qty: 2 }]),
          fc.integer({ min: 101, max: 400 }).map((n) => Array.from({ length: n }, (_, i) => ({ sku: `L-${i}`, qty: 1 }))),
        ),
      },
      ttlSeconds: { required: false, valid: fc.integer({ min: 1, max: 3600 }), invalid: fc.oneof(notAnInteger, fc.integer({ max: 0 }), fc.integer({ min: 86_401 })) },
    } as Record<string, FieldSpec>,
  },
  {
    name: 'PUT /api/inventory/stock/:sku',
    method: 'PUT',
    path: '/api/inventory/stock/FUZZ-2',
    auth: { token: admin },
    valid: { onHand: 5, reason: 'count' },
    spec: {
      onHand: { required: true, valid: fc.integer({ min: 1, max: 900 }), invalid: fc.oneof(notAnInteger, fc.integer({ max: -1 }), fc.integer({ min: 1_000_000_001 })) },
      reason: { required: true, valid: reason, invalid: badReason },
    } as Record<string, FieldSpec>,
  },
  {
    name: 'POST /api/inventory/stock/:sku/adjustments',
    method: 'POST',
    path: '/api/inventory/stock/FUZZ-2/adjustments',
    auth: { token: admin },
    valid: { delta: 5, reason: 'restock' },
    spec: {
      delta: { required: true, valid: fc.integer({ min: -10, max: 10 }).filter((d) => d !== 0), invalid: fc.oneof(notAnInteger, fc.constant(0), fc.integer({ min: 1_000_000_001 })) },
      reason: { required: true, valid: reason, invalid: badReason },
    } as Record<string, FieldSpec>,
  },
];

for (const e of endpoints) {
  t.test(`${e.name}: raw hostile bodies`, async (t) => {
    const before = await state();
    for (const c of rawBadBodies(e.valid, MAX_BODY_BYTES)) {
      const headers: Record<string, string> = { ...(e.auth.headers ?? {}) };
      if (c.contentType) headers['content-type'] = c.contentType;
      const res = await api.call(e.method, e.path, undefined, { token: e.auth.token, headers, raw: c.raw });
      t.ok(isRejection(res), `${c.name}: 4xx {code, message} (got ${res.status})`);
    }
    t.equal(await state(), before, 'nothing changed');
  });

  t.test(`${e.name}: fuzz, ${RUNS} invalid bodies`, async (t) => {
    const before = await state();
    await fc.assert(
      fc.asyncProperty(invalidBodies(e.spec), async (body) => isRejection(await api.call(e.method, e.path, body, { ...e.auth }))),
      { numRuns: RUNS },
    );
    t.equal(await state(), before, 'nothing changed');
  });
}

t.test('commit and release take no body; sku and id paths refuse garbage', async (t) => {
  const before = await state();
  const service = { headers: { 'x-service-token': cred.token } };
  for (const action of ['commit', 'release']) {
    const res = await api.post(`/api/inventory/reservations/${reservationId}/${action}`, { force: true }, service);
    t.equal(res.status, 400, `${action} with a body`);
  }
  for (const path of ["/api/inventory/stock/x'%20OR%201=1", '/api/inventory/stock/%00', `/api/inventory/stock/${'A'.repeat(65)}`]) {
    const res = await api.put(path, { onHand: 1, reason: 'x' }, { token: admin });
    t.equal(res.status, 400, `PUT ${path}`);
  }
  const res = await api.post("/api/inventory/reservations/1'%20OR%20'1'='1/commit", undefined, service);
  t.equal(res.status, 404);
  t.equal(await state(), before, 'nothing changed');
});
