// The fleet spec the local target builds from an environment and the service declarations: each
// service's program, secret references (never values), the gateway's URL for the services it calls,
// routes and the inventory's scaling policy within what the machine may run; the gateway port
// chosen once and kept; --limit leaves every other service's code alone. A throwaway service
// declared here (not in services/) gets its own group, like the shop's.
import t from 'tap';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import { loadEnvironment, parseEnvironment, programPath, SHOP_SERVICES, type LocalState, type ServiceCatalogue, type ServiceDeclaration } from '../../environment/index.js';
import { type FleetNow, fleetSpecFor } from '../../playbooks/lib/local/fleet-spec-for.js';
import { declaredCommands } from '../../playbooks/lib/local/modules/operator-commands.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const root = await mkdtemp(join(tmpdir(), 'sd-fleet-spec-'));
t.teardown(() => rm(root, { recursive: true, force: true }));
for (const name of ['users', 'catalog', 'inventory', 'orders', 'reviews', 'kit']) {
  await mkdir(join(root, 'dist', 'services', name), { recursive: true });
  await writeFile(join(root, 'dist', 'services', name, name === 'kit' ? 'service.js' : 'main.js'), `${name} v1`);
}
await writeFile(join(root, 'package-lock.json'), '{}');

const environment = await loadEnvironment(join(repo, 'playbooks/inventories/local.yaml'), { overrides: { 'local.gatewayPort': '0', 'services.catalog.scaling.max': '8' } });
const dir = '/srv/shop/.saleday/local';
const nothingRuns: FleetNow = { state: () => Promise.resolve(undefined), savedState: () => Promise.resolve(undefined) };
const ref = (key: string) => `file:${dir}/secrets.json#${key}`;

t.test('every service with its program, secret references, route and policy', async (t) => {
  const spec = await fleetSpecFor({ environment, root, dir, cpus: 2 }, nothingRuns);
  t.same(Object.keys(spec.services), ['users', 'catalog', 'inventory', 'orders']);
  const gatewayUrl = `http://127.0.0.1:${spec.gateway.port}`;
  t.ok(spec.gateway.port > 0, 'port 0: a free port is chosen');
  t.equal(spec.gateway.staticDir, join(root, 'static'));
  t.same(spec.tuning, { drainSeconds: 5, startSeconds: 60 });
  const { users, catalog, inventory, orders } = spec.services;
  t.match(catalog, {
    program: join(root, 'dist/services/catalog/main.js'),
    routes: ['/api/catalog'],
    artifact: /^sha256:[0-9a-f]{64}$/,
    policy: { min: 1, max: 4, desired: 1, cpuTarget: 70, warmupSeconds: 10, cooldownSeconds: 30, evaluationSeconds: 10 },
  });
  t.equal(catalog!.policy.max, 4, 'max 8 in the inventory, but 2 workers per CPU on 2 CPUs');
  t.same(catalog!.env, {
    NODE_ENV: 'production',
    DB_SECRET: ref('db-catalog'),
    DB_TLS: 'off',
    JWT_VERIFY_SECRET: ref('jwt-public'),
    TRUSTED_PROXY_HOPS: '1',
    SHUTDOWN_TIMEOUT_MS: '5000',
    LOG_LEVEL: 'info',
    MIGRATE_ON_START: 'true',
  });
  t.equal(users?.env?.JWT_SIGNING_SECRET, ref('jwt'), 'users signs tokens');
  t.notOk(users?.env && 'REDIS_AUTH_SECRET' in users.env, "no reference to the cache's AUTH token, which only the aws target keeps (the local Redis takes none)");
  for (const [name, s] of Object.entries(spec.services)) t.equal(s.env?.TRUSTED_PROXY_HOPS, '1', `${name}: behind the gateway alone, one proxy appends to X-Forwarded-For`);
  t.equal(inventory?.env?.SERVICE_CREDENTIAL_SECRET, ref('service-credential'));
  t.match(orders!.env, { SERVICE_CREDENTIAL_SECRET: ref('service-credential'), CATALOG_URL: gatewayUrl, INVENTORY_URL: gatewayUrl }, 'orders calls through the gateway');
  t.notOk(catalog?.env?.JWT_SIGNING_SECRET ?? catalog?.env?.SERVICE_CREDENTIAL_SECRET, 'catalog reads no other secret');
});

