// The rotation module on its own: what -e rotate= names mean per target (unknown names refused,
// origin-header not applying locally, jwt-public following jwt, database meaning every service),
// the timing read from the inventory's service environments, and the staged key-set rotation's
// outcomes (check mode writes nothing; a run writes stage 1, waits, writes stage 2).
import t from 'tap';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseEnvironment } from '../../environment/index.js';
import { newKeySetSecret, readKeySet } from '../../services/kit/key-set.js';
import { planRotation, rotateKeySet, rotationTiming, type KeySetStore } from '../../playbooks/lib/modules/secret-rotation.js';
import { runTask } from './support.js';

const SERVICES = ['users', 'catalog', 'inventory', 'orders'];
const local = (overrides: Record<string, string> = {}) =>
  parseEnvironment(readFileSync(fileURLToPath(new URL('../../playbooks/inventories/local.yaml', import.meta.url)), 'utf8'), 'local.yaml', { overrides });

t.test('what the names mean', (t) => {
  t.same(planRotation(['service-credential', 'jwt', 'database'], 'local', SERVICES), { keySets: ['jwt', 'service-credential'], staged: [], cacheTokens: [], databases: SERVICES, notApplicable: [] });
  t.same(planRotation(['db-orders', 'db-orders'], 'local', SERVICES).databases, ['orders']);
  const here = planRotation(['origin-header', 'jwt-public'], 'local', SERVICES);
  t.same(here.notApplicable.map((n) => n.why), ['origin-header does not apply to the local target (it exists on aws only)', 'jwt-public follows jwt: rotate jwt']);
  t.same(planRotation(['origin-header'], 'aws', SERVICES).staged, ['origin-header']);
  t.same(planRotation(['redis-auth'], 'aws', SERVICES).cacheTokens, ['redis-auth'], 'the cache token rotates in its own steps (cache-token-rotation.test.ts)');
  t.throws(() => planRotation(['jwt', 'db-nope', 'pasword'], 'local', SERVICES), { name: 'RefusedError', message: /-e rotate=db-nope,pasword: no such secret to rotate; the local target rotates jwt, service-credential, jwt-public, database, db-users/ });
  t.end();
});

t.test('timing from the inventory: the longest re-read interval, the token lifetime', (t) => {
  const defaults = rotationTiming(local());
  t.equal(defaults.propagationMs, 65_000, 'the services re-read every 60 s by default, plus a margin');
  t.equal(defaults.graceMs.jwt, 3600_000 + 65_000, 'tokens live up to an hour unless the inventory says');
  const fast = rotationTiming(local({ 'services.orders.environment.SECRETS_REFRESH_SECONDS': '2', ...Object.fromEntries(['users', 'catalog', 'inventory'].map((s) => [`services.${s}.environment.SECRETS_REFRESH_SECONDS`, '1'])), 'services.users.environment.TOKEN_TTL_SECONDS': '120' }));
  t.equal(fast.propagationMs, 3_000, 'the slowest service sets the wait');
  t.equal(fast.graceMs.jwt, 123_000);
  t.equal(fast.graceMs['service-credential'], 6_000);
  t.end();
});

t.test('a staged key-set rotation: check writes nothing; a run stages, waits, promotes', async (t) => {
  let stored: Record<string, unknown> = { ...(await newKeySetSecret()) };
  const writes: Array<Record<string, unknown>> = [];
  const store: KeySetStore = {
    read: () => Promise.resolve(stored),
    write: (v) => {
      writes.push(v);
      stored = v;
      return Promise.resolve();
    },
  };
  const timing = { propagationMs: 1234, graceMs: { jwt: 60_000, 'service-credential': 2_000 } };
  const waits: number[] = [];
  const args = { name: 'jwt' as const, label: 'secrets.json#jwt', timing, wait: (ms: number) => Promise.resolve(void waits.push(ms)) };

  const check = await runTask(['--check'], (ctx) => rotateKeySet(args, store, ctx));
  t.equal(check.outcome.status, 'changed');
  t.match(check.text, /would stage a new jwt value as next in secrets\.json#jwt, wait 1 s/);
  t.equal(writes.length, 0, '--check writes nothing');

  const first = (await readKeySet(stored))[0]!.kid;
  const r = await runTask([], (ctx) => rotateKeySet(args, store, ctx));
  t.equal(r.outcome.status, 'changed');
  t.same(waits, [1234], 'one wait between the stages, as long as the services take to re-read');
  t.same((await readKeySet(writes[0]!)).map((k) => k.status), ['current', 'next']);
  const after = await readKeySet(stored);
  t.same(after.map((k) => [k.status, k.kid === first]), [['previous', true], ['current', false]]);
  t.notMatch(r.text, /PRIVATE/);
});
