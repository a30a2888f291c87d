// A service of this repository under the fleet exactly as deploy.mjs will run it: catalog from
// dist/ through localServiceSpec, reached through the gateway on its /api/catalog prefix.
import t from 'tap';
import { fileURLToPath } from 'node:url';
import { testDatabase } from '../helpers/mysql.js';
import { localServiceSpec } from '../../playbooks/lib/local/fleet-spec-for.js';
import { FAST_TUNING, alive, allPids, send, settledAt, startFleet } from './fleet-harness.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const db = await testDatabase(t, 'fleetrepo');
const fleet = await startFleet(t);

t.test('catalog from dist/ runs as a fleet group behind the gateway', async (t) => {
  const catalog = await localServiceSpec('catalog', {
    root,
    env: { DB_SECRET: db.refs.db, JWT_VERIFY_SECRET: db.refs.jwtVerify, MIGRATE_ON_START: 'true', LOG_LEVEL: 'warn' },
    policy: { min: 1, max: 2, desired: 1, cpuTarget: 70, warmupSeconds: 5, cooldownSeconds: 30, evaluationSeconds: 10 },
  });
  t.match(catalog.artifact, /^sha256:[0-9a-f]{64}$/);
  const result = await fleet.apply({ gateway: { port: 0 }, tuning: { ...FAST_TUNING, startSeconds: 60 }, services: { catalog } });
  t.same(result.services, { catalog: 'created' });
  const state = await fleet.state();
  t.ok(settledAt(state, 'catalog', 1));
  const list = await send(result.gatewayUrl, 'GET', '/api/catalog/products');
  t.equal(list.status, 200, 'the catalog answers through the gateway');
  const missing = await send(result.gatewayUrl, 'GET', '/api/catalog/products/SKU-999999');
  t.equal(missing.status, 404);
  t.equal(missing.code, 'NOT_FOUND', "the service's own JSON error passes through");
  t.same((await fleet.apply({ gateway: { port: 0 }, tuning: { ...FAST_TUNING, startSeconds: 60 }, services: { catalog } })).changed, false, 'same code: nothing to do');
  const pids = allPids(state);
  await fleet.stop();
  t.same(alive(pids), []);
});
