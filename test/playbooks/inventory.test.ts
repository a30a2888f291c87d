// The inventory loader: the checked-in inventories load; every error names the file, the path
// (and line) and what was expected; -e overrides are typed by the schema.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { parseDocument } from 'yaml';
import {
  architectureOf, artifactBucketName, InventoryFileError, loadEnvironment, parseEnvironment, pastSaleEvents, resourcePrefix, saleEventPhase, SERVICE_NAMES,
} from '../../environment/index.js';

const file = (env: string) => fileURLToPath(new URL(`../../playbooks/inventories/${env}.yaml`, import.meta.url));
const staging = await readFile(file('staging'), 'utf8');
const production = await readFile(file('production'), 'utf8');

/** Staging with one setting changed (or removed), written back as YAML text. */
function edited(path: (string | number)[], value: unknown, text = staging): string {
  const doc = parseDocument(text);
  if (value === undefined) doc.deleteIn(path);
  else doc.setIn(path, value);
  return doc.toString();
}

function error(fn: () => unknown): InventoryFileError {
  try {
    fn();
  } catch (err) {
    if (err instanceof InventoryFileError) return err;
    throw err;
  }
  throw new Error('expected an InventoryFileError');
}

const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;

t.test('the checked-in inventories load', async (t) => {
  for (const env of ['production', 'staging', 'local']) {
    const inv = await loadEnvironment(file(env));
    t.equal(inv.environment, env, `${env}: environment`);
    t.same(Object.keys(inv.services), [...SERVICE_NAMES], `${env}: all four services`);
    t.ok(Object.isFrozen(inv) && Object.isFrozen(inv.services.users.scaling), `${env}: frozen`);
  }
  const local = await loadEnvironment(file('local'));
  t.equal(local.target, 'local');
  t.match(local.local, { gatewayPort: Number, workersPerCpu: Number });
  t.match(local.services.orders.scaling, { min: Number, max: Number, desired: Number, cpuTarget: Number, requestsPerTarget: Number, warmupSeconds: Number, cooldownSeconds: Number }, 'local: the same scaling policy shape');
});

t.test('an error names the file, the line, the path and what was expected', (t) => {
  const text = edited(['services', 'catalog', 'scaling', 'max'], 'lots');
  const e = error(() => parseEnvironment(text, 'inventories/staging.yaml'));
  t.equal(e.file, 'inventories/staging.yaml');
  t.equal(e.path, 'services.catalog.scaling.max');
  t.equal(e.expected, 'an integer from 1 to 500');
  t.equal(e.line, lineOf(text, 'max: lots'));
  t.equal(e.message, `inventories/staging.yaml:${e.line}: services.catalog.scaling.max: expected an integer from 1 to 500, got "lots"`);
  t.end();
});

