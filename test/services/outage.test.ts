// Acceptance 2: each service started alone from dist answers /healthz and /readyz; when its
// database (a private MariaDB started here) stops, /readyz turns 503 within seconds while /healthz
// stays 200; when the database is back, /readyz is 200 again and requests work, with no restart.
import t from 'tap';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateSigningKeys } from '../../services/kit/auth.js';
import { startPrivateMariadb } from '../helpers/private-mariadb.js';
import { spawnService, waitUntil, type SpawnedService } from '../helpers/processes.js';
import { client } from '../helpers/http.js';

const mariadb = await startPrivateMariadb(t);
const root = await mariadb.connect();
await root.query('CREATE DATABASE catalog CHARACTER SET utf8mb4');
await root.query('CREATE DATABASE users CHARACTER SET utf8mb4');
await root.end();

const keys = await generateSigningKeys();
const secretsFile = join(mariadb.dir, 'secrets.json');
const dbSecret = (dbname: string) => ({ engine: 'mysql', host: mariadb.host, port: mariadb.port, username: 'root', password: '', dbname });
await writeFile(secretsFile, JSON.stringify({ 'db/catalog': dbSecret('catalog'), 'db/users': dbSecret('users'), jwt: keys, 'jwt-public': { publicKey: keys.publicKey } }), { mode: 0o600 });
await chmod(secretsFile, 0o600);

const envFor = (name: string) => ({
  PORT: '0',
  DB_SECRET: `file:${secretsFile}#db/${name}`,
  JWT_VERIFY_SECRET: `file:${secretsFile}#jwt-public`,
  JWT_SIGNING_SECRET: `file:${secretsFile}#jwt`,
  MIGRATE_ON_START: 'true',
  SCRYPT_LOG_N: '14',
  ACCESS_LOG: 'false',
});

const status = async (svc: SpawnedService, path: string) => (await fetch(`${svc.url}${path}`)).status;

const catalog = await spawnService(t, 'catalog', envFor('catalog'));
const users = await spawnService(t, 'users', envFor('users'));
const catalogApi = client(catalog.url);
const usersApi = client(users.url);
const account = { email: 'outage@example.com', password: 'plum-harbour-velvet-42', name: 'Outage' };

t.test('each service answers /healthz and /readyz and does its work', async (t) => {
  for (const svc of [catalog, users]) {
    t.equal(await status(svc, '/healthz'), 200, `${svc.name} healthz`);
    t.equal(await status(svc, '/readyz'), 200, `${svc.name} readyz`);
  }
  t.equal((await catalogApi.get('/api/catalog/categories')).status, 200);
  t.equal((await usersApi.post('/api/users/register', account)).status, 201);
});

t.test('database down: /readyz 503 within seconds, /healthz still 200, requests 503', async (t) => {
  await mariadb.stop();
  const stoppedAt = Date.now();
  for (const svc of [catalog, users]) {
    await waitUntil(async () => (await status(svc, '/readyz')) === 503, `${svc.name} /readyz to turn 503`, 15_000);
    t.pass(`${svc.name} /readyz 503 after ${((Date.now() - stoppedAt) / 1000).toFixed(1)} s`);
    t.equal(await status(svc, '/healthz'), 200, `${svc.name} healthz`);
  }
  const product = await catalogApi.get('/api/catalog/products/SKU-000001');
  t.equal(product.status, 503);
  t.equal(product.body.code, 'DATABASE_UNAVAILABLE');
  t.ok(product.headers.get('retry-after'));
  const login = await usersApi.post('/api/users/login', { email: account.email, password: account.password });
  t.equal(login.status, 503);
  t.equal(login.body.code, 'DATABASE_UNAVAILABLE');
});

t.test('database back: /readyz 200 and requests work, same processes', async (t) => {
  await mariadb.start();
  for (const svc of [catalog, users]) {
    await waitUntil(async () => (await status(svc, '/readyz')) === 200, `${svc.name} /readyz to turn 200`, 30_000);
    t.equal(svc.child.exitCode, null, `${svc.name} was not restarted`);
  }
  t.equal((await catalogApi.get('/api/catalog/categories')).status, 200);
  t.equal((await catalogApi.get('/api/catalog/products/SKU-000001')).status, 404, 'the product read works again (there is no such product)');
  const login = await usersApi.post('/api/users/login', { email: account.email, password: account.password });
  t.equal(login.status, 200);
  t.equal((await usersApi.get('/api/users/me', { token: login.body.token })).status, 200);
});

t.test('both stop cleanly', async (t) => {
  for (const svc of [catalog, users]) {
    svc.child.kill('SIGTERM');
    t.equal(await svc.exited, 0, `${svc.name} exit code`);
  }
});
