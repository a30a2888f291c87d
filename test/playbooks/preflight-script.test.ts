// ./playbooks/preflight.mjs run as a new user would (a child process on the compiled library, no
// AWS credentials, an empty home): an inventory whose CloudFront certificate comes from eu-west-1
// and whose Spot mix puts an x86 type beside a Graviton one exits 2, naming both with their fixes,
// offline (its wall time is printed: speed is for benchmarks); the production inventory's database budget is printed with its numbers.
import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { distFile } from '../helpers/processes.js';

distFile('playbooks/lib/scripts.js');
const repo = fileURLToPath(new URL('../..', import.meta.url));
const home = await mkdtemp(join(tmpdir(), 'saleday-preflight-'));
t.teardown(() => rm(home, { recursive: true, force: true }));

function userEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_')));
  return { ...env, HOME: home, AWS_EC2_METADATA_DISABLED: 'true', AWS_CONFIG_FILE: join(home, 'config'), AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials') };
}

function preflight(args: string[]): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
  const started = process.hrtime.bigint();
  return new Promise((resolve) => {
    execFile(process.execPath, [join(repo, 'playbooks/preflight.mjs'), ...args], { cwd: repo, env: userEnv(), timeout: 60_000 }, (err, stdout, stderr) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr, ms });
    });
  });
}

const production = await readFile(join(repo, 'playbooks/inventories/production.yaml'), 'utf8');
const newUser = join(home, 'shop.yaml');
await writeFile(
  newUser,
  production
    .replace('certificateArn: arn:aws:acm:us-east-1:', 'certificateArn: arn:aws:acm:eu-west-1:')
    // catalog on a Spot mix with an x86 type among its Graviton ones (no warm pool beside Spot)
    .replace(
      'scaling: { min: 3, max: 24, desired: 4, cpuTarget: 55, requestsPerTarget: 6000, warmupSeconds: 120, cooldownSeconds: 300,\n               warmPool: { minSize: 4, state: Stopped } }',
      'scaling: { min: 3, max: 24, desired: 4, cpuTarget: 55, requestsPerTarget: 6000, warmupSeconds: 120, cooldownSeconds: 300 }\n    spot: { onDemandBase: 3, onDemandPercentageAboveBase: 50, instanceTypes: [c7g.large, c6i.large, m7g.large] }',
    ),
);

t.test('the new user: a eu-west-1 CloudFront certificate and an x86 type in a Graviton Spot mix', async (t) => {
  // Its speed is a benchmark's business (a timed test fails on a loaded CI machine): said, not asserted.
  const r = await preflight(['-i', newUser, '--offline']);
  t.comment(`wall time ${Math.round(r.ms)} ms`);
  t.equal(r.code, 2, 'exit 2: error-level findings');
  t.match(r.stdout, /error certificates: domain\.certificateArn: the CloudFront certificate is in eu-west-1 .*CloudFront only uses certificates from us-east-1\n\s+fix: request or import a certificate for shop\.example\.com, www\.shop\.example\.com in us-east-1/);
  t.match(r.stdout, /error architecture: services\.catalog\.spot\.instanceTypes\[1\]: c6i\.large is x86_64, but the group boots the arm64 AMI of its instanceType c7g\.large.*\n\s+fix: replace c6i\.large with an arm64 type/);
  t.match(r.stdout, /failed=2/);
  t.equal(r.stderr, '', 'nothing on stderr');

  // Without --offline and without credentials: the same two findings, and one line saying how to give credentials.
  const online = await preflight(['-i', newUser]);
  t.equal(online.code, 2);
  t.match(online.stdout, /error certificates: domain\.certificateArn/);
  t.match(online.stdout, /error architecture: services\.catalog\.spot\.instanceTypes\[1\]/);
  t.match(online.stdout, /failed: \[aws credentials\] AWS credentials are needed/);
});

t.test('production: the database connection budget, printed with its numbers', async (t) => {
  const r = await preflight(['-i', 'playbooks/inventories/production.yaml', '--offline']);
  t.equal(r.code, 0, 'warnings (past sale events) do not fail it');
  t.match(r.stdout, /ok: \[preflight database connections\] db\.r6g\.xlarge: 32 GiB → max_connections ≈ 2730 \(RDS default \{DBInstanceClassMemory\/12582880\}\); alarm above 2200 on the primary\n {4}every group at max, primary: users 12×20 \+ catalog 24×20 \+ inventory 18×30 \+ orders 24×30 = 1980 \(73% of 2730; alarm 2200\)\n {4}every group at max, each of 2 replicas: users 12×10 \+ catalog 24×30 \+ inventory 18×15 \+ orders 24×15 = 1470 \(54% of 2730\)/);
  t.comment(r.stdout.split('\n').filter((l) => /database connections|primary|replicas/.test(l)).join('\n'));
});

t.test('--profile: the fleet against a load profile\'s peak; a bad profile is a usage-style message', async (t) => {
  const r = await preflight(['-i', 'playbooks/inventories/local.yaml', '--profile', 'loadtest/profiles/sale-day.yaml']);
  t.equal(r.code, 0);
  t.match(r.stdout, /ok: \[preflight capacity\] profile sale-day: peak 150 journeys\/s in flash-spike\n {4}users: peak \d+ req\/min/);
  const bad = await preflight(['-i', 'playbooks/inventories/local.yaml', '--profile', join(home, 'nope.yaml')]);
  t.equal(bad.code, 2);
  t.match(bad.stdout, /failed: \[preflight profile\] --profile .*nope\.yaml/);
  t.notMatch(bad.stdout, /\n\s+at /, 'no stack trace');
});