t.test('schema errors, each pointing at the setting', (t) => {
  const cases: Array<[string, string, string, RegExp]> = [
    ['wrong type', edited(['network', 'azCount'], 4), 'network.azCount', /expected one of 2, 3, got 4/],
    ['wrong enum', edited(['network', 'natGateways'], 'two'), 'network.natGateways', /expected one of per-az, single, got "two"/],
    ['unknown key', edited(['database', 'multiAz'], true), 'database.multiAz', /unknown setting \(expected one of engineVersion, instanceClass/],
    ['unknown service', edited(['services', 'payments'], {}), 'services.payments', /unknown setting \(expected one of users, catalog, inventory, orders\)/],
    ['missing key', edited(['database', 'instanceClass'], undefined), 'database.instanceClass', /is missing: expected an RDS instance class such as db\.r6g\.large/],
    ['missing service', edited(['services', 'orders'], undefined), 'services.orders', /is missing/],
    ['engine version as a number', staging.replace('engineVersion: "8.4.9"', 'engineVersion: 8.4'), 'database.engineVersion', /expected a MySQL 8\.4 version with its minor pinned, such as "8\.4\.9" \(quoted\), got 8\.4/],
    ['bad time', edited(['saleEvents', 0, 'start'], 'next tuesday'), 'saleEvents[0].start', /expected an ISO 8601 UTC time/],
    ['bad path prefix', edited(['services', 'users', 'pathPrefix'], '/users'), 'services.users.pathPrefix', /expected a path prefix such as \/api\/users/],
    ['bad region', edited(['region'], 'Europe'), 'region', /expected an AWS region such as eu-west-1/],
    ['bad tag key', edited(['tags', 'aws:owner'], 'x'), 'tags.aws:owner', /unknown setting \(expected a tag key: letters, digits and _\.:\/=\+@-, not starting with aws:\)/],
    ['bad variable name', edited(['services', 'users', 'environment', 'log_level'], 'x'), 'services.users.environment.log_level', /unknown setting \(expected an UPPER_CASE variable name\)/],
  ];
  for (const [name, text, path, message] of cases) {
    const e = error(() => parseEnvironment(text, 'staging.yaml'));
    t.equal(e.path, path, `${name}: path`);
    t.match(e.message, message, `${name}: says what was expected`);
    t.match(e.message, /^staging\.yaml(:\d+)?: /, `${name}: names the file`);
  }
  t.end();
});

t.test('rules across settings', (t) => {
  const cases: Array<[string, string, string, RegExp]> = [
    ['pre-warm of an unknown service', edited(['saleEvents', 0, 'prewarm', 'payments'], { min: 1, desired: 1 }), 'saleEvents[0].prewarm.payments', /unknown setting/],
    ['duplicate event name', edited(['saleEvents', 1, 'name'], 'black-friday-2026-rehearsal'), 'saleEvents[1].name', /a name no other sale event uses/],
    ['two services on one port', edited(['services', 'orders', 'port'], 3001), 'services.orders.port', /a port no other service uses \(users has 3001\)/],
    ['two services on one path', edited(['services', 'orders', 'pathPrefix'], '/api/users'), 'services.orders.pathPrefix', /users has it/],
    ['one AMI for two architectures', edited(['ami'], 'ami-0123456789abcdef0', edited(['services', 'orders', 'instanceType'], 'm7i.large')), 'ami', /services of one architecture \(one AMI pins every group; these are arm64 and x86_64\)/],
    ['an AMI id that is not one', edited(['ami'], 'latest'), 'ami', /expected an Amazon Linux 2023 AMI id such as ami-0abcdef1234567890/],
    ['a warm pool beside Spot', edited(['services', 'users', 'spot'], { onDemandBase: 1, onDemandPercentageAboveBase: 0, instanceTypes: ['t4g.small'] }), 'services.users.scaling.warmPool', /cannot go with spot: AWS refuses a warm pool on a group with a mixed instances policy/],
    ['a warm pool smaller than the group', edited(['services', 'orders', 'scaling', 'warmPool', 'maxPrepared'], 0), 'services.orders.scaling.warmPool.maxPrepared', /expected instances in service and in the pool together/],
    ['a warm pool state AWS does not have', edited(['services', 'orders', 'scaling', 'warmPool', 'state'], 'Paused'), 'services.orders.scaling.warmPool.state', /expected one of Stopped, Hibernated, Running/],
    ['a deploy-owned variable', edited(['services', 'users', 'environment', 'DB_SECRET'], 'aws:other'), 'services.users.environment.DB_SECRET', /set by the deploy/],
    ['a secret value', edited(['services', 'users', 'environment', 'API_TOKEN'], 'abc123'), 'services.users.environment.API_TOKEN', /looks like a secret: expected a secret reference/],
    ['a standard tag', edited(['tags', 'CostCentre'], 'x'), 'tags.CostCentre', /set by the deploy itself/],
    ['aliases without a certificate', edited(['domain'], { aliases: ['shop.example.com'] }), 'domain.certificateArn', /CloudFront aliases need a certificate in us-east-1/],
    ['a load balancer certificate without its host name', edited(['domain', 'apiHostname'], undefined, production), 'domain.apiHostname', /albCertificateArn needs apiHostname/],
    ['target local without a local section', edited(['target'], 'local'), 'local', /target local needs gatewayPort and workersPerCpu/],
    ['storage autoscaling below storage', edited(['database', 'maxAllocatedStorage'], 10), 'database.maxAllocatedStorage', /expected GiB storage autoscaling|more than allocatedStorage/],
  ];
  for (const [name, text, path, message] of cases) {
    const e = error(() => parseEnvironment(text, 'staging.yaml'));
    t.equal(e.path, path, `${name}: path`);
    t.match(e.message, message, `${name}: says what to do`);
  }
  t.end();
});

t.test('rules that judge deployability are the preflight\'s, not the loader\'s', (t) => {
  // These loaded with an error before the preflight existed; now the file loads and the preflight
  // reports each with its numbers and fix (test/playbooks/preflight-offline.test.ts), so one
  // preflight run lists all of them beside the connection budget and the rest.
  const cases: Array<[string, string]> = [
    ['desired above max', edited(['services', 'orders', 'scaling', 'desired'], 9)],
    ['min above max', edited(['services', 'orders', 'scaling', 'min'], 5)],
    ['pre-warm above max', edited(['saleEvents', 1, 'prewarm', 'orders', 'desired'], 40)],
    ['event ends before it starts', edited(['saleEvents', 0, 'end'], '2026-06-24T06:00:00Z')],
    ['overlapping events', edited(['saleEvents', 1, 'start'], '2026-11-24T08:00:00Z')],
    ['Spot types of another architecture', edited(['services', 'users', 'spot'], { onDemandBase: 1, onDemandPercentageAboveBase: 0, instanceTypes: ['t4g.small', 'm7i.large'] }, edited(['services', 'users', 'scaling', 'warmPool'], undefined))],
    ['a CloudFront certificate outside us-east-1', edited(['domain', 'certificateArn'], 'arn:aws:acm:eu-west-1:123456789012:certificate/abc', production)],
  ];
  for (const [name, text] of cases) t.doesNotThrow(() => parseEnvironment(text, 'staging.yaml'), `${name}: loads`);
  t.end();
});

t.test('unreadable files and broken YAML', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'saleday-inventory-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const missing = join(dir, 'nope.yaml');
  const e = await loadEnvironment(missing).then(() => undefined, (err: unknown) => err as InventoryFileError);
  t.ok(e instanceof InventoryFileError);
  t.equal(e?.message, `${missing}: no such file (inventories live in playbooks/inventories/<env>.yaml)`);
  const broken = join(dir, 'broken.yaml');
  await writeFile(broken, 'project: saleday\nnetwork: {cidr: 10.0.0.0/16\nregion: eu-west-1\n');
  const b = await loadEnvironment(broken).then(() => undefined, (err: unknown) => err as InventoryFileError);
  t.match(b?.message, new RegExp(`^${broken.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:\\d+: not valid YAML: `));
  const duplicate = staging.replace('project: saleday\n', 'project: saleday\nproject: other\n');
  t.match(error(() => parseEnvironment(duplicate, 'dup.yaml')).message, /^dup\.yaml:\d+: not valid YAML: Map keys must be unique/);
  t.match(error(() => parseEnvironment('- a\n- b\n', 'list.yaml')).message, /^list\.yaml:1: expected a mapping of settings/);
});

