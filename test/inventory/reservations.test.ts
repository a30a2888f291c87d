// The reservation API over HTTP against real MariaDB: all-or-nothing holds, idempotent commit and
// release, expiry by the sweeper, the service credential, bad input, and overlapping baskets.
import t from 'tap';
import { testDatabase } from '../helpers/mysql.js';
import { client } from '../helpers/http.js';
import { putStock, serviceCredential, startInventory, stockOf, unbalancedSkus } from '../helpers/inventory.js';
import { waitUntil } from '../helpers/processes.js';

const db = await testDatabase(t, 'invres');
const cred = await serviceCredential(db);
const svc = await startInventory(t, db, cred.ref);
const api = client(svc.url);
const service = { headers: { 'x-service-token': cred.token } };

const reserve = (items: Array<{ sku: string; qty: number }>, ttlSeconds?: number) =>
  api.post('/api/inventory/reservations', ttlSeconds === undefined ? { items } : { items, ttlSeconds }, service);

async function heldCount(): Promise<number> {
  const [rows] = await db.sql.query<any[]>("SELECT COUNT(*) AS n FROM reservations WHERE status = 'HELD'");
  return Number(rows[0].n);
}

// Runs after the subtests: each one leaves the books balanced.
t.afterEach(async () => {
  const unbalanced = await unbalancedSkus(db.sql);
  if (unbalanced.length > 0) t.fail(`books out of balance: ${JSON.stringify(unbalanced)}`);
});

t.test('the service credential is required and compared exactly', async (t) => {
  await putStock(db.sql, 'CRED-1', 5);
  const body = { items: [{ sku: 'CRED-1', qty: 1 }] };
  const attempts: Array<Record<string, string>> = [{}, { 'x-service-token': '' }, { 'x-service-token': cred.token.slice(0, -1) }, { 'x-service-token': `${cred.token}x` }, { authorization: `Bearer ${cred.token}` }];
  for (const headers of attempts) {
    const res = await api.post('/api/inventory/reservations', body, { headers });
    t.equal(res.status, 401, `refused with ${JSON.stringify(Object.keys(headers))}`);
    t.equal(res.body.code, 'UNAUTHORIZED');
    t.notMatch(res.text, cred.token, 'the credential is not echoed');
  }
  const fake = '00000000-0000-4000-8000-000000000000';
  t.equal((await api.post(`/api/inventory/reservations/${fake}/commit`)).status, 401);
  t.equal((await api.post(`/api/inventory/reservations/${fake}/release`)).status, 401);
  t.equal((await api.get(`/api/inventory/reservations/${fake}`)).status, 401);
  t.equal((await stockOf(db.sql, 'CRED-1')).reserved, 0, 'nothing reserved');
});

t.test('a reservation holds every line or none', async (t) => {
  await putStock(db.sql, 'AON-A', 5);
  await putStock(db.sql, 'AON-B', 2);
  const short = await reserve([{ sku: 'AON-A', qty: 3 }, { sku: 'AON-B', qty: 3 }]);
  t.equal(short.status, 409);
  t.equal(short.body.code, 'OUT_OF_STOCK');
  t.same(short.body.items, [{ sku: 'AON-B', requested: 3, available: 2 }], 'names the short line with what is left');
  t.equal((await stockOf(db.sql, 'AON-A')).reserved, 0, 'the line that fitted was not held either');

  const held = await reserve([{ sku: 'AON-B', qty: 2 }, { sku: 'AON-A', qty: 3 }], 60);
  t.equal(held.status, 201);
  t.match(held.body, { reservationId: /^[0-9a-f-]{36}$/, status: 'HELD', items: [{ sku: 'AON-B', qty: 2 }, { sku: 'AON-A', qty: 3 }] });
  const expiresIn = Date.parse(held.body.expiresAt) - Date.now();
  t.ok(expiresIn > 50_000 && expiresIn <= 61_000, 'expiresAt is ttlSeconds away');
  t.same(await stockOf(db.sql, 'AON-A'), { sku: 'AON-A', onHand: 5, reserved: 3, available: 2 });
  t.same((await api.get('/api/inventory/stock/AON-B')).body, { sku: 'AON-B', available: 0 });
  t.same((await reserve([{ sku: 'AON-B', qty: 1 }])).body.items, [{ sku: 'AON-B', requested: 1, available: 0 }]);
});

