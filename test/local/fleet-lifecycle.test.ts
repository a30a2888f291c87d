// The fleet's lifecycle without scaling: a second apply of the same spec restarts nothing; a
// SIGKILLed worker is replaced and only requests in flight on it may fail; a new artifact rolls
// one service one worker at a time without a failed request while the other stays untouched;
// stop leaves no process behind.
import t from 'tap';
import type { FleetSpec } from '../../localcloud/fleet-spec.js';
import { FAST_TUNING, Load, alive, allPids, settledAt, startFleet, waitFor, workerService } from './fleet-harness.js';

// No scaling here: min = max.
const fixed = { min: 2, max: 2, desired: 2 };
const spec = (usersArtifact: string, usersVersion: string): FleetSpec => ({
  gateway: { port: 0 },
  tuning: FAST_TUNING,
  services: {
    users: workerService(fixed, { artifact: usersArtifact, env: { APP_VERSION: usersVersion } }),
    orders: workerService(fixed, { env: { APP_VERSION: 'o1' } }),
  },
});

const fleet = await startFleet(t);
const first = await fleet.apply(spec('u1', '1'));
const url = first.gatewayUrl;
const seenPids = new Set<number>();
const remember = async () => {
  const s = await fleet.state();
  for (const pid of allPids(s)) seenPids.add(pid);
  return s;
};

t.test('the first apply creates both groups at their desired capacity', async (t) => {
  t.same(first.services, { users: 'created', orders: 'created' });
  t.equal(first.gateway, 'started');
  const s = await remember();
  t.ok(settledAt(s, 'users', 2) && settledAt(s, 'orders', 2), 'both groups at 2 in service');
  t.equal(s.environment, 'local');
  t.equal(s.gatewayUrl, url);
  t.same((await fleet.activity()).map((a) => [a.service, a.from, a.to]).sort(), [['orders', 0, 2], ['users', 0, 2]]);
});

t.test('applying the same spec again restarts nothing', async (t) => {
  const before = allPids(await fleet.state()).sort();
  const again = await fleet.apply(spec('u1', '1'));
  t.equal(again.changed, false);
  t.same(again.services, { users: 'unchanged', orders: 'unchanged' });
  t.equal(again.gateway, 'unchanged');
  t.same(allPids(await fleet.state()).sort(), before, 'same workers');
});

t.test('SIGKILL of a worker under load: replaced, out of rotation, only its in-flight requests may fail', async (t) => {
  const s = await remember();
  const victim = s.services.users!.workers[0]!;
  const load = new Load(url, (i) => (i % 2 ? { method: 'GET', path: '/api/users/slow?ms=100' } : { method: 'POST', path: '/api/users/slow?ms=100', body: '{}' }), 6).start();
  await waitFor('the victim serving requests', () => load.outcomes.some((o) => o.pid === victim.pid));
  process.kill(victim.pid, 'SIGKILL');
  const killedAt = Date.now();
  // The signal is delivered asynchronously: a request the gateway sent between kill() and the
  // process being gone was still in flight on the victim, so "in flight" is measured to goneAt.
  await waitFor('the killed worker gone', () => alive([victim.pid]).length === 0);
  const goneAt = Date.now();
  const replaced = await waitFor('a replacement in service', async () => {
    const now = await remember();
    const users = now.services.users!;
    return settledAt(now, 'users', 2) && !users.workers.some((w) => w.pid === victim.pid) ? now : undefined;
  });
  // Keep the load going on the replaced group for a moment's worth of requests.
  const mark = load.outcomes.length;
  await waitFor('40 more requests', () => load.outcomes.length >= mark + 40);
  await load.stop();

  const failed = load.failures();
  t.ok(failed.every((o) => o.startedAt <= goneAt), 'every failed request was sent before the victim was gone (was in flight on it)');
  t.ok(failed.every((o) => o.method === 'POST'), 'idempotent requests in flight were retried on another worker');
  // HAProxy answers 502 when the first request of a client connection fails that way, and closes
  // the connection of a later request of a kept-alive one (status 0 here), never resending it.
  t.ok(failed.every((o) => (o.status === 502 && o.code === 'BAD_GATEWAY') || (o.status === 0 && o.error)), 'failures are 502 {code, message} or a closed connection');
  t.ok(failed.length <= 6, `at most the in-flight requests failed (${failed.length})`);
  t.notOk(load.outcomes.some((o) => o.pid === victim.pid && o.startedAt > killedAt), 'no request sent after the kill reached the victim');
  t.ok(load.outcomes.filter((o) => o.startedAt > killedAt).length > 0, 'requests after the kill were answered');
  const acts = (await fleet.activity()).filter((a) => a.service === 'users');
  t.match(acts.find((a) => a.cause.includes(`pid ${victim.pid}`)), { from: 2, to: 1, cause: /exited unexpectedly \(killed by SIGKILL\)/ });
  t.match(acts.at(-1), { from: 1, to: 2, cause: /desired capacity 2/ });
  t.equal(replaced.services.orders!.workers.length, 2, 'the other service was not touched');
});

