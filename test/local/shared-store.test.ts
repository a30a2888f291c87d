// The local target's shared store: the machine's Redis when it answers, else a private
// redis-server under the local folder (real: Debian's /usr/bin/redis-server), password from the
// secrets file's redis-auth, the minimal environment, stopped by destroy's stop logic; the module's
// choices, its --check and its second run; the fleet spec gives REDIS_URL and a per-shop key prefix
// to the service that declares a shared store, and to no other.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mkdir, writeFile } from 'node:fs/promises';
import { loadEnvironment } from '../../environment/index.js';
import { fleetSpecFor } from '../../playbooks/lib/local/fleet-spec-for.js';
import { ensureSharedStore, sharedStoreLine, stopSharedStore, type SharedStoreFound } from '../../playbooks/lib/local/modules/shared-store.js';
import { privateRedisDir, probeRedis, redisServerApi, type RedisServerApi } from '../../playbooks/lib/local/redis-server.js';
import { SecretsFile } from '../../playbooks/lib/local/secrets-file.js';
import type { TaskContext } from '../../playbooks/lib/runner.js';
import { runTask } from '../playbooks/support.js';

const tmp = await mkdtemp(join(tmpdir(), 'sd-shared-store-'));
t.teardown(() => rm(tmp, { recursive: true, force: true }));
let folders = 0;
const folder = () => join(tmp, `f${folders++}`);

async function found(argv: string[], run: (ctx: TaskContext) => Promise<SharedStoreFound>) {
  let url: string | undefined;
  const r = await runTask(argv, async (ctx) => {
    const f = await run(ctx);
    url = f.url;
    return f.outcome;
  });
  return { ...r, url };
}

/** The real API, except that the machine's Redis is said to be absent (or answers, when told). */
const noMachineRedis = (dir: string, machine: 'absent' | 'answers' = 'absent'): RedisServerApi => {
  const real = redisServerApi(dir);
  return { ...real, probe: (host, port, password) => (port === 6379 ? Promise.resolve(machine) : real.probe(host, port, password)) };
};