t.test('commit sells the units; repeating it answers the same; release after commit returns them', async (t) => {
  await putStock(db.sql, 'COM-1', 10);
  const { body: r } = await reserve([{ sku: 'COM-1', qty: 4 }]);
  const first = await api.post(`/api/inventory/reservations/${r.reservationId}/commit`, undefined, service);
  t.equal(first.status, 200);
  t.equal(first.body.status, 'COMMITTED');
  const again = await api.post(`/api/inventory/reservations/${r.reservationId}/commit`, undefined, service);
  t.same(again.body, first.body, 'the same answer');
  t.same(await stockOf(db.sql, 'COM-1'), { sku: 'COM-1', onHand: 6, reserved: 0, available: 6 }, 'sold once');
  const [audit] = await db.sql.query<any[]>('SELECT delta, on_hand_after, reason, actor, reservation_id FROM stock_audit WHERE sku = ? ORDER BY id', ['COM-1']);
  t.match(audit[1], { delta: -4, on_hand_after: 6, reason: /sold/, actor: `reservation:${r.reservationId}`, reservation_id: r.reservationId });

  const released = await api.post(`/api/inventory/reservations/${r.reservationId}/release`, undefined, service);
  t.equal(released.status, 200);
  t.equal(released.body.status, 'RELEASED');
  const releasedAgain = await api.post(`/api/inventory/reservations/${r.reservationId}/release`, undefined, service);
  t.same(releasedAgain.body, released.body, 'release repeated answers the same');
  t.same(await stockOf(db.sql, 'COM-1'), { sku: 'COM-1', onHand: 10, reserved: 0, available: 10 }, 'returned once');
  const late = await api.post(`/api/inventory/reservations/${r.reservationId}/commit`, undefined, service);
  t.equal(late.status, 409);
  t.equal(late.body.code, 'RESERVATION_RELEASED');
});

t.test('commits arriving together share a transaction and answer each as alone', async (t) => {
  await putStock(db.sql, 'GRP-1', 20);
  await putStock(db.sql, 'GRP-2', 20);
  const held = [];
  for (let i = 0; i < 6; i++) held.push((await reserve([{ sku: 'GRP-1', qty: 1 + (i % 2) }, ...(i % 3 === 0 ? [{ sku: 'GRP-2', qty: 2 }] : [])])).body);
  const late = (await reserve([{ sku: 'GRP-2', qty: 3 }])).body;
  await db.sql.query('UPDATE reservations SET expires_at = NOW(3) - INTERVAL 1 SECOND WHERE id = ?', [late.reservationId]);
  // Every commit twice, all at once, the expired one among them: they land in shared batches.
  const ids = [...held.map((r) => r.reservationId as string), late.reservationId as string];
  const answers = await Promise.all([...ids, ...ids].map((id) => api.post(`/api/inventory/reservations/${id}/commit`, undefined, service)));
  for (let i = 0; i < ids.length - 1; i++) {
    t.equal(answers[i]!.status, 200);
    t.equal(answers[i]!.body.status, 'COMMITTED');
    t.same(answers[i + ids.length]!.body, answers[i]!.body, 'a repeated commit answers the same');
  }
  t.equal(answers[ids.length - 1]!.status, 409);
  t.equal(answers[ids.length - 1]!.body.code, 'RESERVATION_EXPIRED');
  t.equal(answers[2 * ids.length - 1]!.body.code, 'RESERVATION_EXPIRED');
  t.same(await stockOf(db.sql, 'GRP-1'), { sku: 'GRP-1', onHand: 11, reserved: 0, available: 11 }, 'sold once each: 1+2+1+2+1+2');
  t.same(await stockOf(db.sql, 'GRP-2'), { sku: 'GRP-2', onHand: 16, reserved: 0, available: 16 }, 'two baskets of 2 sold, the expired 3 freed');
  // The audit walks on_hand down one sale at a time, whichever batch each sale was in.
  const [audit] = await db.sql.query<any[]>("SELECT delta, on_hand_after FROM stock_audit WHERE sku = 'GRP-1' ORDER BY id");
  let onHand = 0;
  for (const a of audit) {
    onHand += Number(a.delta);
    t.equal(Number(a.on_hand_after), onHand, `on_hand after ${a.delta}`);
  }
  for (const r of held) t.equal((await api.get(`/api/inventory/reservations/${r.reservationId}`, service)).body.status, 'COMMITTED');
});

