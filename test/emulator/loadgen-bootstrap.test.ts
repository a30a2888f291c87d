// The loadgen task's bootstrap (cloudformation/lib/loadgen-bootstrap.ts) run as the task runs it,
// `node -e <script>`, against moto's S3: the credentials come from a container-credentials endpoint
// of the test's (AWS_CONTAINER_CREDENTIALS_FULL_URI, as the SDKs take it), S3 is the emulator
// (AWS_ENDPOINT_URL_S3, as the SDKs take it). A stand-in harness (loadtest/run.mjs in a real tgz)
// writes status.json and result.json to RESULTS_DIR. The bootstrap refuses an artifact whose
// sha256 does not match and says so in exit.json; it refuses a results prefix the task role could
// not write.
import t from 'tap';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { create as createTar } from 'tar';
import { LOADGEN_BOOTSTRAP } from '../../cloudformation/index.js';
import { startMoto } from '../helpers/moto.js';

const moto = await startMoto(t);
const s3 = new S3Client(moto.clientConfig());
t.teardown(() => s3.destroy());
const BUCKET = 'saleday-artifacts-123456789012-eu-west-1';
await s3.send(new CreateBucketCommand({ Bucket: BUCKET, CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }));

const work = await mkdtemp(join(tmpdir(), 'saleday-loadgen-bootstrap-'));
t.teardown(() => rm(work, { recursive: true, force: true }));

// The stand-in harness: a status, its arguments as the result, a line on stderr, exit 3.
const harness = join(work, 'harness');
await mkdir(join(harness, 'loadtest'), { recursive: true });
await writeFile(join(harness, 'package.json'), '{"type":"module"}\n');
await writeFile(
  join(harness, 'loadtest/run.mjs'),
  `import { writeFileSync, renameSync } from 'node:fs';
const dir = process.env.RESULTS_DIR;
writeFileSync(dir + '/status.tmp', JSON.stringify({ sent: 7 }));
renameSync(dir + '/status.tmp', dir + '/status.json');
writeFileSync(dir + '/result.json', JSON.stringify({ args: process.argv.slice(2), cwdHasHarness: process.cwd().endsWith('harness') }));
process.stderr.write('harness: done\\n');
process.exit(3);
`,
);
const tgz = join(work, 'harness.tgz');
await createTar({ file: tgz, cwd: harness, gzip: true, portable: true }, ['package.json', 'loadtest/run.mjs']);
const artifact = await readFile(tgz);
const sha256 = createHash('sha256').update(artifact).digest('hex');
const KEY = `artifacts/loadgen/${sha256}.tgz`;
await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: KEY, Body: artifact }));

// The container credentials endpoint ECS gives a task (here at a full URI, with its authorization token).
const seen: string[] = [];
const creds = createServer((req, res) => {
  seen.push(String(req.headers.authorization));
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ AccessKeyId: 'testing', SecretAccessKey: 'testing', Token: 'session', Expiration: new Date(Date.now() + 3600_000).toISOString() }));
});
await new Promise<void>((resolve) => creds.listen(0, '127.0.0.1', resolve));
t.teardown(() => creds.close());
const credsUrl = `http://127.0.0.1:${(creds.address() as { port: number }).port}/creds`;

interface Run {
  code: number | null;
  stderr: string;
}

function bootstrap(env: Record<string, string>): Promise<Run> {
  const base = {
    PATH: process.env.PATH ?? '',
    TMPDIR: work,
    AWS_REGION: moto.region,
    AWS_ENDPOINT_URL_S3: moto.endpoint,
    AWS_CONTAINER_CREDENTIALS_FULL_URI: credsUrl,
    AWS_CONTAINER_AUTHORIZATION_TOKEN: 'task-token',
    ARTIFACT_BUCKET: BUCKET,
    RESULTS_BUCKET: BUCKET,
    ARTIFACT_KEY: KEY,
    ARTIFACT_SHA256: sha256,
    HARNESS_ARGS: JSON.stringify(['--profile', 'loadtest/profiles/smoke.yaml', '--shard', '2/3']),
    STATUS_INTERVAL_MS: '50',
  };
  return new Promise((resolve) => {
    execFile(process.execPath, ['-e', LOADGEN_BOOTSTRAP], { env: { ...base, ...env }, timeout: 60_000 }, (err, _stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stderr });
    });
  });
}

const keys = async (prefix: string): Promise<string[]> => ((await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }))).Contents ?? []).map((o) => o.Key!.slice(prefix.length)).sort();
const json = async (key: string): Promise<Record<string, unknown>> =>
  JSON.parse(await (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body!.transformToString()) as Record<string, unknown>;

t.test('fetches and checks the harness, runs it with HARNESS_ARGS, puts status, result and exit under the prefix', async (t) => {
  const prefix = 'loadgen-results/run-1/2-of-3/';
  const run = await bootstrap({ RESULTS_KEY_PREFIX: prefix });
  t.equal(run.code, 3, `the harness's exit code (${run.stderr})`);
  t.match(run.stderr, /harness: done/, 'its stderr goes to the log');
  t.same(await keys(prefix), ['exit.json', 'result.json', 'status.json']);
  t.same(await json(`${prefix}result.json`), { args: ['--profile', 'loadtest/profiles/smoke.yaml', '--shard', '2/3'], cwdHasHarness: true });
  t.same(await json(`${prefix}status.json`), { sent: 7 });
  t.match(await json(`${prefix}exit.json`), { code: 3, signal: null, stderr: 'harness: done\n' });
  t.ok(seen.includes('task-token'), 'the credentials endpoint got its authorization token');
});

t.test('an artifact whose sha256 does not match is refused: nothing runs, exit.json says why', async (t) => {
  const prefix = 'loadgen-results/run-2/1-of-1/';
  const run = await bootstrap({ RESULTS_KEY_PREFIX: prefix, ARTIFACT_SHA256: '0'.repeat(64) });
  t.equal(run.code, 1);
  t.match(run.stderr, new RegExp(`loadgen: artifact s3://${BUCKET}/${KEY} does not match sha256 0{64}: refused, nothing run`));
  t.same(await keys(prefix), ['exit.json'], 'no status, no result: the harness never ran');
  t.match(await json(`${prefix}exit.json`), { code: 1, error: /does not match sha256/ });
});

t.test('a results prefix outside loadgen-results/ is refused before anything is fetched', async (t) => {
  const run = await bootstrap({ RESULTS_KEY_PREFIX: 'artifacts/elsewhere/' });
  t.equal(run.code, 1);
  t.match(run.stderr, /RESULTS_KEY_PREFIX must be loadgen-results\/<run id>\/<shard>\//);
  t.same(await keys('artifacts/elsewhere/'), [], 'nothing written there');
});

t.test('HARNESS_ARGS that are not a JSON array of strings are refused', async (t) => {
  const prefix = 'loadgen-results/run-3/1-of-1/';
  const run = await bootstrap({ RESULTS_KEY_PREFIX: prefix, HARNESS_ARGS: '{"profile":1}' });
  t.equal(run.code, 1);
  t.match(run.stderr, /HARNESS_ARGS must be a JSON array of strings/);
  t.match(await json(`${prefix}exit.json`), { code: 1, error: /HARNESS_ARGS/ });
});
