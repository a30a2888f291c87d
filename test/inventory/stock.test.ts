// Stock over HTTP: public availability, admin set and adjust with one audit row per change,
// never below what is reserved, and the refusals (tokens, roles, bad input) that change nothing.
import t from 'tap';
import { testDatabase } from '../helpers/mysql.js';
import { client } from '../helpers/http.js';
import { signToken } from '../helpers/tokens.js';
import { serviceCredential, startInventory, stockOf, unbalancedSkus } from '../helpers/inventory.js';

const db = await testDatabase(t, 'invstock');
const cred = await serviceCredential(db);
const svc = await startInventory(t, db, cred.ref);
const api = client(svc.url);
const admin = await signToken(db, 'admin', { id: '42' });
const customer = await signToken(db, 'customer', { id: '7' });

async function auditRows(sku: string): Promise<any[]> {
  const [rows] = await db.sql.query<any[]>('SELECT delta, on_hand_after, reason, actor FROM stock_audit WHERE sku = ? ORDER BY id', [sku]);
  return rows;
}

t.test('an admin sets stock; anyone reads availability', async (t) => {
  t.equal((await api.get('/api/inventory/stock/SET-1')).status, 404, 'unknown sku');
  const set = await api.put('/api/inventory/stock/SET-1', { onHand: 25, reason: 'first delivery' }, { token: admin });
  t.equal(set.status, 200);
  t.match(set.body, { sku: 'SET-1', onHand: 25, reserved: 0, available: 25, audit: { delta: 25, onHandAfter: 25, reason: 'first delivery', actor: 'user:42' } });
  t.same((await api.get('/api/inventory/stock/SET-1')).body, { sku: 'SET-1', available: 25 });
  const lower = await api.put('/api/inventory/stock/SET-1', { onHand: 20, reason: 'stock count' }, { token: admin });
  t.equal(lower.body.audit.delta, -5);
  const same = await api.put('/api/inventory/stock/SET-1', { onHand: 20, reason: 'stock count again' }, { token: admin });
  t.equal(same.status, 200);
  t.equal(same.body.audit, null, 'no change, no audit row');
  t.match(await auditRows('SET-1'), [
    { delta: 25, on_hand_after: 25, reason: 'first delivery', actor: 'user:42' },
    { delta: -5, on_hand_after: 20, reason: 'stock count', actor: 'user:42' },
  ]);
  t.equal((await auditRows('SET-1')).length, 2);
});

t.test('adjustments restock or write off, one audit row each', async (t) => {
  await api.put('/api/inventory/stock/ADJ-1', { onHand: 10, reason: 'opening' }, { token: admin });
  const restock = await api.post('/api/inventory/stock/ADJ-1/adjustments', { delta: 15, reason: 'restock' }, { token: admin });
  t.equal(restock.status, 201);
  t.match(restock.body, { onHand: 25, available: 25, audit: { delta: 15, reason: 'restock' } });
  const writeOff = await api.post('/api/inventory/stock/ADJ-1/adjustments', { delta: -4, reason: 'damaged in transit' }, { token: admin });
  t.match(writeOff.body, { onHand: 21, audit: { delta: -4, onHandAfter: 21, reason: 'damaged in transit' } });
  const audit = await api.get('/api/inventory/stock/ADJ-1/audit?limit=2', { token: admin });
  t.equal(audit.status, 200);
  t.same((audit.body.items as Array<{ delta: number }>).map((e) => e.delta), [-4, 15], 'newest first');
  const rest = await api.get(`/api/inventory/stock/ADJ-1/audit?limit=2&before=${audit.body.nextCursor}`, { token: admin });
  t.same((rest.body.items as Array<{ delta: number }>).map((e) => e.delta), [10]);
  t.equal(rest.body.nextCursor, null);
  t.equal((await api.post('/api/inventory/stock/NEVER-SET/adjustments', { delta: 1, reason: 'x' }, { token: admin })).status, 404);
});

t.test('concurrent adjustments add up exactly', async (t) => {
  await api.put('/api/inventory/stock/ADJ-2', { onHand: 100, reason: 'opening' }, { token: admin });
  const results = await Promise.all(Array.from({ length: 30 }, (_, i) =>
    api.post('/api/inventory/stock/ADJ-2/adjustments', { delta: i % 2 ? 3 : -2, reason: `change ${i}` }, { token: admin })));
  t.same([...new Set(results.map((r) => r.status))], [201]);
  t.equal((await stockOf(db.sql, 'ADJ-2')).onHand, 100 + 15 * 3 - 15 * 2);
  t.equal((await auditRows('ADJ-2')).length, 31);
});

