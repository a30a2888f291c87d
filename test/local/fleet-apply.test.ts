// Applying fleet specs, the unhappy and the in-between cases: an invalid spec is refused with the
// field named; a worker that cannot start fails the apply with its own error line; a broken
// artifact rolls back and the old workers keep serving; policy changes apply without restarts;
// a service left out of the spec is drained and removed.
import t from 'tap';
import { applyFleet, FleetError } from '../../localcloud/control-client.js';
import type { FleetSpec } from '../../localcloud/fleet-spec.js';
import { FAST_TUNING, alive, send, settledAt, startFleet, waitFor, workerService } from './fleet-harness.js';

const fleet = await startFleet(t);
const base = (users = workerService({ min: 1, max: 3, desired: 1, cpuTarget: 80 })): FleetSpec => ({
  gateway: { port: 0 },
  tuning: FAST_TUNING,
  services: { users, catalog: workerService({}, { routes: ['/api/catalog', '/api/categories'] }) },
});
const pidsOf = async (service: string) => (await fleet.state()).services[service]?.workers.map((w) => w.pid).sort() ?? [];

t.test('an invalid spec is refused, naming the field', async (t) => {
  const bad = base();
  bad.services.users!.policy.min = 0;
  await t.rejects(applyFleet(bad, { dir: fleet.dir }), new FleetError('fleet spec services.users.policy.min: expected integer to be greater or equal to 1'));
  t.match(await fleet.state(), { gatewayUrl: '', services: {} }, 'nothing was started, not even partly');
});

t.test('a worker that cannot start fails the apply with its own message', async (t) => {
  const spec = base(workerService({}, { env: { FAIL_AT_START: 'DB_SECRET is not set' } }));
  await t.rejects(fleet.apply(spec), { message: /^users: worker pid \d+ stopped before it was in service \(exit code 1\): fleet-worker: cannot start: DB_SECRET is not set$/ });
  const s = await fleet.state();
  t.ok(settledAt(s, 'catalog', 1), 'the other service came up');
  t.match((await fleet.activity()).find((a) => a.service === 'users' && /failed/.test(a.cause)), { from: 0, to: 0, cause: /failed to launch a worker/ });
  const fixed = await fleet.apply(base());
  t.same(fixed.services, { users: 'replaced', catalog: 'unchanged' });
  t.ok(settledAt(await fleet.state(), 'users', 1));
});

t.test('routes: several prefixes for one service', async (t) => {
  const { gatewayUrl } = await fleet.apply(base());
  t.equal((await send(gatewayUrl, 'GET', '/api/categories/whoami')).status, 200);
  t.equal((await send(gatewayUrl, 'GET', '/api/catalog/whoami')).status, 200);
});

t.test('a broken artifact rolls back; the old workers keep serving', async (t) => {
  const before = await pidsOf('users');
  const broken = base(workerService({ min: 1, max: 3, desired: 1, cpuTarget: 80 }, { artifact: 'v2', env: { FAIL_AT_START: 'bad build' } }));
  await t.rejects(fleet.apply(broken), { message: /users: .*cannot start: bad build/ });
  const s = await fleet.state();
  t.same(await pidsOf('users'), before, 'the old worker still runs');
  t.equal(s.services.users!.artifact, 'v1', 'state shows the artifact that runs');
  t.equal((await send(s.gatewayUrl, 'GET', '/api/users/whoami')).status, 200);
});

t.test('policy changes apply in place, like an ASG update without a new launch template', async (t) => {
  const users = await pidsOf('users');
  const retarget = base(workerService({ min: 1, max: 3, desired: 1, cpuTarget: 60 }));
  const r1 = await fleet.apply(retarget);
  t.same(r1.services, { users: 'updated', catalog: 'unchanged' });
  t.same(await pidsOf('users'), users, 'a new CPU target restarts nothing');
  t.equal((await fleet.state()).services.users!.cpuTarget, 60);

  const raised = base(workerService({ min: 2, max: 3, desired: 1, cpuTarget: 60 }));
  raised.services.users!.policy.desired = 2;
  const r2 = await fleet.apply(raised);
  t.same(r2.services.users, 'updated');
  const s = await fleet.state();
  t.ok(settledAt(s, 'users', 2), 'grown to the new desired capacity');
  t.ok(users.every((p) => s.services.users!.workers.some((w) => w.pid === p)), 'the existing worker kept');
  t.match((await fleet.activity()).at(-1), { service: 'users', from: 1, to: 2, cause: /deploy: capacity set to 2/ });
});

t.test('a service left out of the spec is drained and removed', async (t) => {
  const catalog = await pidsOf('catalog');
  const spec = base(workerService({ min: 2, max: 3, desired: 2, cpuTarget: 60 }));
  delete spec.services.catalog;
  const r = await fleet.apply(spec);
  t.same(r.services, { users: 'unchanged', catalog: 'removed' });
  t.same(Object.keys((await fleet.state()).services), ['users']);
  await waitFor('catalog workers gone', () => alive(catalog).length === 0);
  t.equal((await send(r.gatewayUrl, 'GET', '/api/catalog/whoami')).status, 404, 'its routes are gone');
});
