// The local target end to end, as a user runs it: deploy → journeys through the printed URL →
// deploy again (all ok, nothing restarted) → a code change rolls only that service, one worker at a
// time, under load with no failed request → CPU load on users scales it out to max, a SIGKILLed
// worker is replaced while only its in-flight requests may fail, and after the load it scales in
// to min with no failed request → destroy leaves no process behind.
import t from 'tap';
import { randomBytes, randomUUID } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ROOT } from '../helpers/processes.js';
import { expectExit, localShop, printedUrl, recap } from '../helpers/local-shop.js';
import { Load, type Outcome, alive, allPids, send, waitFor } from '../local/fleet-harness.js';
import type { LocalState } from '../../environment/index.js';

t.setTimeout(540_000);

const shop = await localShop(t, {
  overrides: [
    // catalog keeps two workers so a rolling replacement shows "one at a time".
    'services.catalog.scaling.min=2', 'services.catalog.scaling.desired=2',
    // users scales on scrypt logins: a low target, a short warm-up, cool-down and metric window.
    'services.users.scaling.cpuTarget=30', 'services.users.scaling.warmupSeconds=2', 'services.users.scaling.cooldownSeconds=5',
    'local.evaluationSeconds=3',
    // This file is about CPU tracking and rolling replacement: the request policy (tested in
    // test/local/fleet-request-scaling.test.ts) would add catalog workers during the roll under
    // its load and keep users out under the light load of the scale-in.
    'services.catalog.scaling.requestsPerTarget=1000000', 'services.users.scaling.requestsPerTarget=1000000',
  ],
});

let url = '';
let firstState: LocalState;

t.test('deploy brings the whole shop up and prints its URL', async (t) => {
  const r = await shop.playbook('deploy');
  expectExit(t, r, 0, 'deploy');
  t.equal(recap(r.stdout).failed, 0);
  t.match(r.stdout, /ok: \[validate templates\]|changed: \[validate templates\]|ok: \[validate templates\] \d+ templates valid/, 'templates are rendered and validated as tasks');
  url = printedUrl(r.stdout);
  firstState = await shop.state();
  t.equal(firstState.gatewayUrl, url, 'state.json holds the gateway URL deploy printed');
  t.same(Object.keys(firstState.services).sort(), ['catalog', 'inventory', 'orders', 'users']);
  t.equal(firstState.services.catalog!.size, 2);
  for (const s of Object.values(firstState.services)) for (const w of s.workers) t.ok(w.pid > 0 && w.port > 0, 'pids and ports are recorded');
  t.notMatch(r.stdout + r.stderr, (await shop.secrets()).admin!.password!, 'no secret in the output');
});