t.test("the machine's Redis when it answers: ok on the second run, nothing started", async (t) => {
  const dir = folder();
  const api = { redis: noMachineRedis(dir, 'answers'), secrets: await SecretsFile.load(dir) };
  const check = await found(['--check'], (ctx) => ensureSharedStore({ dir }, api, ctx));
  t.equal(check.outcome.status, 'ok');
  t.equal(check.url, 'redis://127.0.0.1:6379');
  const first = await found([], (ctx) => ensureSharedStore({ dir }, api, ctx));
  t.equal(first.outcome.status, 'changed');
  t.match(first.outcome.message, /machine's Redis at 127.0.0.1:6379/);
  const second = await found([], (ctx) => ensureSharedStore({ dir }, api, ctx));
  t.equal(second.outcome.status, 'ok');
  t.equal(api.redis.privatePid(), undefined);
  t.equal(await sharedStoreLine(api), "shared store: the machine's Redis at 127.0.0.1:6379");
  t.equal((await runTask([], (ctx) => stopSharedStore(api, ctx))).outcome.message, "none (the shop uses the machine's Redis)");
});

t.test('no Redis answers: a private redis-server with the password from the secrets file, found again, stopped by destroy', async (t) => {
  const dir = folder();
  const secrets = await SecretsFile.load(dir);
  secrets.set('redis-auth', { authToken: 'local-redis-token-0123456789abcdef' });
  await secrets.save();
  const api = { redis: noMachineRedis(dir), secrets };
  t.teardown(() => api.redis.stopPrivate());

  const check = await found(['--check'], (ctx) => ensureSharedStore({ dir }, api, ctx));
  t.equal(check.outcome.status, 'changed');
  t.match(check.outcome.message, /would start a private redis-server/);
  t.equal(api.redis.privatePid(), undefined, '--check starts nothing');

  const first = await found([], (ctx) => ensureSharedStore({ dir }, api, ctx));
  t.equal(first.outcome.status, 'changed');
  t.notMatch(first.outcome.message + first.text, /local-redis-token/, 'the password is never printed');
  const port = Number(new URL(first.url!).port);
  t.ok(port > 0 && port !== 6379);
  const pid = api.redis.privatePid();
  t.ok(pid);
  t.equal(await probeRedis('127.0.0.1', port), 'refused', 'requirepass from redis-auth');
  t.equal(await probeRedis('127.0.0.1', port, 'local-redis-token-0123456789abcdef'), 'answers');
  t.notMatch(readFileSync(`/proc/${pid}/cmdline`, 'utf8'), /local-redis-token/, 'the password is not on the command line');
  t.equal((await stat(join(privateRedisDir(dir), 'redis.conf'))).mode & 0o777, 0o600);
  const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean).map((kv) => kv.split('=')[0]!);
  t.same(environ.filter((k) => !['PATH', 'HOME', 'TMPDIR', 'TZ', 'LANG'].includes(k)), [], 'the minimal environment only');
  t.match(await sharedStoreLine(api) ?? '', new RegExp(`private redis-server running \\(pid ${pid}\\) on 127.0.0.1:${port}`));

  const second = await found([], (ctx) => ensureSharedStore({ dir }, api, ctx));
  t.equal(second.outcome.status, 'ok', 'the running private server is found again');
  t.equal(second.url, first.url);
  t.equal(api.redis.privatePid(), pid);

  const checkStop = await runTask(['--check'], (ctx) => stopSharedStore(api, ctx));
  t.match(checkStop.outcome.message, /would stop pid/);
  t.equal(api.redis.privatePid(), pid);
  const stop = await runTask([], (ctx) => stopSharedStore(api, ctx));
  t.equal(stop.outcome.status, 'changed');
  t.equal(api.redis.privatePid(), undefined);
  t.throws(() => process.kill(pid!, 0), 'the process is gone');
  t.equal(await probeRedis('127.0.0.1', port), 'absent');
  t.equal((await runTask([], (ctx) => stopSharedStore(api, ctx))).outcome.status, 'ok', 'a second destroy changes nothing');

  const again = await found([], (ctx) => ensureSharedStore({ dir }, api, ctx));
  t.equal(again.outcome.status, 'changed', 'the next deploy starts it again');
  t.equal(again.url, first.url, 'on the same port');
});

t.test('no Redis and no redis-server: a refusal that says what to install', async (t) => {
  const dir = folder();
  const api = { redis: { ...noMachineRedis(dir), canStartPrivate: () => false }, secrets: await SecretsFile.load(dir) };
  const r = await runTask([], async (ctx) => (await ensureSharedStore({ dir }, api, ctx)).outcome);
  t.equal(r.outcome.status, 'failed');
  t.match(r.outcome.message, /apt-get install redis-server/);
});

t.test('the fleet spec: REDIS_URL and a per-shop key prefix for users only', async (t) => {
  const repo = fileURLToPath(new URL('../..', import.meta.url));
  const root = folder();
  for (const name of ['users', 'catalog', 'inventory', 'orders', 'kit']) {
    await mkdir(join(root, 'dist', 'services', name), { recursive: true });
    await writeFile(join(root, 'dist', 'services', name, name === 'kit' ? 'service.js' : 'main.js'), name);
  }
  await writeFile(join(root, 'package-lock.json'), '{}');
  const environment = await loadEnvironment(join(repo, 'playbooks/inventories/local.yaml'), { overrides: { 'local.gatewayPort': '0', project: 'shopx' } });
  const none = { state: () => Promise.resolve(undefined), savedState: () => Promise.resolve(undefined) };
  const spec = await fleetSpecFor({ environment, root, dir: '/srv/x', cpus: 2, sharedStoreUrl: 'redis://127.0.0.1:6379' }, none);
  t.match(spec.services.users!.env, { REDIS_URL: 'redis://127.0.0.1:6379', REDIS_KEY_PREFIX: `shopx:${environment.environment}:` });
  for (const other of ['catalog', 'inventory', 'orders']) t.notOk(spec.services[other]!.env?.REDIS_URL, other);
  const without = await fleetSpecFor({ environment, root, dir: '/srv/x', cpus: 2 }, none);
  t.notOk(without.services.users!.env?.REDIS_URL, 'no store: no REDIS_URL (limits per instance)');
});
