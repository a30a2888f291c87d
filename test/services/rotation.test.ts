// Acceptance 4: the database password of a service's own MySQL user is rotated while the services
// run (in MariaDB, then in the secret file, then its open connections are cut); the next requests
// succeed without a restart, on connections opened with the new password.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { rotatableUser, testDatabase } from '../helpers/mysql.js';
import { runCommand, serviceEnv, spawnService, waitUntil } from '../helpers/processes.js';
import { client } from '../helpers/http.js';
import { signToken } from '../helpers/tokens.js';

const db = await testDatabase(t, 'rotate');
const first = randomBytes(12).toString('base64url');
const user = await rotatableUser(t, db, 'sd_rot', 'ALL PRIVILEGES', first);
const { setPassword, writeSecret } = user;
/** The service user's open connections, as the server sees them. */
const connectionsOf = () => user.connections();
const admin = user.admin;
const seeded = await runCommand('services/catalog/seed.js', ['--count', '20'], { DB_SECRET: db.refs.db });
if (seeded.code !== 0) throw new Error(`seed failed: ${seeded.stderr}`);

const catalog = await spawnService(t, 'catalog', serviceEnv(db, { CATALOG_CACHE_TTL_MS: '0', DB_POOL_MAX: '3' }));
const users = await spawnService(t, 'users', serviceEnv(db, { SCRYPT_LOG_N: '14', DB_POOL_MAX: '3' }));
const catalogApi = client(catalog.url);
const usersApi = client(users.url);
const adminToken = await signToken(db, 'admin');
const account = { email: 'rotation@example.com', password: 'plum-harbour-velvet-42', name: 'Rotation' };

/** Reads and writes on both services, through every database path they have. */
async function exercise(t: { same: (a: unknown, b: unknown, m: string) => void; equal: (a: unknown, b: unknown, m: string) => void }, round: string) {
  const skus = ['SKU-000001', 'SKU-000002', 'SKU-000003', 'SKU-000004'];
  const reads = await Promise.all(skus.map((sku) => catalogApi.get(`/api/catalog/products/${sku}`)));
  t.same(reads.map((r) => r.status), [200, 200, 200, 200], `${round}: product reads`);
  t.equal((await catalogApi.get('/api/catalog/products?limit=5')).status, 200, `${round}: listing`);
  t.equal((await catalogApi.patch('/api/catalog/products/SKU-000005', { priceCents: 4242 }, { token: adminToken })).status, 200, `${round}: admin write`);
  const login = await usersApi.post('/api/users/login', { email: account.email, password: account.password });
  t.equal(login.status, 200, `${round}: login`);
  t.equal((await usersApi.get('/api/users/me', { token: login.body.token })).status, 200, `${round}: me`);
}

t.test('rotating the password under running services', async (t) => {
  t.equal((await usersApi.post('/api/users/register', account)).status, 201);
  await exercise(t, 'before');
  const before = await connectionsOf();
  t.ok(before.length > 0, 'the services hold connections as the service user');

  const second = randomBytes(12).toString('base64url');
  await setPassword(second);
  await writeSecret(second);
  // Cut every open connection, so the next requests must connect with the new password.
  for (const id of before) await admin.query(`KILL CONNECTION ${Number(id)}`).catch(() => undefined);
  await waitUntil(async () => (await connectionsOf()).every((id) => !before.includes(id)), 'the old connections to close');

  await exercise(t, 'after');
  const after = await connectionsOf();
  t.ok(after.length > 0 && after.every((id) => !before.includes(id)), 'new connections, opened with the new password');
  t.equal(catalog.child.exitCode, null, 'catalog not restarted');
  t.equal(users.child.exitCode, null, 'users not restarted');
  t.notMatch(catalog.stderr() + users.stderr() + JSON.stringify([...catalog.logs, ...users.logs]), new RegExp(`${first}|${second}`), 'no password in any log');
});
