// Throttling shared through Redis: two users instances on one Redis (the machine's, under this
// file's own key prefix) and one database count the same failures, a third instance started later
// sees them, and no account is locked for its owner. Clients are told apart by X-Forwarded-For
// behind one trusted proxy, as behind the gateway.
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { Redis } from 'ioredis';
import { usersService } from '../../services/users/service.js';
import { testDatabase } from '../helpers/mysql.js';
import { startTestService } from '../helpers/service.js';
import { client } from '../helpers/http.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `sd-test:${process.pid}:${randomBytes(3).toString('hex')}:`;
const redis = new Redis(REDIS_URL);
t.teardown(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
});

const db = await testDatabase(t, 'usersshared');
const env = {
  SCRYPT_LOG_N: '14',
  TRUSTED_PROXY_HOPS: '1',
  REDIS_URL,
  REDIS_KEY_PREFIX: prefix,
  LOGIN_MAX_FAILURES_PER_CLIENT_ACCOUNT: '5',
  LOGIN_MAX_FAILURES_PER_CLIENT: '12',
  LOGIN_MAX_FAILURES_PER_ACCOUNT: '20',
  REGISTER_MAX_PER_CLIENT: '3',
};
const one = client((await startTestService(t, usersService, db, env)).url);
const two = client((await startTestService(t, usersService, db, env)).url);
const PASSWORD = 'plum-harbour-velvet-42';
const from = (address: string) => ({ headers: { 'x-forwarded-for': `203.0.113.250, ${address}` } });
const login = (api: typeof one, email: string, password: string, address: string) => api.post('/api/users/login', { email, password }, from(address));

t.test('readyz says the limits are shared through Redis', async (t) => {
  const res = await one.get('/readyz');
  t.equal(res.status, 200);
  t.match(res.body, { status: 'ready', throttle: { store: 'redis', state: 'connected', shared: true } });
});

t.test('failures on one account block the attacking client there, on every instance, not the owner elsewhere', async (t) => {
  t.equal((await one.post('/api/users/register', { email: 'owner@example.com', password: PASSWORD, name: 'Owner' }, from('192.0.2.200'))).status, 201);
  for (let i = 0; i < 5; i++) {
    t.equal((await login(i % 2 ? two : one, 'owner@example.com', `wrong-guess-${i}-xyz`, '192.0.2.1')).status, 401, `failure ${i + 1}`);
  }
  for (const api of [one, two]) {
    const blocked = await login(api, 'OWNER@example.com', PASSWORD, '192.0.2.1');
    t.equal(blocked.status, 429, 'the attacker waits, even with the right password');
    t.same(Object.keys(blocked.body).sort(), ['code', 'message', 'retryAfter']);
    t.equal(blocked.body.code, 'TOO_MANY_REQUESTS');
    t.ok(Number(blocked.headers.get('retry-after')) >= 1);
  }
  t.equal((await login(two, 'owner@example.com', PASSWORD, '192.0.2.2')).status, 200, 'the owner from another client gets in');
  t.equal((await login(one, 'owner@example.com', PASSWORD, '192.0.2.2')).status, 200);
});

t.test('failures on many accounts block the client everywhere, on every instance', async (t) => {
  // 192.0.2.1 has 5 failures and 2 blocked attempts counted; more on other accounts reach 12.
  for (let i = 0; i < 5; i++) t.equal((await login(i % 2 ? one : two, `nobody${i}@example.com`, 'wrong-guess-abc', '192.0.2.1')).status, 401);
  t.equal((await login(one, 'ghost@example.com', 'wrong-guess-abc', '192.0.2.1')).status, 429, 'a client that guessed too much is refused on any account');
  t.equal((await login(two, 'owner@example.com', PASSWORD, '192.0.2.3')).status, 200, 'other clients are not');
});

t.test('an instance started later sees the counts made before it', async (t) => {
  const three = client((await startTestService(t, usersService, db, env)).url);
  t.equal((await login(three, 'owner@example.com', PASSWORD, '192.0.2.1')).status, 429);
  t.equal((await login(three, 'owner@example.com', PASSWORD, '192.0.2.4')).status, 200);
});

t.test('many clients together on one account: those that failed wait, the owner does not', async (t) => {
  for (let i = 0; i < 21; i++) t.equal((await login(i % 2 ? one : two, 'owner@example.com', 'wrong-guess-abc', `198.51.100.${i + 1}`)).status, 401);
  t.equal((await login(one, 'owner@example.com', PASSWORD, '198.51.100.1')).status, 429, 'a client that failed on the account is held back by the account-wide bound');
  t.equal((await login(two, 'owner@example.com', PASSWORD, '198.51.100.200')).status, 200, 'the owner from a client without failures gets in');
});

t.test('registrations are throttled per client across instances, EMAIL_TAKEN included', async (t) => {
  const reg = (api: typeof one, email: string, address: string) => api.post('/api/users/register', { email, password: PASSWORD, name: 'Reg' }, from(address));
  t.equal((await reg(one, 'reg1@example.com', '192.0.2.50')).status, 201);
  t.equal((await reg(two, 'reg1@example.com', '192.0.2.50')).status, 409);
  t.equal((await reg(one, 'owner@example.com', '192.0.2.50')).status, 409);
  const blocked = await reg(two, 'reg2@example.com', '192.0.2.50');
  t.equal(blocked.status, 429);
  t.equal(blocked.body.code, 'TOO_MANY_REQUESTS');
  t.type(blocked.body.message, 'string');
  t.ok(Number(blocked.headers.get('retry-after')) >= 1);
  const [[{ n }]] = (await db.sql.query("SELECT COUNT(*) AS n FROM users WHERE email = 'reg2@example.com'")) as unknown as [[{ n: number }]];
  t.equal(n, 0, 'nothing was made');
  t.equal((await reg(one, 'reg2@example.com', '192.0.2.51')).status, 201, 'another client registers');
});

t.test('the store holds no email address', async (t) => {
  const keys = await redis.keys(`${prefix}*`);
  t.ok(keys.length > 0);
  t.notOk(keys.some((k) => k.includes('@')), `${keys.length} keys, none with an email address`);
});
