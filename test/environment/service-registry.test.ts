// The service registry is open: a throwaway service declared in a test (not in services/) shows up
// in the inventory schema (an inventory must configure it, and may pre-warm it), in the rendered
// stacks (its own service-<name> stack, its target group, database secret and alarms) and in what
// the local fleet is built from. Composition, not registration: the shop's catalogue is untouched.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { parseDocument } from 'yaml';
import { renderStacks } from '../../cloudformation/index.js';
import { validateStacks } from '../../cloudformation/lib/validate.js';
import {
  InventoryFileError, parseEnvironment, programPath, reservedVariables, settingsOf, SERVICE_NAMES, SHOP_SERVICES, type ServiceCatalogue, type ServiceDeclaration,
} from '../../environment/index.js';

const reviews = {
  name: 'reviews',
  defaultPort: 3005,
  pathPrefix: '/api/reviews',
  secrets: { JWT_VERIFY_SECRET: 'jwt-public' },
  calls: { CATALOG_URL: 'catalog' },
  commands: { migrate: { role: 'migrate', task: 'migrations reviews', args: ['up'], reports: { each: /^applied\b/ } } },
} as const satisfies ServiceDeclaration;
const services: ServiceCatalogue = [...SHOP_SERVICES, reviews];

const file = fileURLToPath(new URL('../../playbooks/inventories/staging.yaml', import.meta.url));
const staging = await readFile(file, 'utf8');
/** Staging with a services.reviews section (catalog's settings on another port and path). */
function withReviews(extra: (doc: ReturnType<typeof parseDocument>) => void = () => undefined): string {
  const doc = parseDocument(staging);
  const catalog = doc.getIn(['services', 'catalog']) as { toJSON(): Record<string, unknown> };
  doc.setIn(['services', 'reviews'], doc.createNode({ ...catalog.toJSON(), port: 3005, pathPrefix: '/api/reviews' }));
  extra(doc);
  return doc.toString();
}
function refusal(fn: () => unknown): InventoryFileError {
  try {
    fn();
  } catch (err) {
    if (err instanceof InventoryFileError) return err;
    throw err;
  }
  throw new Error('expected an InventoryFileError');
}

t.test('the shop catalogue is untouched by a composed one', (t) => {
  t.same(SERVICE_NAMES, ['users', 'catalog', 'inventory', 'orders']);
  t.notOk(SHOP_SERVICES.map((d): string => d.name).includes('reviews'));
  t.end();
});

t.test('inventory schema: an inventory with the new service validates, one without it is refused', (t) => {
  const inv = parseEnvironment(withReviews(), file, { services });
  t.equal(settingsOf(inv, 'reviews').port, 3005);
  t.same(Object.keys(inv.services), ['users', 'catalog', 'inventory', 'orders', 'reviews']);

  const missing = refusal(() => parseEnvironment(staging, file, { services }));
  t.equal(missing.path, 'services.reviews');
  t.match(missing.message, /services\.reviews: is missing/);

  const unknown = refusal(() => parseEnvironment(withReviews(), file));
  t.equal(unknown.path, 'services.reviews', 'the shop catalogue does not know it');
  t.match(unknown.message, /unknown setting \(expected one of users, catalog, inventory, orders\)/);

  const prewarmed = parseEnvironment(withReviews((doc) => doc.setIn(['saleEvents', 0, 'prewarm', 'reviews'], { min: 2, desired: 3 })), file, { services });
  t.same(prewarmed.saleEvents[0]!.prewarm, { ...parseEnvironment(staging, file).saleEvents[0]!.prewarm, reviews: { min: 2, desired: 3 } }, 'a sale event may pre-warm it');

  t.ok(reservedVariables(services).includes('CATALOG_URL'), 'the URLs it is given are the deploy’s to set');
  const reserved = refusal(() => parseEnvironment(withReviews((doc) => doc.setIn(['services', 'reviews', 'environment'], { CATALOG_URL: 'http://x' })), file, { services }));
  t.equal(reserved.path, 'services.reviews.environment.CATALOG_URL');
  t.end();
});

t.test('rendered stacks: its own service stack, and its place in the shared ones; all valid', async (t) => {
  const inv = parseEnvironment(withReviews(), file, { services });
  const stacks = renderStacks(inv, { services });
  t.same(stacks.map((s) => s.name), ['network', 'database', 'cache', 'bootstrap', 'load-balancer', 'service-users', 'service-catalog', 'service-inventory', 'service-orders', 'service-reviews', 'static-site', 'monitoring', 'loadgen']);
  const stack = (name: string) => stacks.find((s) => s.name === name)!;
  const own = stack('service-reviews');
  t.equal(own.stackName, 'saleday-staging-service-reviews');
  t.match(own.inputs, {
    JwtVerifySecretArn: { from: 'secret', secret: 'jwt-public' },
    ServiceBaseUrl: { from: 'output', stack: 'load-balancer', output: 'ServiceBaseUrl' },
    TargetGroupArn: { from: 'output', stack: 'load-balancer', output: 'ReviewsTargetGroupArn' },
    DbSecretArn: { from: 'output', stack: 'database', output: 'ReviewsDbSecretArn' },
    ArtifactKey: { from: 'artifact', service: 'reviews', field: 'key' },
  });
  const userData = JSON.stringify(own.template.Resources.LaunchTemplate);
  t.match(userData, `ExecStart=/usr/bin/node-22 ${programPath('reviews')}`);
  t.match(userData, 'CATALOG_URL=${ServiceBaseUrl}');
  t.ok(stack('load-balancer').template.Resources.ReviewsTargetGroup, 'a target group');
  t.ok(stack('load-balancer').template.Resources.ReviewsListenerRule, 'a path rule');
  t.ok(stack('database').template.Resources.ReviewsDbSecret, 'a database secret');
  t.ok(stack('monitoring').template.Resources.ReviewsP99Latency, 'alarms');
  t.same((await validateStacks(stacks)).filter((f) => f.severity === 'error'), [], 'spec, security rules and wiring all pass (a warning at most)');
});

// The local fleet's side (a composed catalogue's `reviews` group in the fleet spec) is
// test/local/fleet-spec-for.test.ts.