t.test('register, login, browse and checkout through the printed URL', async (t) => {
  const email = `buyer-${randomBytes(4).toString('hex')}@shop.example`;
  const password = `Sale-${randomUUID()}`;
  const json = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(new URL(path, url), { method, headers: { 'content-type': 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Record<string, any>, headers: res.headers };
  };
  t.equal((await json('POST', '/api/users/register', { email, password, name: 'Buyer' })).status, 201);
  const login = await json('POST', '/api/users/login', { email, password });
  t.equal(login.status, 200);
  const token = login.body.token as string;
  const list = await json('GET', '/api/catalog/products?limit=5');
  t.equal(list.status, 200);
  t.equal(list.body.items.length, 5, 'the catalog was seeded');
  const sku = list.body.items[3].sku as string;
  const before = (await json('GET', `/api/inventory/stock/${sku}`)).body.available as number;
  t.ok(before > 0, 'the stock was seeded');
  const order = await json('POST', '/api/orders', { items: [{ sku, qty: 2 }] }, { authorization: `Bearer ${token}`, 'idempotency-key': randomUUID() });
  t.equal(order.status, 201, JSON.stringify(order.body));
  t.equal(order.body.status, 'CONFIRMED');
  t.equal((await json('GET', `/api/inventory/stock/${sku}`)).body.available, before - 2, 'the order took its stock');
  t.equal((await json('GET', `/api/orders/${order.body.id}`, undefined, { authorization: `Bearer ${token}` })).status, 200);
  const admin = (await shop.secrets()).admin!;
  const adminLogin = await json('POST', '/api/users/login', { email: admin.email, password: admin.password });
  t.equal(adminLogin.status, 200, 'the admin account from the secrets file logs in');
  const home = await fetch(new URL('/', url));
  t.equal(home.status, 200);
  t.match(home.headers.get('cache-control'), /must-revalidate/, 'HTML is revalidated, as CloudFront is told');
});

t.test('deploy again: every task ok, nothing restarted', async (t) => {
  const r = await shop.playbook('deploy', ['--skip-tags', 'render']);
  expectExit(t, r, 0, 'second deploy');
  t.same(recap(r.stdout).changed, 0, `nothing changed:\n${r.stdout.split('\n').filter((l) => l.startsWith('changed')).join('\n')}`);
  t.same(allPids(await shop.state()).sort(), allPids(firstState).sort(), 'the same workers run');
});

t.test("a change to one service's code rolls only its workers, one at a time, with no failed request", async (t) => {
  const marker = join(ROOT, 'dist', 'services', 'catalog', `e2e-marker-${shop.project}.js`);
  t.teardown(() => rm(marker, { force: true }));
  await writeFile(marker, `// ${shop.project}: changes the catalog's artifact hash and nothing else\n`);
  const before = await shop.state();
  const load = new Load(url, (i) => ({ method: 'GET', path: `/api/catalog/products/SKU-${String((i % 500) + 1).padStart(6, '0')}` }), 4, 100_000, 10).start();
  let minInService = Infinity;
  let maxWorkers = 0;
  let watching = true;
  const watcher = (async () => {
    while (watching) {
      const s = (await shop.state().catch(() => undefined))?.services.catalog;
      if (s) {
        minInService = Math.min(minInService, s.workers.filter((w) => w.state === 'in-service').length);
        maxWorkers = Math.max(maxWorkers, s.workers.length);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  const r = await shop.playbook('deploy', ['--skip-tags', 'render']);
  const deployedAt = Date.now();
  watching = false;
  await watcher;
  await waitFor('requests answered after the roll', () => load.outcomes.some((o) => o.startedAt > deployedAt));
  const outcomes = await load.stop();
  expectExit(t, r, 0, 'deploy with new catalog code');
  t.match(r.stdout, /changed: \[fleets and gateway\] catalog replaced/);
  const after = await shop.state();
  const oldCatalog = before.services.catalog!.workers.map((w) => w.pid);
  t.same(after.services.catalog!.workers.filter((w) => oldCatalog.includes(w.pid)), [], 'every catalog worker was replaced');
  t.same(alive(oldCatalog), [], 'the old catalog workers are gone');
  for (const name of ['users', 'inventory', 'orders']) {
    t.same(after.services[name]!.workers.map((w) => w.pid), before.services[name]!.workers.map((w) => w.pid), `${name} was not touched`);
  }
  t.ok(minInService >= 2, `capacity stayed in service (at least ${minInService} of 2 workers)`);
  t.ok(maxWorkers <= 3, `one extra worker at a time (at most ${maxWorkers})`);
  t.pass(`load ran across the whole roll (${outcomes.length} requests)`);
  t.equal(load.failures().length, 0, `no failed request (${sample(load.failures())})`);
});

t.test('CPU load scales users out to max, a killed worker is replaced, and it scales in with no failed request', async (t) => {
  const email = `load-${randomBytes(4).toString('hex')}@shop.example`;
  const password = `Xq9-${randomUUID()}`;
  t.equal((await send(url, 'POST', '/api/users/register', JSON.stringify({ email, password, name: 'Load' }))).status, 201);
  const login = JSON.stringify({ email, password });
  const started = Date.now();
  const heavy = new Load(url, () => ({ method: 'POST', path: '/api/users/login', body: login }), 6, 20_000).start();
  const scaled = await waitFor('users at 2 workers in service', async () => {
    const s = (await shop.state()).services.users!;
    return s.size === 2 && s.workers.length === 2 && s.workers.every((w) => w.state === 'in-service') ? s : undefined;
  }, 120_000);
  t.pass(`users reached max (2) in ${((Date.now() - started) / 1000).toFixed(1)} s (warm-up 2 s, metric window 3 s)`);

  // SIGKILL one of the two under load: it is replaced, and only requests in flight on it may fail.
  const victim = scaled.workers[0]!.pid;
  const failuresBefore = heavy.failures().length;
  t.equal(failuresBefore, 0, `no login failed before the kill (${sample(heavy.failures())})`);
  process.kill(victim, 'SIGKILL');
  // Requests the gateway had already sent to it may fail; once the process is gone (its sockets
  // closed by the kernel), nothing sent afterwards may.
  await waitFor('the killed worker gone', () => alive([victim]).length === 0);
  const goneAt = Date.now();
  const replaced = await waitFor('the killed worker replaced', async () => {
    const s = (await shop.state()).services.users!;
    return !s.workers.some((w) => w.pid === victim) && s.workers.length === 2 && s.workers.every((w) => w.state === 'in-service') ? s : undefined;
  }, 120_000);
  t.ok(replaced.workers.every((w) => w.pid !== victim), 'a new worker took its place');
  await heavy.stop();
  // Requests sent between the kill and the process being gone were in flight on it as far as the
  // gateway could know (a POST is not retried); after that, nothing may fail.
  t.pass(`${heavy.failures().length} of ${heavy.outcomes.length} logins failed around the kill`);
  const late = heavy.failures().filter((o) => o.startedAt > goneAt);
  t.equal(late.length, 0, `only requests sent before the worker was gone failed (${sample(late)})`);

  // Light load keeps running across the scale-in and must not see a single failure.
  const token = JSON.parse((await fetch(new URL('/api/users/login', url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: login }).then((r) => r.text()))).token as string;
  const light = new Load(url, () => ({ method: 'GET', path: '/api/users/me', headers: { authorization: `Bearer ${token}` } }), 1, 100_000, 50).start();
  await waitFor('users back at min (1)', async () => {
    const s = (await shop.state()).services.users!;
    return s.size === 1 && s.workers.length === 1 ? s : undefined;
  }, 120_000);
  const scaledInAt = Date.now();
  await waitFor('requests answered after the scale-in', () => light.outcomes.some((o) => o.startedAt > scaledInAt));
  const outcomes = await light.stop();
  t.pass(`load ran across the scale-in (${outcomes.length} requests)`);
  t.equal(light.failures().length, 0, `scale-in failed no request (${sample(light.failures())})`);
  const status = await shop.playbook('status');
  t.equal(status.code, 0);
  t.match(status.stdout, /users\s+1 -> 2/, 'status shows the scale-out activity');
  t.match(status.stdout, /users\s+2 -> 1/, 'and the scale-in');
});

t.test('destroy stops everything and leaves no process behind', async (t) => {
  const state = await shop.state();
  const pids = allPids(state);
  const r = await shop.playbook('destroy');
  expectExit(t, r, 0, 'destroy');
  t.same(alive(pids), [], 'no worker is left');
  const again = await shop.playbook('status');
  t.match(again.stdout, /not running/);
  const second = await shop.playbook('destroy');
  t.equal(second.code, 0);
  t.equal(recap(second.stdout).changed, 0, 'a second destroy has nothing to do');
});

function sample(failures: Outcome[]): string {
  return failures.length ? `${failures.length}, e.g. ${JSON.stringify(failures.slice(0, 3))}` : 'none';
}
