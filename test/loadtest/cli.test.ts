// ./loadtest/run.mjs as a user runs it: exit 0 when every threshold holds, 99 when one fails
// (named, with its measured value), 1 for a usage error (one message saying what to do, no
// stack trace).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { resultDir, runCli, startServer, tempDir, writeProfile } from './helpers.js';

const { url } = await startServer(t, (_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': 2 });
  res.end('{}');
});
const out = await tempDir(t);

const profile = (thresholds: string) => `
name: cli
maxInFlight: 8
phases:
  - { name: short, duration: 2s, rate: 20 }
journeys:
  - name: ping
    weight: 100
    steps:
      - request: GET /ping
thresholds:
${thresholds}
`;

t.test('an impossible threshold makes the run exit 99 and name it', async (t) => {
  const file = await writeProfile(t, profile('  - { metric: errorRate, max: 1% }\n  - { metric: p99, max: 0.001ms }'));
  const run = await runCli(['--profile', file, '--target', url, '--out', out, '--quiet']);
  t.equal(run.code, 99, run.stderr);
  t.match(run.stdout, /verdict: FAIL \(1 of 2 failed\)/);
  t.match(run.stdout, /✗ p99 ≤ 0\.001 ms: p99 [\d.]+ ms over 40 requests {2}\[thresholds\[1\]\]/);
  t.match(run.stdout, /✓ error rate ≤ 1\.00%: 0\.00% \(0 of 40 requests failed\)/);
  const dir = resultDir(run);
  t.ok(existsSync(join(dir, 'report.html')), 'report.html written');
  const result = JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8'));
  t.equal(result.passed, false);
  t.equal(result.verdicts[1].ok, false);
});

t.test('a run whose thresholds hold exits 0', async (t) => {
  const file = await writeProfile(t, profile('  - { metric: errorRate, max: 1% }\n  - { metric: achievedRate, min: 90% }'));
  const run = await runCli(['--profile', file, '--target', url, '--out', out, '--quiet']);
  t.equal(run.code, 0, run.stderr);
  t.match(run.stdout, /verdict: PASS \(2 thresholds\)/);
});

t.test('usage errors exit 1 with what to do, never a stack trace', async (t) => {
  const bad = await writeProfile(t, profile('  - { metric: p99, max: 1s, journey: checkout }').replace('rate: 20', 'rate: -20'), 'bad.yaml');
  const good = await writeProfile(t, profile('  - { metric: errorRate, max: 1% }'));
  const emptyState = await tempDir(t);
  const cases: Array<[string, string[], RegExp]> = [
    ['bad profile', ['--profile', bad, '--target', url], /bad\.yaml:5:\d+: phases\[0\]\.rate: .*got -20\n\s+fix: /],
    ['unknown flag', ['--profile', good, '--target', url, '--rate', '5'], /Unknown option '--rate'[\s\S]*usage:/],
    ['no target', ['--profile', good], /--target is required/],
    ['no profile', ['--target', url], /--profile is required/],
    ['bad shard', ['--profile', good, '--target', url, '--shard', '3/2'], /--shard 3\/2 is not i\/n/],
    ['nothing listening', ['--profile', good, '--target', 'http://127.0.0.1:1'], /nothing answers at http:\/\/127\.0\.0\.1:1 \(ECONNREFUSED\)/],
    ['no local target', ['--profile', good, '--target', 'local', '--state-dir', emptyState], /state\.json does not exist: the local shop is not running \(bring it up with \.\/playbooks\/deploy\.mjs\)/],
    ['unknown target', ['--profile', good, '--target', 'staging'], /not local, an http\(s\) URL or an inventory file/],
    ['--on elsewhere', ['--profile', good, '--target', url, '--on', 'mars'], /--on mars is not local or aws/],
    ['--on aws without -i', ['--profile', good, '--target', url, '--on', 'aws'], /--on aws needs -i <inventory\.yaml>/],
    ['-i without --on aws', ['--profile', good, '--target', url, '-i', 'playbooks/inventories/staging.yaml'], /add --on aws/],
    ['--subnets without --on aws', ['--profile', good, '--target', url, '--subnets', 'subnet-0a1b2c3d'], /-i, --spot, --yes, --region and --subnets choose where generators run on AWS: add --on aws/],
    ['--on aws, a bad --region', ['--profile', good, '--target', url, '--on', 'aws', '-i', 'playbooks/inventories/staging.yaml', '--region', 'mars'], /--region mars is not an AWS region \(e\.g\. --region eu-west-1\)/],
    ['--on aws, bad --subnets', ['--profile', good, '--target', url, '--on', 'aws', '-i', 'playbooks/inventories/staging.yaml', '--subnets', 'subnet-0a1b2c3d,sub-1,subnet-XYZ'], /--subnets subnet-0a1b2c3d,sub-1,subnet-XYZ: "sub-1", "subnet-XYZ" are not subnet ids \(give them comma-separated/],
    ['--on aws with --shard', ['--profile', good, '--target', url, '--on', 'aws', '-i', 'playbooks/inventories/staging.yaml', '--shard', '1/2'], /drop --shard, --start-at and --results-s3/],
    ['--on aws, a profile outside the repository', ['--profile', good, '--target', 'https://shop.example.com', '--on', 'aws', '-i', 'playbooks/inventories/staging.yaml'], /is outside the repository; .*copy the profile into loadtest\/profiles\//],
    ['--on aws, this machine as target', ['--profile', 'loadtest/profiles/smoke.yaml', '--target', 'http://127.0.0.1:1', '--on', 'aws', '-i', 'playbooks/inventories/staging.yaml'], /generators on AWS cannot reach http:\/\/127\.0\.0\.1:1/],
    ['--start-at s3 without --results-s3', ['--profile', good, '--target', url, '--shard', '1/2', '--start-at', 's3://bucket/run/start-at.json'], /give --results-s3 too/],
    ['bad --results-s3', ['--profile', good, '--target', url, '--results-s3', 'bucket/run/'], /--results-s3 bucket\/run\/ is not s3:\/\/<bucket>\/<folder>\//],
  ];
  for (const [name, args, message] of cases) {
    const run = await runCli([...args, '--out', out, '--quiet']);
    t.equal(run.code, 1, `${name}: exit 1`);
    t.match(run.stderr, message, `${name}: says what is wrong`);
    t.notMatch(run.stderr, /\n\s+at .+:\d+:\d+\)?\n/, `${name}: no stack trace`);
  }
});

t.test('check validates a profile without running it', async (t) => {
  const run = await runCli(['check', '--profile', 'loadtest/profiles/sale-day.yaml']);
  t.equal(run.code, 0);
  t.match(run.stdout, /sale-day\.yaml: ok \(6 phases, 7 journeys, 13 thresholds\)/);
});