t.test('release frees held units once', async (t) => {
  await putStock(db.sql, 'REL-1', 3);
  const { body: r } = await reserve([{ sku: 'REL-1', qty: 3 }]);
  const results = await Promise.all(Array.from({ length: 5 }, () => api.post(`/api/inventory/reservations/${r.reservationId}/release`, undefined, service)));
  t.same(results.map((x) => x.status), [200, 200, 200, 200, 200]);
  t.same(new Set(results.map((x) => JSON.stringify(x.body))).size, 1, 'every answer the same');
  t.same(await stockOf(db.sql, 'REL-1'), { sku: 'REL-1', onHand: 3, reserved: 0, available: 3 });
  const gone = await api.get(`/api/inventory/reservations/${r.reservationId}`, service);
  t.equal(gone.body.status, 'RELEASED');
  t.equal((await api.post('/api/inventory/reservations/00000000-0000-4000-8000-000000000000/release', undefined, service)).status, 404);
  t.equal((await api.post('/api/inventory/reservations/not-a-uuid/commit', undefined, service)).status, 404);
});

t.test('an expired reservation is released by the sweeper and can no longer be committed', async (t) => {
  await putStock(db.sql, 'EXP-1', 2);
  const { body: r } = await reserve([{ sku: 'EXP-1', qty: 2 }], 1);
  t.equal((await stockOf(db.sql, 'EXP-1')).available, 0);
  await waitUntil(async () => (await stockOf(db.sql, 'EXP-1')).available === 2, 'the sweeper to free the stock', 20_000, 25);
  const view = await api.get(`/api/inventory/reservations/${r.reservationId}`, service);
  t.equal(view.body.status, 'EXPIRED');
  const commit = await api.post(`/api/inventory/reservations/${r.reservationId}/commit`, undefined, service);
  t.equal(commit.status, 409);
  t.equal(commit.body.code, 'RESERVATION_EXPIRED');
  t.equal((await stockOf(db.sql, 'EXP-1')).onHand, 2, 'nothing sold');
});

t.test('a commit that comes after expiry but before the sweeper is refused too', async (t) => {
  await putStock(db.sql, 'EXP-2', 1);
  const { body: r } = await reserve([{ sku: 'EXP-2', qty: 1 }], 1);
  // Move the expiry into the past directly: the sweeper may or may not have run yet; either way the answer is the same.
  await db.sql.query('UPDATE reservations SET expires_at = NOW(3) - INTERVAL 1 SECOND WHERE id = ?', [r.reservationId]);
  const commit = await api.post(`/api/inventory/reservations/${r.reservationId}/commit`, undefined, service);
  t.equal(commit.status, 409);
  t.equal(commit.body.code, 'RESERVATION_EXPIRED');
  t.same(await stockOf(db.sql, 'EXP-2'), { sku: 'EXP-2', onHand: 1, reserved: 0, available: 1 });
});