t.test('-e overrides are typed by the schema', (t) => {
  const inv = parseEnvironment(staging, 'staging.yaml', {
    overrides: [
      'services.orders.scaling.max=8',
      'database.deletionProtection=true',
      'database.engineVersion=8.4.8',
      'network.natGateways=per-az',
      'saleEvents.0.leadMinutes=90',
      'domain.aliases=[]',
      'local.gatewayPort=0',
      'local.workersPerCpu=1.5',
      'monitoring.thresholds.targetP99Seconds=0.75',
    ],
  });
  t.equal(inv.services.orders.scaling.max, 8, 'an integer');
  t.equal(inv.database.deletionProtection, true, 'a boolean');
  t.equal(inv.database.engineVersion, '8.4.8', 'a string stays a string');
  t.equal(inv.network.natGateways, 'per-az', 'an enum');
  t.equal(inv.saleEvents[0]!.leadMinutes, 90, 'a list item by index');
  t.same(inv.domain, { aliases: [] }, 'a new optional section, list as YAML');
  t.same(inv.local, { gatewayPort: 0, workersPerCpu: 1.5 }, 'numbers into a new section');
  t.equal(inv.monitoring.thresholds.targetP99Seconds, 0.75, 'a float');
  const asRecord = parseEnvironment(staging, 'staging.yaml', { overrides: { 'services.users.scaling.desired': '2' } });
  t.equal(asRecord.services.users.scaling.desired, 2, 'overrides as a record too');

  const cases: Array<[string, RegExp]> = [
    ['services.ordrs.scaling.max=8', /^staging\.yaml: services\.ordrs \(set with -e\): no such setting \(expected one of users, catalog, inventory, orders\); did you mean "orders"\?$/],
    ['services.orders.scaling.max=lots', /^staging\.yaml: services\.orders\.scaling\.max \(set with -e\): expected an integer from 1 to 500, got "lots"$/],
    ['database.deletionProtection=maybe', /expected true or false, got "maybe"/],
    ['services.orders.scaling.max=501', /services\.orders\.scaling\.max \(set with -e\): expected an integer from 1 to 500, got 501/],
    ['network.azCount=4', /network\.azCount \(set with -e\): expected one of 2, 3, got 4/],
    ['region.name=x', /region\.name \(set with -e\): no such setting \(expected an AWS region such as eu-west-1\)/],
    ['services.orders.scaling=3', /services\.orders\.scaling \(set with -e\): expected a mapping/],
    ['saleEvents.x.name=y', /saleEvents\.x \(set with -e\): no such setting \(expected a list index such as 0\)/],
    ['novalue', /^-e novalue: expected key\.path=value/],
  ];
  for (const [override, message] of cases) {
    const e = error(() => parseEnvironment(staging, 'staging.yaml', { overrides: [override] }));
    t.match(e.message, message, override);
  }
  // (services.orders.scaling.max=2 under a pre-warm of 4 was the example here; that is the preflight's now.)
  const taken = error(() => parseEnvironment(staging, 'staging.yaml', { overrides: ['services.users.port=3004'] }));
  t.equal(taken.path, 'services.orders.port', 'an override is checked against the rest of the file');
  t.notOk(taken.fromOverride, 'and the error points at the file setting it conflicts with');
  t.end();
});

