// The preflight's offline checks, as pure functions on inventories: each with a planted problem
// (the finding names the setting, the numbers and the fix) and without (the checked-in inventories).
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { parseDocument } from 'yaml';
import { parseEnvironment, type Environment } from '../../environment/index.js';
import { profilePeak } from '../../loadtest/lib/profile/peak.js';
import { parseProfile } from '../../loadtest/lib/profile/load.js';
import { checkArchitecture } from '../../playbooks/lib/preflight/architecture.js';
import { checkCapacity } from '../../playbooks/lib/preflight/capacity.js';
import { checkCertificates } from '../../playbooks/lib/preflight/certificates.js';
import { checkDatabaseConnections, servicePools } from '../../playbooks/lib/preflight/db-connections.js';
import { errorsIn, offlineChecks, type CheckReport } from '../../playbooks/lib/preflight/index.js';
import { defaultMaxConnections } from '../../playbooks/lib/preflight/rds-classes.js';
import { checkScaling } from '../../playbooks/lib/preflight/scaling.js';
import { SHOP_SERVICES } from '../../environment/index.js';

const text = async (env: string) => readFile(fileURLToPath(new URL(`../../playbooks/inventories/${env}.yaml`, import.meta.url)), 'utf8');
const texts = { production: await text('production'), staging: await text('staging'), local: await text('local') };
const load = (env: keyof typeof texts, ...edits: Array<[(string | number)[], unknown]>): Environment => {
  const doc = parseDocument(texts[env]);
  for (const [path, value] of edits) {
    if (value === undefined) doc.deleteIn(path);
    else doc.setIn(path, value);
  }
  return parseEnvironment(doc.toString(), `${env}.yaml`);
};
/** The edits that put a service on a Spot mix (a warm pool cannot go with Spot, so it goes). */
const spotMix = (service: string, spot: { onDemandBase?: number; instanceTypes: string[] }): Array<[(string | number)[], unknown]> => [
  [['services', service, 'spot'], { onDemandBase: 1, onDemandPercentageAboveBase: 50, ...spot }],
  [['services', service, 'scaling', 'warmPool'], undefined],
];
const BEFORE_ALL_EVENTS = new Date('2026-01-01T00:00:00Z');
const errors = (r: CheckReport) => r.findings.filter((f) => f.level === 'error');

t.test('the checked-in inventories pass every offline check (before their sale events)', (t) => {
  for (const env of ['production', 'staging', 'local'] as const) {
    const reports = offlineChecks(load(env), { now: BEFORE_ALL_EVENTS });
    t.same(reports.flatMap((r) => r.findings), [], `${env}: no findings`);
    t.ok(reports.every((r) => r.summary.length > 0), `${env}: every check says what it checked`);
  }
  t.end();
});

t.test('certificates: CloudFront certificate outside us-east-1, load balancer certificate outside the region, a regional web ACL', (t) => {
  const inv = load(
    'production',
    [['domain', 'certificateArn'], 'arn:aws:acm:eu-west-1:123456789012:certificate/abc'],
    [['domain', 'albCertificateArn'], 'arn:aws:acm:us-east-1:123456789012:certificate/def'],
    [['domain', 'webAclArn'], 'arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/x/1'],
  );
  const found = checkCertificates(inv).findings;
  t.same(found.map((f) => [f.level, f.subject]), [['error', 'domain.certificateArn'], ['error', 'domain.albCertificateArn'], ['error', 'domain.webAclArn']]);
  t.match(found[0]!.detail, /is in eu-west-1 .*only uses certificates from us-east-1/);
  t.match(found[0]!.fix, /in us-east-1 .*set domain\.certificateArn/);
  t.match(found[1]!.fix, /api\.shop\.example\.com in eu-west-1/);
  t.match(found[2]!.fix, /scope CLOUDFRONT/);
  t.same(checkCertificates(load('production')).findings, []);
  t.end();
});

t.test('architecture: an x86 type in a Graviton Spot mix, and back', (t) => {
  const inv = load('production', ...spotMix('catalog', { instanceTypes: ['c7g.large', 'c6i.large', 'm7g.large'] }));
  const [f, ...rest] = checkArchitecture(inv).findings;
  t.same(rest, []);
  t.match(f, { level: 'error', subject: 'services.catalog.spot.instanceTypes[1]', detail: /c6i\.large is x86_64, but the group boots the arm64 AMI of its instanceType c7g\.large/, fix: /replace c6i\.large with an arm64 type .*or drop it and keep c7g\.large, m7g\.large/ });
  const x86 = load('staging', [['services', 'users', 'instanceType'], 'm7i.large'], ...spotMix('users', { instanceTypes: ['m7i.large', 'c7g.large'] }));
  t.match(checkArchitecture(x86).findings, [{ subject: 'services.users.spot.instanceTypes[1]', detail: /c7g\.large is arm64, .*x86_64 AMI/ }]);
  t.same(checkArchitecture(load('staging')).findings, []);
  t.end();
});

