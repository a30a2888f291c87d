// The shared store goes away and comes back, under a users process (dist/, as deployed): it stays
// ready, says in /readyz and once in its logs that limits are per instance, keeps limiting logins
// per instance (never opening the gate), and goes back to the store by itself; a process started
// during the outage starts anyway and finds the store once it is back. The store is a
// private redis-server on a free port, killed as in a crash.
import t from 'tap';
import { testDatabase } from '../helpers/mysql.js';
import { serviceEnv, spawnService, waitUntil } from '../helpers/processes.js';
import { startPrivateRedis } from '../helpers/private-redis.js';
import { client } from '../helpers/http.js';

const db = await testDatabase(t, 'usersoutage');
const redis = await startPrivateRedis(t);
const users = await spawnService(t, 'users', serviceEnv(db, {
  SCRYPT_LOG_N: '14',
  TRUSTED_PROXY_HOPS: '1',
  REDIS_URL: redis.url,
  REDIS_KEY_PREFIX: 'outage:',
  LOGIN_MAX_FAILURES_PER_CLIENT_ACCOUNT: '3',
}));
const api = client(users.url);
const PASSWORD = 'plum-harbour-velvet-42';
const login = (password: string, address: string) => api.post('/api/users/login', { email: 'kim@example.com', password }, { headers: { 'x-forwarded-for': address } });
const storeState = async () => ((await api.get('/readyz')).body as { throttle?: { state?: string } }).throttle?.state;
const unreachableLines = () => users.logs.filter((l) => /shared store unreachable/.test(String(l.msg))).length;
const connectedLines = () => users.logs.filter((l) => /shared store connected/.test(String(l.msg))).length;

t.test('with the store: shared, said in /readyz', async (t) => {
  t.equal((await api.post('/api/users/register', { email: 'kim@example.com', password: PASSWORD, name: 'Kim' })).status, 201);
  const res = await api.get('/readyz');
  t.match(res.body, { status: 'ready', throttle: { store: 'redis', state: 'connected', shared: true } });
  t.equal(connectedLines(), 1);
});

t.test('store killed: still ready, says so once, logins still limited per instance', async (t) => {
  await redis.kill();
  await waitUntil(async () => (await storeState()) === 'unreachable', '/readyz to say the store is unreachable', 20_000);
  const ready = await api.get('/readyz');
  t.equal(ready.status, 200, 'a store outage does not take logins down');
  t.match(ready.body, { status: 'ready', throttle: { store: 'redis', shared: false, message: /unreachable.*per instance/ } });
  for (let i = 0; i < 3; i++) t.equal((await login(`wrong-guess-${i}-xyz`, '192.0.2.1')).status, 401);
  const blocked = await login(PASSWORD, '192.0.2.1');
  t.equal(blocked.status, 429, 'the gate narrows to a per-instance limit, it does not open');
  t.ok(Number(blocked.headers.get('retry-after')) >= 1);
  t.equal((await login(PASSWORD, '192.0.2.2')).status, 200, 'the owner from another client still logs in');
  await users.waitForLog((l) => /shared store unreachable/.test(String(l.msg)));
  t.equal(unreachableLines(), 1, 'one log line for the transition, not one per request or reconnection attempt');
  t.equal((await api.get('/healthz')).status, 200);
});

let late: ReturnType<typeof client> | undefined;
let lateLogs: Array<Record<string, unknown>> = [];
t.test('a process started while the store is down starts with per-instance limits', async (st) => {
  // Spawned for the rest of the file (the file's teardown ends it), not for this subtest only.
  const started = await spawnService(t, 'users', serviceEnv(db, { SCRYPT_LOG_N: '14', TRUSTED_PROXY_HOPS: '1', REDIS_URL: redis.url, REDIS_KEY_PREFIX: 'outage:' }));
  late = client(started.url);
  lateLogs = started.logs;
  st.match((await late.get('/readyz')).body, { status: 'ready', throttle: { state: 'unreachable', shared: false } });
  st.equal((await late.post('/api/users/login', { email: 'kim@example.com', password: PASSWORD }, { headers: { 'x-forwarded-for': '192.0.2.9' } })).status, 200);
});

t.test('store back: the service reconnects by itself and says so', async (t) => {
  await redis.start();
  await waitUntil(async () => (await storeState()) === 'connected', '/readyz to say the store is back', 20_000);
  t.match((await api.get('/readyz')).body, { throttle: { shared: true } });
  await users.waitForLog((l) => /shared store connected/.test(String(l.msg)) && connectedLines() === 2);
  t.equal(unreachableLines(), 1);
  t.equal((await login(PASSWORD, '192.0.2.3')).status, 200);
  const other = late!;
  await waitUntil(async () => ((await other.get('/readyz')).body as { throttle?: { state?: string } }).throttle?.state === 'connected', 'the process started during the outage to reach the store', 20_000).catch((err: Error) => {
    throw new Error(`${err.message}\n${lateLogs.filter((l) => l.level !== 30 || /store/.test(String(l.msg))).map((l) => JSON.stringify(l)).join('\n')}`);
  });
});