t.test('bad input is refused and nothing is reserved', async (t) => {
  await putStock(db.sql, 'BAD-1', 1_000_000);
  const before = await heldCount();
  const many = Array.from({ length: 1000 }, (_, i) => ({ sku: `BAD-${i + 1}`, qty: 1 }));
  const cases: Array<[string, unknown, number, string]> = [
    ['zero quantity', { items: [{ sku: 'BAD-1', qty: 0 }] }, 400, 'VALIDATION_FAILED'],
    ['negative quantity', { items: [{ sku: 'BAD-1', qty: -3 }] }, 400, 'VALIDATION_FAILED'],
    ['huge quantity', { items: [{ sku: 'BAD-1', qty: 1e12 }] }, 400, 'VALIDATION_FAILED'],
    ['fractional quantity', { items: [{ sku: 'BAD-1', qty: 1.5 }] }, 400, 'VALIDATION_FAILED'],
    ['quantity as a string', { items: [{ sku: 'BAD-1', qty: '1' }] }, 400, 'VALIDATION_FAILED'],
    ['a sku twice', { items: [{ sku: 'BAD-1', qty: 1 }, { sku: 'BAD-1', qty: 1 }] }, 400, 'VALIDATION_FAILED'],
    ['1,000 lines', { items: many }, 400, 'VALIDATION_FAILED'],
    ['no lines', { items: [] }, 400, 'VALIDATION_FAILED'],
    ['unknown field', { items: [{ sku: 'BAD-1', qty: 1 }], hold: true }, 400, 'VALIDATION_FAILED'],
    ['sql-looking sku', { items: [{ sku: "BAD-1' OR 1=1 --", qty: 1 }] }, 400, 'VALIDATION_FAILED'],
    ['unknown sku', { items: [{ sku: 'NO-SUCH-SKU', qty: 1 }] }, 409, 'OUT_OF_STOCK'],
    ['ttl of zero', { items: [{ sku: 'BAD-1', qty: 1 }], ttlSeconds: 0 }, 400, 'VALIDATION_FAILED'],
  ];
  for (const [name, body, status, code] of cases) {
    const res = await api.post('/api/inventory/reservations', body, service);
    t.equal(res.status, status, `${name}: status`);
    t.equal(res.body?.code, code, `${name}: code`);
  }
  const malformed = await api.post('/api/inventory/reservations', undefined, { ...service, raw: '{"items": [' });
  t.equal(malformed.status, 400);
  t.equal(await heldCount(), before, 'no reservation was written');
  t.equal((await stockOf(db.sql, 'BAD-1')).reserved, 0);
});

t.test('overlapping baskets in different orders: no deadlock reaches a client, nothing oversold', async (t) => {
  const skus = ['OVL-A', 'OVL-B', 'OVL-C', 'OVL-D', 'OVL-E'];
  for (const sku of skus) await putStock(db.sql, sku, 40);
  // 150 baskets of 2-4 skus in shuffled order; some commit, some release, the rest stay held.
  const baskets = Array.from({ length: 150 }, (_, i) => {
    const picked = skus.filter((_, j) => (i * 7 + j * 3) % 5 < 2 + (i % 3));
    const rotated = [...picked.slice(i % picked.length), ...picked.slice(0, i % picked.length)];
    return rotated.map((sku, j) => ({ sku, qty: 1 + ((i + j) % 2) }));
  });
  const results = await Promise.all(
    baskets.map(async (items, i) => {
      const res = await reserve(items);
      if (res.status === 201 && i % 3 === 0) await api.post(`/api/inventory/reservations/${res.body.reservationId}/commit`, undefined, service);
      if (res.status === 201 && i % 3 === 1) await api.post(`/api/inventory/reservations/${res.body.reservationId}/release`, undefined, service);
      return res;
    }),
  );
  const statuses = results.map((r) => r.status);
  t.same([...new Set(statuses)].sort(), [201, 409].filter((s) => statuses.includes(s)), 'only 201 and 409');
  t.ok(statuses.includes(201) && statuses.includes(409), 'some baskets fit, some did not');
  for (const sku of skus) {
    const s = await stockOf(db.sql, sku);
    const [sold] = await db.sql.query<any[]>(
      "SELECT COALESCE(SUM(ri.qty), 0) AS n FROM reservation_items ri JOIN reservations r ON r.id = ri.reservation_id WHERE ri.sku = ? AND r.status = 'COMMITTED'", [sku]);
    t.equal(Number(sold[0].n) + s.onHand, 40, `${sku}: sold + on hand = initial stock`);
    t.ok(s.available >= 0, `${sku}: available never negative`);
  }
});