t.test('a new artifact rolls only that service, one worker at a time, with no failed request', async (t) => {
  const before = await remember();
  const ordersBefore = before.services.orders!.workers.map((w) => w.pid).sort();
  const usersBefore = before.services.users!.workers.map((w) => w.pid);
  const load = new Load(url, (i) => (i % 2 ? { method: 'GET', path: '/api/users/slow?ms=80' } : { method: 'POST', path: '/api/users/slow?ms=80', body: '{}' }), 6).start();
  await waitFor('load under way', () => load.outcomes.length >= 10);
  // Watch the group while it rolls: never fewer than 2 workers in service.
  let minInService = Infinity;
  let watching = true;
  const watcher = (async () => {
    while (watching) {
      const s = await fleet.state();
      minInService = Math.min(minInService, s.services.users!.workers.filter((w) => w.state === 'in-service').length);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  const result = await fleet.apply(spec('u2', '2'));
  watching = false;
  await watcher;
  const mark = load.outcomes.length;
  await waitFor('20 more requests', () => load.outcomes.length >= mark + 20);
  await load.stop();

  t.same(result.services, { users: 'replaced', orders: 'unchanged' });
  t.same(load.failures(), [], 'no failed request during the rolling replacement');
  t.ok(minInService >= 2, `capacity kept: at least 2 in service throughout (saw ${minInService})`);
  const after = await remember();
  t.equal(after.services.users!.artifact, 'u2');
  t.notOk(after.services.users!.workers.some((w) => usersBefore.includes(w.pid)), 'every users worker replaced');
  t.same(after.services.orders!.workers.map((w) => w.pid).sort(), ordersBefore, 'orders workers untouched');
  const rolls = (await fleet.activity()).filter((a) => /rolling update to artifact u2/.test(a.cause));
  t.same(rolls.map((a) => a.cause.replace(/.*\((\d of \d)\)$/, '$1')), ['1 of 2', '2 of 2'], 'one worker at a time');
  const late = load.outcomes.slice(mark).filter((o) => o.method === 'GET');
  t.ok(late.length > 0 && late.every((o) => o.version === '2'), 'requests after the rollout reach the new version');
});

t.test('stop drains everything and leaves no process behind', async (t) => {
  await remember();
  const pids = [...seenPids, fleet.supervisorPid];
  t.ok(alive([fleet.supervisorPid]).length === 1, 'the supervisor was running');
  const stopped = await fleet.stop();
  t.equal(stopped.stopped, true);
  t.same(alive(pids), [], 'no worker and no supervisor left');
  const acts = (await fleet.activity()).slice(-2);
  t.same(acts.map((a) => [a.from, a.to]), [[2, 0], [2, 0]]);
  await t.rejects(fetch(`${url}/api/users/whoami`), 'the gateway is closed');
  const again = await fleet.stop();
  t.equal(again.stopped, false, 'a second stop finds nothing to stop');
});
