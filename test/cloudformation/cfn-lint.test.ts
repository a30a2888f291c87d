// The official CloudFormation linter over every template the renderers make: every shipped
// inventory, and every inventory variant another test renders, pass cfn-lint (1.51.0, what CI
// installs) with 0 errors and 0 warnings under the checked-in .cfnlintrc.yaml. cfn-lint takes
// seconds to start, so it runs once per AWS region over all of that region's templates.
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { loadEnvironment, type Environment } from '../../environment/index.js';
import { renderEnvironment } from '../../cloudformation/index.js';
import { inventoryFile, ofType, repoFile } from './fixtures.js';

const exec = promisify(execFile);
const CFN_LINT_VERSION = '1.51.0';
const CONFIG = repoFile('.cfnlintrc.yaml');

/** Inventory variants other tests render or parse, so their templates are linted too. */
const VARIANTS: Array<{ name: string; inventory: string; overrides: string[]; usedBy: string }> = [
  { name: 'staging-orders-max-6', inventory: 'staging', overrides: ['services.orders.scaling.max=6'], usedBy: 'render.test.ts' },
  {
    name: 'staging-past-event',
    inventory: 'staging',
    overrides: ['saleEvents.0.start=2020-11-20T06:00:00Z', 'saleEvents.0.end=2020-11-20T12:00:00Z'],
    usedBy: 'render.test.ts',
  },
  {
    name: 'staging-typed-overrides',
    inventory: 'staging',
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
    usedBy: 'test/playbooks/inventory.test.ts',
  },
];

interface Finding {
  Filename: string;
  Level: 'Error' | 'Warning' | 'Informational';
  Message: string;
  Rule: { Id: string };
  Location: { Start: { LineNumber: number }; Path: Array<string | number> };
}

const out = await mkdtemp(join(tmpdir(), 'saleday-cfn-lint-'));
t.teardown(() => rm(out, { recursive: true, force: true }));

// --- render everything: each distinct template once, remembering every inventory that renders it --
const environments: Array<{ name: string; inv: Environment }> = [];
for (const file of (await readdir(repoFile('playbooks/inventories'))).filter((f) => f.endsWith('.yaml')).sort()) {
  environments.push({ name: file.replace(/\.yaml$/, ''), inv: await loadEnvironment(repoFile(`playbooks/inventories/${file}`)) });
}
for (const v of VARIANTS) environments.push({ name: v.name, inv: await loadEnvironment(inventoryFile(v.inventory), { overrides: v.overrides }) });

const byRegion = new Map<string, string[]>();
/** Linted file -> the <inventory>/<stack>.yaml it stands for (variants share most templates). */
const renderedAs = new Map<string, string[]>();
const fileOf = new Map<string, string>();
let rendered = 0;
for (const { name, inv } of environments) {
  for (const f of renderEnvironment(inv)) {
    rendered++;
    const key = `${inv.region}\n${f.body}`;
    let file = fileOf.get(key);
    if (!file) {
      file = join(out, `${fileOf.size}-${name}-${f.file}`);
      fileOf.set(key, file);
      await writeFile(file, f.body);
      byRegion.set(inv.region, [...(byRegion.get(inv.region) ?? []), file]);
    }
    renderedAs.set(file, [...(renderedAs.get(file) ?? []), `${name}/${f.file}`]);
  }
}

// A canary the linter must reject, in the same run: an unknown property on a listener proves that
// cfn-lint ran with its schemas and that the configuration's Tags patch hides nothing else.
const canaryInv = environments.find((e) => e.name === 'staging')!.inv;
const canary = structuredClone(renderEnvironment(canaryInv).find((f) => f.stack.name === 'load-balancer')!.stack.template);
Object.assign(canary.Resources.Listener!.Properties!, { Bogus: true });
const canaryFile = join(out, 'canary-load-balancer.json');
await writeFile(canaryFile, JSON.stringify(canary, null, 2));
byRegion.get(canaryInv.region)!.push(canaryFile);

// --- lint ------------------------------------------------------------------------------------------
async function cfnLint(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec('cfn-lint', args, { cwd: repoFile('.'), maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { code: number | string; stdout?: string; stderr?: string };
    if (e.code === 'ENOENT') throw new Error(`cfn-lint is not on PATH: pip install cfn-lint==${CFN_LINT_VERSION}`);
    return { code: Number(e.code), stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

// The version check runs beside the lint run, not after it (each start costs seconds).
const version = cfnLint(['--version']);
const findings: Finding[] = [];
const started = Date.now();
for (const [region, files] of byRegion) {
  // --config-file: the checked-in configuration only, not a ~/.cfnlintrc of whoever runs the suite.
  const run = await cfnLint(['--format', 'json', '--config-file', CONFIG, '--regions', region, '--', ...files]);
  // Exit codes are a bit mask of what was found (2 error, 4 warning, 8 informational); 1 is a crash.
  if (run.code === 1 || !run.stdout.trim().startsWith('[')) throw new Error(`cfn-lint failed (exit ${run.code}): ${run.stderr || run.stdout}`);
  findings.push(...(JSON.parse(run.stdout) as Finding[]));
}
const linted = [...byRegion.values()].flat().length;
t.comment(`cfn-lint: ${linted} distinct templates of ${rendered} rendered (${environments.length} inventories), ${byRegion.size} region(s), ${((Date.now() - started) / 1000).toFixed(1)} s`);

const describe = (f: Finding) =>
  `${(renderedAs.get(f.Filename) ?? [f.Filename]).join(', ')}:${f.Location.Start.LineNumber} ${f.Rule.Id} ${f.Level} ${f.Location.Path.slice(0, 2).join('.')}: ${f.Message}`;

t.test('cfn-lint is the version CI installs', async (t) => {
  const { stdout } = await version;
  // Another version reads other schemas: findings may differ from CI's, so say so.
  if (!stdout.includes(CFN_LINT_VERSION)) t.comment(`${stdout.trim()} here; CI installs cfn-lint==${CFN_LINT_VERSION}`);
  t.match(stdout, /^cfn-lint \d+\.\d+\.\d+/);
});

t.test('every rendered template: 0 errors, 0 warnings', (t) => {
  const real = findings.filter((f) => f.Filename !== canaryFile && f.Level !== 'Informational');
  for (const f of real) t.comment(describe(f));
  t.same(real.filter((f) => f.Level === 'Error').map(describe), [], 'no errors');
  t.same(real.filter((f) => f.Level === 'Warning').map(describe), [], 'no warnings');
  t.end();
});

t.test('the canary is rejected: the linter really ran, and the Tags patch covers nothing else', (t) => {
  const caught = findings.filter((f) => f.Filename === canaryFile).map((f) => [f.Rule.Id, f.Location.Path.join('.')]);
  t.same(caught, [['E3002', 'Resources.Listener.Properties.Bogus']]);
  t.end();
});

// What cfn-lint does not check: RDS refuses a parameter group whose family is not the engine's major.
t.test('the database parameter group family is the engine version\'s major', (t) => {
  for (const { name, inv } of environments) {
    const db = renderEnvironment(inv).find((f) => f.stack.name === 'database')!.stack.template;
    const groups = ofType(db, 'AWS::RDS::DBParameterGroup');
    const version = inv.database.engineVersion;
    t.equal(groups.length, 1, `${name}: one parameter group`);
    t.equal(groups[0]?.[1].Properties?.Family, `mysql${version.split('.').slice(0, 2).join('.')}`, `${name}: ${version}`);
  }
  t.end();
});
