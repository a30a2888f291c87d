// The shared store's AUTH token rotates under a users process (dist/, as deployed) while logins
// keep coming: the rotation module (playbooks/lib/modules/cache-token-rotation.ts) runs against a
// real redis-server whose default user's passwords play ElastiCache's ROTATE (a second password
// beside the first) and SET (that one only). No login fails, the store never leaves 'connected',
// a reconnection after the rotation presents the new token, and the old token no longer opens the
// server. The token lives in a secrets file re-read every second (SECRETS_REFRESH_SECONDS=1).
import t from 'tap';
import { readFile, writeFile } from 'node:fs/promises';
import { Redis } from 'ioredis';
import { type CacheTokenServer, newCacheToken, rotateCacheToken } from '../../playbooks/lib/modules/cache-token-rotation.js';
import { testDatabase } from '../helpers/mysql.js';
import { serviceEnv, spawnService, waitUntil } from '../helpers/processes.js';
import { redisAnswers, startPrivateRedis } from '../helpers/private-redis.js';
import { client } from '../helpers/http.js';
import { runTask } from '../playbooks/support.js';

const db = await testDatabase(t, 'userstokenrot');
const redis = await startPrivateRedis(t);
const first = newCacheToken();
const admin = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
await admin.connect();
await admin.call('ACL', 'SETUSER', 'default', 'resetpass', `>${first}`);
t.teardown(() => admin.disconnect());

const secretsFile = db.refs.db.slice('file:'.length, db.refs.db.indexOf('#'));
const readSecrets = async () => JSON.parse(await readFile(secretsFile, 'utf8')) as Record<string, Record<string, unknown>>;
await writeFile(secretsFile, JSON.stringify({ ...(await readSecrets()), 'redis-auth': { authToken: first } }), { mode: 0o600 });

const users = await spawnService(t, 'users', serviceEnv(db, {
  SCRYPT_LOG_N: '14',
  TRUSTED_PROXY_HOPS: '1',
  REDIS_URL: redis.url,
  REDIS_AUTH_SECRET: `file:${secretsFile}#redis-auth`,
  REDIS_KEY_PREFIX: 'tokenrot:',
  // The account-wide bound out of the way: the wrong passwords here come from 50 clients.
  LOGIN_MAX_FAILURES_PER_ACCOUNT: '100000',
  SECRETS_REFRESH_SECONDS: '1',
}));
const api = client(users.url);
const PASSWORD = 'amber-quay-lantern-17';
const storeState = async () => ((await api.get('/readyz')).body as { throttle?: { state?: string } }).throttle?.state;

/** The redis-server's default user as the rotation's server, as ElastiCache's ROTATE and SET behave. */
const server: CacheTokenServer = {
  label: `redis-server on port ${redis.port}`,
  addToken: async (token) => void (await admin.call('ACL', 'SETUSER', 'default', `>${token}`)),
  keepOnly: async (token) => void (await admin.call('ACL', 'SETUSER', 'default', 'resetpass', `>${token}`)),
};

t.test('the store is reached with the first token', async (t) => {
  t.equal((await api.post('/api/users/register', { email: 'ada@example.com', password: PASSWORD, name: 'Ada' })).status, 201);
  await waitUntil(async () => (await storeState()) === 'connected', 'the store to be connected', 10_000);
  t.equal(await redisAnswers(redis.url), false, 'the server wants a token');
});

t.test('logins during the rotation: none fails, the store stays shared', async (t) => {
  const statuses = new Map<number, number>();
  const states = new Set<string | undefined>();
  let running = true;
  let n = 0;
  const traffic = (async () => {
    while (running) {
      n += 1;
      const address = `198.51.100.${(n % 50) + 1}`;
      const good = await api.post('/api/users/login', { email: 'ada@example.com', password: PASSWORD }, { headers: { 'x-forwarded-for': address } });
      const wrong = await api.post('/api/users/login', { email: 'ada@example.com', password: `not-it-${n}` }, { headers: { 'x-forwarded-for': `203.0.113.${(n % 50) + 1}` } });
      for (const s of [good.status, wrong.status]) statuses.set(s, (statuses.get(s) ?? 0) + 1);
      states.add(await storeState());
    }
  })();
  const store = {
    read: async () => (await readSecrets())['redis-auth']!,
    write: async (value: Record<string, unknown>) => writeFile(secretsFile, JSON.stringify({ ...(await readSecrets()), 'redis-auth': value }), { mode: 0o600 }),
  };
  const r = await runTask([], (ctx) => rotateCacheToken({ label: 'secrets file redis-auth', propagationMs: 2_000 }, store, server, ctx));
  // A little more traffic after the old token is gone.
  const until = n + 20;
  await waitUntil(() => Promise.resolve(n >= until), 'traffic after the rotation', 30_000);
  running = false;
  await traffic;
  t.equal(r.outcome.status, 'changed');
  t.comment(`${n * 2} logins during and after the rotation: ${JSON.stringify(Object.fromEntries(statuses))}; store states seen: ${[...states].join(', ')}`);
  t.same([...statuses.keys()].sort(), [200, 401], 'right passwords get in, wrong ones are refused, nothing else (no 429 from an opened or narrowed gate, no 5xx)');
  t.same([...states], ['connected'], 'the store never left connected');
  const now = (await readSecrets())['redis-auth']!;
  t.not(now.authToken, first);
  t.equal(await redisAnswers(redis.url, first), false, 'the old token no longer opens the server');
  t.equal(await redisAnswers(redis.url, String(now.authToken)), true, 'the new one does');
});

t.test('a reconnection after the rotation presents the new token', async (t) => {
  const connected = () => users.logs.filter((l) => /shared store connected/.test(String(l.msg))).length;
  const before = connected();
  await admin.call('ACL', 'LOG', 'RESET');
  await admin.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
  await waitUntil(() => Promise.resolve(connected() > before), 'users to reconnect to the store', 10_000);
  t.equal(await storeState(), 'connected', 'back on the shared store');
  // Redis logs every refused AUTH in its ACL log (reason 'auth').
  const refused = ((await admin.call('ACL', 'LOG')) as unknown[][]).filter((entry) => entry.includes('auth'));
  t.equal(refused.length, 0, 'the server never refused the token users presented');
  const counted = await admin.keys('tokenrot:*');
  t.ok(counted.length > 0, 'the failed logins are counted in the shared store');
});