t.test('scaling: min/desired/max, On-Demand base, pre-warms, event windows, past events', (t) => {
  const inv = load(
    'staging',
    [['services', 'orders', 'scaling', 'desired'], 9],
    [['services', 'users', 'scaling', 'min'], 5],
    ...spotMix('catalog', { onDemandBase: 7, instanceTypes: ['t4g.small'] }),
    [['saleEvents', 1, 'prewarm', 'orders', 'desired'], 40],
    [['saleEvents', 1, 'prewarm', 'catalog', 'min'], 4],
    [['saleEvents', 0, 'end'], '2026-11-24T05:00:00Z'],
  );
  const found = checkScaling(inv, BEFORE_ALL_EVENTS).findings;
  const by = (subject: string) => found.find((f) => f.subject === subject);
  t.match(by('services.orders.scaling.desired'), { level: 'error', detail: 'desired 9 is outside min..max (1..4)', fix: 'set scaling.desired between 1 and 4' });
  t.match(by('services.users.scaling.min'), { detail: 'min 5 is above max 3' });
  t.match(by('services.catalog.spot.onDemandBase'), { detail: 'onDemandBase 7 is above max 4' });
  t.match(by('saleEvents[1].prewarm.orders.desired'), { detail: /pre-warms orders to 40, above services\.orders\.scaling\.max 4/, fix: /raise services\.orders\.scaling\.max to at least 40 or lower the pre-warm to 4/ });
  t.match(by('saleEvents[1].prewarm.catalog.min'), { detail: 'pre-warm min 4 is above its desired 3' });
  t.match(by('saleEvents[0].end'), { detail: /ends .* before it starts/ });
  t.equal(found.length, 6, 'nothing else');

  const overlapping = load('staging', [['saleEvents', 1, 'start'], '2026-11-24T08:00:00Z'], [['saleEvents', 1, 'end'], '2026-11-24T20:00:00Z']);
  t.match(checkScaling(overlapping, BEFORE_ALL_EVENTS).findings, [
    { level: 'error', subject: 'saleEvents[1].start', detail: /overlaps saleEvents\[0\] black-friday-2026-rehearsal .* for catalog, inventory, orders: their scheduled actions would fight/ },
  ]);

  const past = checkScaling(load('staging'), new Date('2026-12-01T00:00:00Z')).findings;
  t.match(past, [{ level: 'warning', subject: 'saleEvents[0]', detail: /black-friday-2026-rehearsal ended at .*: left out of the templates/, fix: /remove black-friday-2026-rehearsal/ }]);
  const during = checkScaling(load('staging'), new Date('2026-11-24T09:00:00Z')).findings;
  t.match(during, [{ level: 'warning', subject: 'saleEvents[0]', detail: /black-friday-2026-rehearsal is under way until .*floor is raised now/, fix: /-e during-sale=black-friday-2026-rehearsal/ }]);
  t.same(checkScaling(load('staging'), BEFORE_ALL_EVENTS).findings, []);
  t.end();
});

t.test('database connections: the production budget, with its numbers', (t) => {
  const inv = load('production');
  t.equal(defaultMaxConnections('db.r6g.xlarge'), 2730, '32 GiB / 12582880');
  t.same(servicePools(inv, SHOP_SERVICES), [
    { service: 'users', poolMax: 20, primary: 20, replica: 10 },
    { service: 'catalog', poolMax: 20, primary: 20, replica: 30 },
    { service: 'inventory', poolMax: 30, primary: 30, replica: 15 },
    { service: 'orders', poolMax: 30, primary: 30, replica: 15 },
  ]);
  const r = checkDatabaseConnections(inv);
  t.same(r.findings, []);
  t.same(r.summary.slice(0, 3), [
    'db.r6g.xlarge: 32 GiB → max_connections ≈ 2730 (RDS default {DBInstanceClassMemory/12582880}); alarm above 2200 on the primary',
    'every group at max, primary: users 12×20 + catalog 24×20 + inventory 18×30 + orders 24×30 = 1980 (73% of 2730; alarm 2200)',
    'every group at max, each of 2 replicas: users 12×10 + catalog 24×30 + inventory 18×15 + orders 24×15 = 1470 (54% of 2730)',
  ]);
  t.match(r.summary[3], /^pre-warm black-friday-2026, primary: users 8×20 \+ catalog 16×20 \+ inventory 12×30 \+ orders 16×30 = 1320 /);
  t.comment(r.summary.join('\n'));
  t.end();
});