t.test('every problem of a file at once, one line each; the first is the error\'s', (t) => {
  let text = edited(['network', 'azCount'], 4);
  text = edited(['database', 'readReplica'], 1, text);
  text = edited(['services', 'orders', 'scaling', 'warmupSecond'], 60, text);
  text = edited(['database', 'instanceClass'], undefined, text);
  const e = error(() => parseEnvironment(text, 'staging.yaml'));
  t.same(e.problems.map((p) => p.path), ['network.azCount', 'database.instanceClass', 'database.readReplica', 'services.orders.scaling.warmupSecond']);
  t.equal(e.message.split('\n').length, 4, 'one line per problem');
  t.equal(e.message.split('\n')[0], `staging.yaml:${lineOf(text, 'azCount: 4')}: network.azCount: expected one of 2, 3, got 4`);
  t.match(e.message, /\nstaging\.yaml:\d+: database\.readReplica: unknown setting \(expected one of engineVersion, .*\); did you mean "readReplicas"\?\n/, 'a misspelt key names the one it meant');
  t.match(e.message, /services\.orders\.scaling\.warmupSecond: unknown setting .*; did you mean "warmupSeconds"\?$/);
  t.notMatch(e.message, /\n\s+at /, 'no stack trace');
  t.match(e, { path: 'network.azCount', line: lineOf(text, 'azCount: 4'), expected: 'one of 2, 3', fromOverride: false }, 'the fields describe the first problem');
  t.match(e.problems[1], { path: 'database.instanceClass', problem: /^is missing: expected an RDS instance class/, expected: /^an RDS instance class/ });

  const rules = edited(['tags', 'CostCentre'], 'x', edited(['services', 'orders', 'port'], 3001));
  t.same(error(() => parseEnvironment(rules, 'staging.yaml')).problems.map((p) => p.path), ['tags.CostCentre', 'services.orders.port'], 'every rule across settings too');

  const overrides = error(() => parseEnvironment(staging, 'staging.yaml', { overrides: ['network.azCnt=3', 'services.orders.scaling.max=lots', 'saleEvents.0.leadMinutes=1'] }));
  t.same(overrides.problems.map((p) => [p.path, p.fromOverride, p.line]), [
    ['network.azCnt', true, undefined],
    ['services.orders.scaling.max', true, undefined],
    ['saleEvents[0].leadMinutes', true, undefined],
  ], 'every bad override, a list index included');
  t.match(overrides.message, /^staging\.yaml: network\.azCnt \(set with -e\): no such setting \(expected one of cidr, azCount, natGateways\); did you mean "azCount"\?\n/);
  t.end();
});

t.test('sale events already under way or over are found (Auto Scaling refuses them)', (t) => {
  const inv = parseEnvironment(production, 'production.yaml');
  const names = (now: string) => pastSaleEvents(inv, new Date(now)).map((e) => e.name);
  t.same(names('2026-11-01T00:00:00Z'), [], 'all ahead');
  t.same(names('2026-11-27T04:59:59Z'), [], 'a second before the pre-warm');
  t.same(names('2026-11-27T05:00:00Z'), ['black-friday-2026'], 'from its pre-warm time (an hour before the start)');
  t.same(names('2026-12-01T00:00:00Z'), ['black-friday-2026', 'cyber-monday-2026']);
  const phases = (now: string) => inv.saleEvents.map((e) => saleEventPhase(e, new Date(now)));
  t.same(phases('2026-11-27T05:00:00Z'), ['under-way', 'ahead', 'ahead'], 'under way from the pre-warm time');
  t.same(phases('2026-11-28T23:00:00Z'), ['over', 'ahead', 'ahead'], 'over at its end');
  t.end();
});

t.test('helpers for the playbooks', async (t) => {
  const inv = await loadEnvironment(file('production'));
  t.equal(resourcePrefix(inv), 'saleday-production');
  t.equal(artifactBucketName(inv, '210987654321'), 'saleday-artifacts-210987654321-eu-west-1');
  t.equal(architectureOf('c7g.large'), 'arm64');
  t.equal(architectureOf('m7gd.xlarge'), 'arm64');
  t.equal(architectureOf('t4g.micro'), 'arm64');
  t.equal(architectureOf('m7i.large'), 'x86_64');
  t.equal(architectureOf('c6a.2xlarge'), 'x86_64');
});
