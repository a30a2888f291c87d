// Rotation of every local secret under load, end to end: a private shop (services re-read their
// secrets every second, tokens live 60 s), 60 s of autocannon traffic through the gateway that
// browses, asks who am I and checks out (orders → inventory and orders → users with the service
// credential, tokens verified by orders and users, every service on its database) and beside it
// 60 s of the load harness (./loadtest/run.mjs: every sale-day journey, its own accounts signing
// in, registering and buying, judged on 0% errors), while
// `deploy -e rotate=jwt,service-credential,database` and then `-e rotate=database` run. Not one
// request may fail. Afterwards only the new values verify: a token signed by the old key (not
// expired) is refused once its grace has passed, the old service credential too, and the first
// database credentials no longer log in.
import t from 'tap';
import { randomBytes, randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import mysql from 'mysql2/promise';
import { TokenSigner } from '../../services/kit/auth.js';
import { expectExit, localShop, printedUrl, recap } from '../helpers/local-shop.js';
import { waitFor } from '../local/fleet-harness.js';
import { join } from 'node:path';
import { besideProfile, failedEndpoints, runCli, runEndpoints } from '../loadtest/helpers.js';

t.setTimeout(400_000);

const SERVICES = ['users', 'catalog', 'inventory', 'orders'];
const shop = await localShop(t, {
  overrides: [...SERVICES.map((s) => `services.${s}.environment.SECRETS_REFRESH_SECONDS=1`), 'services.users.environment.TOKEN_TTL_SECONDS=60'],
});
const rotateTags = ['--tags', 'secrets,database'];

let url = '';
const json = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
  const res = await fetch(new URL(path, url), { method, headers: { 'content-type': 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, body: (await res.json().catch(() => ({}))) as Record<string, any> };
};
const canLogIn = async (s: Record<string, string>): Promise<boolean> => {
  try {
    const c = await mysql.createConnection({ host: s.host, port: Number(s.port), user: s.username, password: s.password, database: s.dbname });
    await c.end();
    return true;
  } catch (err) {
    if ((err as { code?: string }).code === 'ER_ACCESS_DENIED_ERROR') return false;
    throw err;
  }
};

t.test('deploy; unknown names are refused, origin-header does not apply here', async (t) => {
  const r = await shop.playbook('deploy');
  expectExit(t, r, 0, 'deploy');
  url = printedUrl(r.stdout);
  const unknown = await shop.playbook('deploy', ['-e', 'rotate=jwt,nope']);
  expectExit(t, unknown, 2, 'an unknown name');
  t.match(unknown.stdout, /-e rotate=nope: no such secret to rotate; the local target rotates jwt, service-credential, jwt-public, database, db-users/);
  const edge = await shop.playbook('deploy', ['-e', 'rotate=origin-header', ...rotateTags]);
  expectExit(t, edge, 0, 'origin-header');
  t.match(edge.stdout, /origin-header does not apply to the local target/);
  t.equal(recap(edge.stdout).failed, 0);
});

t.test('60 s of load while every secret rotates: no failed request, then only the new values verify', async (t) => {
  const before = await shop.secrets();
  const email = `rot-${randomBytes(4).toString('hex')}@shop.example`;
  const password = `Sale-${randomUUID()}`;
  t.equal((await json('POST', '/api/users/register', { email, password, name: 'Rotation' })).status, 201);
  const login = async () => {
    const r = await json('POST', '/api/users/login', { email, password });
    return r.status === 200 ? String(r.body.token) : undefined;
  };
  let token = (await login())!;
  const me = await json('GET', '/api/users/me', undefined, { authorization: `Bearer ${token}` });
  const oldKeyToken = await (await TokenSigner.fromSecret(before.jwt!, 3600)).sign({ id: String(me.body.id), email, role: 'customer' });
  t.equal((await json('GET', '/api/users/me', undefined, { authorization: `Bearer ${oldKeyToken}` })).status, 200, 'a long-lived token of the old key verifies before the rotation');
  const skus = ((await json('GET', '/api/catalog/products?limit=40')).body.items as Array<{ sku: string }>).map((p) => p.sku);

  // Tokens live 60 s: log in again every 10 s (logins are load too, and must not fail either).
  const failures: string[] = [];
  let logins = 0;
  const refresher = setInterval(() => {
    login().then(
      (t2) => {
        logins += 1;
        if (t2) token = t2;
        else failures.push('login');
      },
      () => failures.push('login (error)'),
    );
  }, 10_000);
  let n = 0;
  let finished: (r: autocannon.Result) => void = () => undefined;
  const done = new Promise<autocannon.Result>((resolve) => (finished = resolve));
  const load = autocannon({
    url,
    connections: 6,
    overallRate: 30,
    duration: 60,
    requests: [
      { method: 'GET', path: '/api/catalog/products?limit=5' },
      { method: 'GET', path: '/api/users/me', setupRequest: (req) => ({ ...req, headers: { ...req.headers, authorization: `Bearer ${token}` } }) },
      {
        method: 'POST',
        path: '/api/orders',
        setupRequest: (req) => ({
          ...req,
          headers: { ...req.headers, 'content-type': 'application/json', authorization: `Bearer ${token}`, 'idempotency-key': randomUUID() },
          body: JSON.stringify({ items: [{ sku: skus[n++ % skus.length], qty: 1 }] }),
        }),
      },
    ],
  }, (err, r) => {
    if (err) failures.push(`autocannon: ${String(err)}`);
    finished(r);
  });
  const statuses = new Map<number, number>();
  load.on('response', (_client: unknown, status: number) => {
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
  });

  // The harness beside it: its own accounts (registered at its start), journeys through the gateway.
  // Judged on errors only: the autocannon load buys the same products, so the harness's own sales
  // cannot match the stock decrease (the autocannon checkouts are all 201s, counted above).
  const harnessProfile = await besideProfile(shop.dir, { seconds: 60, rate: 2, maxErrorRate: '0%', othersBuy: true });
  const harness = runCli(['--profile', harnessProfile, '--target', 'local', '--state-dir', shop.dir, '--out', join(shop.dir, 'runs'), '--quiet'], { NODE_NO_WARNINGS: '1' });

  // The rotations, while the load runs: every secret, then the database passwords once more (the
  // first credentials stop working only when their user's password changes, at the rotation after).
  await waitFor('the load to be under way', () => (statuses.get(200) ?? 0) > 20, 30_000);
  const rotated = await shop.playbook('deploy', ['-e', 'rotate=jwt,service-credential,database', ...rotateTags]);
  expectExit(t, rotated, 0, 'rotate jwt, service-credential, database');
  const rc = recap(rotated.stdout);
  t.equal(rc.failed, 0);
  for (const name of ['jwt', 'service-credential', ...SERVICES.map((s) => `db-${s}`)]) t.match(rotated.stdout, new RegExp(`changed: \\[rotate ${name}\\]`), `${name} reported changed`);
  const middle = await shop.secrets();
  const again = await shop.playbook('deploy', ['-e', 'rotate=database', ...rotateTags]);
  expectExit(t, again, 0, 'rotate database again');
  const result = await done;
  clearInterval(refresher);

  const after = await shop.secrets();
  const all = [...statuses.values()].reduce((a, b) => a + b, 0);
  const bad = [...statuses].filter(([s]) => s !== 200 && s !== 201);
  t.comment(`${all} responses in ${result.duration} s (${JSON.stringify(Object.fromEntries(statuses))}), ${logins} logins; errors ${result.errors}, timeouts ${result.timeouts}`);
  t.ok(all > 900, `the load ran (${all} responses)`);
  t.same(bad, [], 'no failed response during the rotations');
  t.equal(result.errors + result.timeouts, 0, 'no connection error or timeout');
  t.same(failures, [], 'no failed login');
  const run = await harness;
  const endpoints = await runEndpoints(run);
  const answered = Object.values(endpoints).reduce((n, e) => n + Object.values(e.statuses).reduce((a, b) => a + b, 0), 0);
  t.comment(`harness: ${answered} answers over ${Object.keys(endpoints).length} endpoints`);
  t.equal(run.code, 0, `the harness beside kept 0% errors\n${run.stdout.slice(-2500)}\n${run.stderr.slice(-800)}\n${failedEndpoints(endpoints).join('\n')}`);
  t.same(failedEndpoints(endpoints), [], 'no harness request failed during the rotations');
  t.ok(answered > 100, `the harness ran (${answered} answers)`);
  t.notMatch(rotated.stdout + again.stdout, after['service-credential']!.token!, 'no value printed');
  t.notMatch(rotated.stdout + again.stdout, after['db-orders']!.password!, 'no password printed');

  // The new values verify now.
  const fresh = (await login())!;
  t.equal((await json('GET', '/api/users/me', undefined, { authorization: `Bearer ${fresh}` })).status, 200, 'a token of the new key verifies');
  const reserve = (cred: string) => json('POST', '/api/inventory/reservations', {}, { 'x-service-token': cred });
  t.not((await reserve(after['service-credential']!.token!)).status, 401, 'the new service credential is accepted');
  for (const s of SERVICES) {
    t.ok(await canLogIn(after[`db-${s}`]!), `db-${s}: the current credentials log in`);
    t.not(after[`db-${s}`]!.username, middle[`db-${s}`]!.username, `db-${s}: the users alternate`);
    t.not(after[`db-${s}`]!.password, before[`db-${s}`]!.password, `db-${s}: a new password`);
  }
  // The old ones stop verifying once their grace has passed (the token lifetime plus a re-read for
  // the key, two re-reads for the credential; the first database user's password changed already).
  await waitFor('the old service credential to be refused', async () => (await reserve(before['service-credential']!.token!)).status === 401, 30_000);
  for (const s of SERVICES) t.notOk(await canLogIn(before[`db-${s}`]!), `db-${s}: the first credentials no longer log in`);
  await waitFor('the old key to be refused', async () => (await json('GET', '/api/users/me', undefined, { authorization: `Bearer ${oldKeyToken}` })).status === 401, 90_000);
  t.pass('a token signed by the old key, not expired, is refused after its grace');
  t.equal((await json('GET', '/api/users/me', undefined, { authorization: `Bearer ${fresh}` })).status, 200, 'the new key still verifies');
});