t.test('database connections: planted problems', (t) => {
  const over = checkDatabaseConnections(load('production', [['services', 'orders', 'scaling', 'max'], 60]));
  t.match(errors(over), [{ subject: 'database.instanceClass', detail: /every group at max the services may open 3060 connections on the primary, above its max_connections 2730/, fix: /lower DB_POOL_MAX .* or move to a larger instance class/ }]);
  const alarm = checkDatabaseConnections(load('production', [['monitoring', 'thresholds', 'rdsConnections'], 1500]));
  t.match(alarm.findings, [{ level: 'warning', detail: /1980 connections on the primary, above the alarm threshold 1500/ }]);
  const useless = checkDatabaseConnections(load('production', [['monitoring', 'thresholds', 'rdsConnections'], 3000]));
  t.match(useless.findings, [{ level: 'warning', subject: 'monitoring.thresholds.rdsConnections', fix: /about 80% of 2730 \(2184\)/ }]);
  const prewarm = checkDatabaseConnections(load('staging', [['services', 'orders', 'environment', 'DB_POOL_MAX'], '200'], [['services', 'orders', 'scaling', 'max'], 4]));
  // db.t4g.medium: 4 GiB → 341; orders alone at max 4 × 200 = 800.
  t.match(errors(prewarm).map((f) => f.subject), ['database.instanceClass', 'saleEvents[0].prewarm', 'saleEvents[1].prewarm']);
  const unknown = checkDatabaseConnections(load('production', [['database', 'instanceClass'], 'db.x2iedn.xlarge']));
  t.match(errors(unknown), [{ subject: 'database.instanceClass', detail: /no memory figure for db\.x2iedn\.xlarge/, fix: /rds-classes\.ts/ }]);
  const badPool = checkDatabaseConnections(load('production', [['services', 'users', 'environment', 'DB_POOL_MAX'], 'lots']));
  t.match(errors(badPool), [{ subject: 'services.users.environment.DB_POOL_MAX' }]);
  t.match(checkDatabaseConnections(load('local')).summary, [/local target/]);
  t.end();
});

t.test('capacity: a profile peak the fleet cannot reach, and one it can', async (t) => {
  const file = fileURLToPath(new URL('../../loadtest/profiles/sale-day.yaml', import.meta.url));
  const profile = parseProfile(await readFile(file, 'utf8'), file);
  const inv = load('local');
  const peak = profilePeak(profile, SHOP_SERVICES.map((d) => d.pathPrefix));
  t.equal(peak.journeysPerSecond, 150);
  t.equal(peak.phase, 'flash-spike');
  // catalog per journey: browse 0.4×3 + product 0.2×2 + search 0.1×3 + buyer 0.29×1 = 2.19; ×150/s ×60 = 19710 req/min
  t.equal(Math.round(peak.requestsPerMinute['/api/catalog']!), 19710);
  // orders per journey: buyer 0.29×2 = 0.58; ×150/s ×60 = 5220 req/min
  t.equal(Math.round(peak.requestsPerMinute['/api/orders']!), 5220);
  const demand = { profile: peak.profile, phase: peak.phase, journeysPerSecond: peak.journeysPerSecond, requestsPerMinute: Object.fromEntries(SHOP_SERVICES.map((d) => [d.name, peak.requestsPerMinute[d.pathPrefix]!])) };
  const r = checkCapacity(inv, demand);
  t.same(errorsIn([r]), [], 'the local fleet reaches the local profile');
  t.match(r.summary, [/sale-day: peak 150 journeys\/s in flash-spike/, /^users: /, /^catalog: peak 19710 req\/min needs 3 × 7200; the fleet reaches 3 × 7200 = 21600 req\/min$/]);
  const small = checkCapacity(load('local', [['services', 'catalog', 'scaling', 'max'], 1]), demand);
  t.match(errors(small), [{ subject: 'services.catalog.scaling.max', detail: /sends 19710 requests\/min to catalog; 1 instances at requestsPerTarget 7200 reach 7200 \(3 instances needed\)/, fix: /at least 3/ }]);
  t.same(errors(checkCapacity(load('production'), demand)), [], 'production reaches the local profile');
  t.same(checkCapacity(inv, undefined).findings, []);
  t.end();
});