t.test('stock never goes below what is reserved', async (t) => {
  await api.put('/api/inventory/stock/RSV-1', { onHand: 10, reason: 'opening' }, { token: admin });
  const held = await api.post('/api/inventory/reservations', { items: [{ sku: 'RSV-1', qty: 6 }] }, { headers: { 'x-service-token': cred.token } });
  t.equal(held.status, 201);
  const tooLow = await api.put('/api/inventory/stock/RSV-1', { onHand: 5, reason: 'recount' }, { token: admin });
  t.equal(tooLow.status, 409);
  t.equal(tooLow.body.code, 'BELOW_RESERVED');
  t.equal(tooLow.body.reserved, 6);
  const writeOff = await api.post('/api/inventory/stock/RSV-1/adjustments', { delta: -5, reason: 'lost' }, { token: admin });
  t.equal(writeOff.status, 409);
  t.equal(writeOff.body.code, 'BELOW_RESERVED');
  const exact = await api.post('/api/inventory/stock/RSV-1/adjustments', { delta: -4, reason: 'lost' }, { token: admin });
  t.equal(exact.status, 201);
  t.same(await stockOf(db.sql, 'RSV-1'), { sku: 'RSV-1', onHand: 6, reserved: 6, available: 0 });
  t.equal((await auditRows('RSV-1')).length, 2, 'refusals left no audit row');
});

t.test('only admins change stock; bad input changes nothing', async (t) => {
  await api.put('/api/inventory/stock/GUARD-1', { onHand: 5, reason: 'opening' }, { token: admin });
  const cases: Array<[string, Promise<{ status: number; body: any }>, number, string]> = [
    ['no token', api.put('/api/inventory/stock/GUARD-1', { onHand: 1, reason: 'x' }), 401, 'UNAUTHORIZED'],
    ['customer token', api.put('/api/inventory/stock/GUARD-1', { onHand: 1, reason: 'x' }, { token: customer }), 403, 'FORBIDDEN'],
    ['customer adjusts', api.post('/api/inventory/stock/GUARD-1/adjustments', { delta: 1, reason: 'x' }, { token: customer }), 403, 'FORBIDDEN'],
    ['customer reads audit', api.get('/api/inventory/stock/GUARD-1/audit', { token: customer }), 403, 'FORBIDDEN'],
    ['service credential is not an admin', api.put('/api/inventory/stock/GUARD-1', { onHand: 1, reason: 'x' }, { headers: { 'x-service-token': cred.token } }), 401, 'UNAUTHORIZED'],
    ['negative stock', api.put('/api/inventory/stock/GUARD-1', { onHand: -1, reason: 'x' }, { token: admin }), 400, 'VALIDATION_FAILED'],
    ['huge stock', api.put('/api/inventory/stock/GUARD-1', { onHand: 1e10, reason: 'x' }, { token: admin }), 400, 'VALIDATION_FAILED'],
    ['huge delta', api.post('/api/inventory/stock/GUARD-1/adjustments', { delta: 999_999_999, reason: 'x' }, { token: admin }), 400, 'VALIDATION_FAILED'],
    ['zero delta', api.post('/api/inventory/stock/GUARD-1/adjustments', { delta: 0, reason: 'x' }, { token: admin }), 400, 'VALIDATION_FAILED'],
    ['no reason', api.put('/api/inventory/stock/GUARD-1', { onHand: 1 }, { token: admin }), 400, 'VALIDATION_FAILED'],
    ['control character in reason', api.put('/api/inventory/stock/GUARD-1', { onHand: 1, reason: 'a\u0007b' }, { token: admin }), 400, 'VALIDATION_FAILED'],
    ['overlong reason', api.put('/api/inventory/stock/GUARD-1', { onHand: 1, reason: 'r'.repeat(201) }, { token: admin }), 400, 'VALIDATION_FAILED'],
    ['unknown field', api.put('/api/inventory/stock/GUARD-1', { onHand: 1, reason: 'x', reserved: 0 }, { token: admin }), 400, 'VALIDATION_FAILED'],
    ['malformed sku', api.put('/api/inventory/stock/bad%20sku', { onHand: 1, reason: 'x' }, { token: admin }), 400, 'VALIDATION_FAILED'],
    ['malformed json', api.put('/api/inventory/stock/GUARD-1', undefined, { token: admin, raw: '{"onHand":' }), 400, 'MALFORMED_JSON'],
    ['bad audit limit', api.get('/api/inventory/stock/GUARD-1/audit?limit=1000', { token: admin }), 400, 'VALIDATION_FAILED'],
  ];
  for (const [name, pending, status, code] of cases) {
    const res = await pending;
    t.equal(res.status, status, `${name}: status`);
    t.equal(res.body?.code, code, `${name}: code`);
  }
  t.same(await stockOf(db.sql, 'GUARD-1'), { sku: 'GUARD-1', onHand: 5, reserved: 0, available: 5 });
  t.equal((await auditRows('GUARD-1')).length, 1);
});

t.test('the books balance', async (t) => {
  t.same(await unbalancedSkus(db.sql), []);
});
