// Throttling through the local target's gateway, as deployed: the shop's users get the machine's
// Redis (status says so); with a small harness load beside, 50 failed logins from one client
// (source address 127.0.0.2) hold back that client only: another client (127.0.0.3) and the
// account's owner from there log in, and the harness keeps its thresholds; then users workers
// started afterwards (every users worker killed and replaced) still hold the first client back. Linux routes all of 127/8 to lo, so a test client
// picks its source address with localAddress; the gateway appends it to X-Forwarded-For.
import t from 'tap';
import { request } from 'node:http';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { expectExit, localShop, recap } from '../helpers/local-shop.js';
import { besideProfile, failedEndpoints, runCli, runEndpoints } from '../loadtest/helpers.js';
import { alive, waitFor } from '../local/fleet-harness.js';

t.setTimeout(540_000);

const shop = await localShop(t);
t.teardown(async () => {
  // The counters this shop left in the machine's Redis (they would expire within the window anyway).
  const redis = new Redis('redis://127.0.0.1:6379');
  const keys = await redis.keys(`${shop.project}:*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
});

interface Answer {
  status: number;
  body: Record<string, unknown>;
  headers: Record<string, string | string[] | undefined>;
}

/** POSTs JSON from a chosen source address. */
function post(base: string, path: string, body: unknown, from: string, headers: Record<string, string> = {}): Promise<Answer> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, base), { method: 'POST', localAddress: from, agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? (JSON.parse(text) as Record<string, unknown>) : {}, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

const ATTACKER = '127.0.0.2';
const OTHER = '127.0.0.3';
const PASSWORD = `plum-harbour-velvet-${randomBytes(4).toString('hex')}`;
const owner = `owner-${randomBytes(3).toString('hex')}@shop.example`;
const friend = `friend-${randomBytes(3).toString('hex')}@shop.example`;
let url = '';

t.test('deploy: users gets the machine\'s Redis, and status says so', async (t) => {
  const r = await shop.playbook('deploy', ['--skip-tags', 'render']);
  expectExit(t, r, 0, 'deploy');
  t.equal(recap(r.stdout).failed, 0);
  t.match(r.stdout, /\[shared store\][^\n]*machine's Redis at 127\.0\.0\.1:6379/);
  url = (await shop.state()).gatewayUrl;
  const status = await shop.playbook('status');
  t.match(status.stdout, /shared store: the machine's Redis at 127\.0\.0\.1:6379/);
  const worker = (await shop.state()).services.users!.workers[0]!;
  const ready = (await (await fetch(`http://127.0.0.1:${worker.port}/readyz`)).json()) as Record<string, any>;
  t.match(ready, { status: 'ready', throttle: { store: 'redis', state: 'connected', shared: true } });
  for (const email of [owner, friend]) t.equal((await post(url, '/api/users/register', { email, password: PASSWORD, name: 'Shopper' }, OTHER)).status, 201);
});

t.test('50 failed logins from one client beside a harness load: the others still log in; new workers see the counts', async (t) => {
  // The harness: the smoke profile, shorter and gentler (registration hashes passwords: on a shared
  // CI machine ten a second time out), judged on errors (a few timeouts on a loaded machine are
  // noise; a throttled harness would fail every login after the limit) and on never seeing a 429.
  const file = await besideProfile(shop.dir, { seconds: 20, rate: 2, maxErrorRate: '5%' });
  const harness = runCli(['--profile', file, '--target', 'local', '--state-dir', shop.dir, '--out', join(shop.dir, 'runs'), '--quiet'], { NODE_NO_WARNINGS: '1' });

  for (let i = 0; i < 50; i++) {
    const email = i < 10 ? owner : `nobody-${i}@shop.example`;
    const r = await post(url, '/api/users/login', { email, password: `wrong-guess-${i}-xyz` }, ATTACKER);
    t.equal(r.status, 401, `failure ${i + 1}`);
  }
  const held = await post(url, '/api/users/login', { email: owner, password: PASSWORD }, ATTACKER);
  t.equal(held.status, 429, 'the attacking client waits, even with the right password');
  t.match(held.headers['retry-after'], /^[1-9]\d*$/);
  t.equal((await post(url, '/api/users/login', { email: friend, password: PASSWORD }, OTHER)).status, 200, 'another client logs in');
  const mine = await post(url, '/api/users/login', { email: owner, password: PASSWORD }, OTHER);
  t.equal(mine.status, 200, 'the owner, from another client, logs in');
  t.type(mine.body.refreshToken, 'string');
  const run = await harness;
  const endpoints = await runEndpoints(run);
  const failures = failedEndpoints(endpoints).join('\n');
  t.equal(run.code, 0, `the harness load beside kept its thresholds\n${run.stdout.slice(-2500)}\n${run.stderr.slice(-800)}\n${failures}`);
  t.same(Object.entries(endpoints).filter(([, e]) => e.statuses['429']).map(([name]) => name), [], 'the harness (another client) was never throttled');

  // Every users worker now is replaced by a fresh one, which has never seen a request.
  const before = (await shop.state()).services.users!.workers.map((w) => w.pid);
  for (const pid of before) process.kill(pid, 'SIGKILL');
  await waitFor('the killed users workers to be gone', () => alive(before).length === 0);
  const fresh = await waitFor('a fresh users worker in service', async () => {
    const workers = (await shop.state()).services.users!.workers;
    return workers.length > 0 && workers.every((w) => !before.includes(w.pid)) && workers.some((w) => w.state === 'in-service') ? workers : undefined;
  }, 90_000);
  t.ok(fresh.length > 0);
  const again = await waitFor('the gateway to reach a fresh worker', async () => {
    const r = await post(url, '/api/users/login', { email: owner, password: PASSWORD }, ATTACKER);
    return r.status === 502 || r.status === 503 ? undefined : r;
  });
  t.equal(again.status, 429, 'a fresh worker still holds the attacking client back');
  t.equal((await post(url, '/api/users/login', { email: owner, password: PASSWORD }, OTHER)).status, 200, 'and lets the owner in');
});

t.test('refresh through the gateway: rotates, and a replay ends the family', async (t) => {
  const login = await post(url, '/api/users/login', { email: friend, password: PASSWORD }, OTHER);
  const next = await post(url, '/api/users/refresh', { refreshToken: login.body.refreshToken }, OTHER);
  t.equal(next.status, 200);
  t.equal((await post(url, '/api/users/refresh', { refreshToken: login.body.refreshToken }, OTHER)).status, 401);
  t.equal((await post(url, '/api/users/refresh', { refreshToken: next.body.refreshToken }, OTHER)).status, 401);
});