t.test('the gateway keeps the port it was given; --limit keeps the running code of the others', async (t) => {
  const state: LocalState = {
    environment: 'local',
    gatewayUrl: 'http://127.0.0.1:41234',
    updatedAt: '2030-01-01T00:00:00.000Z',
    services: Object.fromEntries(
      ['users', 'catalog', 'inventory', 'orders'].map((s) => [s, { min: 1, max: 2, desired: 1, size: 1, workers: [], cpuTarget: 70, artifact: `sha256:running-${s}` }]),
    ),
  };
  const runs: FleetNow = { state: () => Promise.resolve(state), savedState: () => Promise.reject(new Error('not read while the fleet runs')) };
  const spec = await fleetSpecFor({ environment, root, dir, limit: 'catalog' }, runs);
  t.equal(spec.gateway.port, 41234);
  t.equal(spec.services.orders?.env?.CATALOG_URL, 'http://127.0.0.1:41234');
  t.match(spec.services.catalog!.artifact, /^sha256:[0-9a-f]{64}$/, 'catalog gets its new code');
  for (const s of ['users', 'inventory', 'orders']) t.equal(spec.services[s]!.artifact, `sha256:running-${s}`, `${s} keeps what it runs`);

  const stopped: FleetNow = { state: () => Promise.resolve(undefined), savedState: () => Promise.resolve(state) };
  t.equal((await fleetSpecFor({ environment, root, dir }, stopped)).gateway.port, 41234, 'also from the state file a stopped fleet left');
});

t.test('a throwaway service declaration: its own group, wired as it declares, and its commands', async (t) => {
  const reviews = {
    name: 'reviews',
    defaultPort: 3005,
    pathPrefix: '/api/reviews',
    secrets: { JWT_VERIFY_SECRET: 'jwt-public' },
    calls: { CATALOG_URL: 'catalog' },
    commands: { migrate: { role: 'migrate', task: 'migrations reviews', args: ['up'], reports: { each: /^applied\b/ } } },
  } as const satisfies ServiceDeclaration;
  const services: ServiceCatalogue = [...SHOP_SERVICES, reviews];
  const file = join(repo, 'playbooks/inventories/local.yaml');
  const doc = parseDocument(await readFile(file, 'utf8'));
  const catalog = doc.getIn(['services', 'catalog']) as { toJSON(): Record<string, unknown> };
  doc.setIn(['services', 'reviews'], doc.createNode({ ...catalog.toJSON(), port: 3005, pathPrefix: '/api/reviews' }));
  doc.setIn(['local', 'gatewayPort'], 41999);
  const withReviews = parseEnvironment(doc.toString(), file, { services });

  const spec = await fleetSpecFor({ environment: withReviews, services, root, dir }, nothingRuns);
  t.same(Object.keys(spec.services), ['users', 'catalog', 'inventory', 'orders', 'reviews']);
  t.match(spec.services.reviews, { program: join(root, programPath('reviews')), routes: ['/api/reviews'], artifact: /^sha256:[0-9a-f]{64}$/, policy: { min: 1, max: 3 } });
  t.match(spec.services.reviews!.env, { DB_SECRET: ref('db-reviews'), JWT_VERIFY_SECRET: ref('jwt-public'), CATALOG_URL: 'http://127.0.0.1:41999' });
  t.notOk(spec.services.reviews!.env?.INVENTORY_URL, 'only the services it calls');
  t.same(declaredCommands(services, 'migrate').map((c) => c.command.task).at(-1), 'migrations reviews', 'deploy migrates it too');
  t.same(Object.keys((await fleetSpecFor({ environment, root, dir }, nothingRuns)).services), ['users', 'catalog', 'inventory', 'orders'], 'the shop itself is untouched');
});
