// A token outlives nothing (issue 15): with users, orders asks whether the account a token was
// issued to still exists (service credential, GET /api/users/accounts/:id) and refuses the token
// of a deleted or unknown user with 401 ACCOUNT_GONE, taking no stock. Real users, catalog,
// inventory and orders on real MariaDB.
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { rows, startTestShop } from '../helpers/shop.js';
import { client } from '../helpers/http.js';

// No cache: the test deletes an account between two checkouts and sees the second refused at once.
const shop = await startTestShop(t, { withUsers: true, ordersEnv: { ACCOUNT_CHECK_CACHE_SECONDS: '0' } });
const users = shop.users!;
const usersApi = client(users.service.url);
await shop.addProduct('LAMP-1', 1999, 10);

const order = (token: string) => shop.api.post('/api/orders', { items: [{ sku: 'LAMP-1', qty: 1 }] }, { token, headers: { 'idempotency-key': randomUUID() } });

async function registeredCustomer(name: string): Promise<{ id: string; token: string }> {
  const email = `${name}-${randomUUID().slice(0, 8)}@example.com`;
  const password = 'plum-harbour-velvet-42';
  const reg = await usersApi.post('/api/users/register', { email, password, name });
  if (reg.status !== 201) throw new Error(`register: ${reg.status} ${reg.text}`);
  const login = await usersApi.post('/api/users/login', { email, password });
  if (login.status !== 200) throw new Error(`login: ${login.status} ${login.text}`);
  return { id: String(reg.body.id), token: String(login.body.token) };
}

async function ordersOf(customerId: string): Promise<number> {
  const [r] = await rows(shop.dbs.orders.sql, 'SELECT COUNT(*) AS n FROM orders WHERE customer_id = ?', [customerId]);
  return Number(r!.n);
}

t.test('a deleted user\'s token is refused by orders, and no stock is taken', async (t) => {
  const carol = await registeredCustomer('carol');
  const first = await order(carol.token);
  t.equal(first.status, 201, `an existing customer checks out: ${first.text}`);
  t.equal((await shop.stock('LAMP-1')).onHand, 9);

  await users.db.sql.query('DELETE FROM users WHERE id = ?', [carol.id]);
  const after = await order(carol.token);
  t.equal(after.status, 401);
  t.equal(after.body.code, 'ACCOUNT_GONE');
  t.match(after.body.message, /no longer exists; log in again/);
  t.equal(after.headers.get('www-authenticate'), 'Bearer');
  t.equal((await shop.stock('LAMP-1')).onHand, 9, 'stock untouched');
  t.equal((await shop.stock('LAMP-1')).reserved, 0, 'nothing reserved');
  t.equal(await ordersOf(carol.id), 1, 'no order written');
  t.equal((await shop.api.get('/api/orders', { token: carol.token })).status, 401, 'nor can the token list the orders');
});

t.test('a token of an account users never had is refused', async (t) => {
  const ghost = await shop.customer('987654321');
  const res = await order(ghost);
  t.equal(res.status, 401);
  t.equal(res.body.code, 'ACCOUNT_GONE');
  t.equal((await shop.stock('LAMP-1')).onHand, 9, 'stock untouched');
});

t.test('the account check is for services only', async (t) => {
  const dave = await registeredCustomer('dave');
  const path = `/api/users/accounts/${dave.id}`;
  t.equal((await usersApi.get(path)).status, 401, 'no credential');
  t.equal((await usersApi.get(path, { token: dave.token })).status, 401, 'a customer token is not a credential');
  const ok = await usersApi.get(path, { headers: { 'x-service-token': shop.serviceToken } });
  t.equal(ok.status, 200);
  t.same(ok.body, { id: dave.id, role: 'customer' });
  const missing = await usersApi.get('/api/users/accounts/987654321', { headers: { 'x-service-token': shop.serviceToken } });
  t.equal(missing.status, 404);
  t.equal(missing.body.code, 'NOT_FOUND');
});
