// The emulator helper itself: moto starts on a free port and answers the SDK v3 clients the
// playbooks use, child processes get an environment that reaches it with fake credentials, and the
// server is gone after stop(), after the test process is ended by tap's timeout (SIGALRM), and
// after the test process is killed outright (SIGKILL: the launcher sees its stdin close).
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { MOTO_ACCOUNT, type Teardown, startMoto } from '../helpers/moto.js';
import { ROOT, runNode, waitUntil } from '../helpers/processes.js';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

t.test('moto answers the SDK, reaches child processes through their environment, and is gone after stop()', async (t) => {
  const moto = await startMoto(t);
  t.match(moto.endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
  const sts = new STSClient(moto.clientConfig());
  const s3 = new S3Client(moto.clientConfig());
  t.teardown(() => {
    sts.destroy();
    s3.destroy();
  });
  t.equal((await sts.send(new GetCallerIdentityCommand({}))).Account, MOTO_ACCOUNT, 'STS GetCallerIdentity');
  t.same((await s3.send(new ListBucketsCommand({}))).Buckets ?? [], [], 'S3 ListBuckets: a fresh emulator has no bucket');

  // A child process with exactly this environment reaches the emulator through the SDK's own
  // provider chain; the developer's files in HOME (a default profile with other keys) are not read.
  const home = await mkdtemp(join(tmpdir(), 'saleday-moto-home-'));
  t.teardown(() => rm(home, { recursive: true, force: true }));
  await mkdir(join(home, '.aws'));
  await writeFile(join(home, '.aws/credentials'), '[default]\naws_access_key_id = AKIAREALLOOKING\naws_secret_access_key = not-for-tests\n');
  await writeFile(join(home, '.aws/config'), '[default]\nregion = us-west-2\nendpoint_url = https://example.invalid\n');
  const script = join(home, 'whoami.mjs');
  await writeFile(
    script,
    `import { createRequire } from 'node:module';
     const { STSClient, GetCallerIdentityCommand } = createRequire(${JSON.stringify(join(ROOT, 'package.json'))})('@aws-sdk/client-sts');
     const out = await new STSClient({}).send(new GetCallerIdentityCommand({}));
     const credentials = await new STSClient({}).config.credentials();
     console.log(JSON.stringify({ account: out.Account, keyId: credentials.accessKeyId, endpoint: process.env.AWS_ENDPOINT_URL }));`,
  );
  const child = await runNode(script, [], { PATH: process.env.PATH ?? '', HOME: home, ...moto.env, NODE_NO_WARNINGS: '1' });
  t.equal(child.code, 0, child.stderr);
  t.same(JSON.parse(child.stdout), { account: MOTO_ACCOUNT, keyId: 'testing', endpoint: moto.endpoint });

  t.ok(alive(moto.pid), 'moto runs');
  await moto.stop();
  t.notOk(alive(moto.pid), 'moto is gone after stop()');
  await t.rejects(fetch(moto.endpoint), 'nothing answers on its port');
});

/** Runs the helper in a test process of its own (test/fixtures/moto-holder.ts through tap's loader). */
async function helperInAChild(t: Teardown): Promise<{ childPid: number; motoPid: number; exited: Promise<unknown> }> {
  const fixture = join(ROOT, 'test/fixtures/moto-holder.ts');
  const loader = process.execArgv.filter((a) => a.includes('@tapjs/typescript'));
  const child = spawn(process.execPath, [...loader, fixture], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' }, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  t.teardown(() => {
    child.kill('SIGKILL');
  });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    void exited.then(() => reject(new Error('the fixture exited before moto started')));
  });
  return { childPid: child.pid!, motoPid: (JSON.parse(line) as { pid: number }).pid, exited };
}

t.test('tap ending the file for a timeout (SIGALRM) ends moto with it', async (t) => {
  const { childPid, motoPid, exited } = await helperInAChild(t);
  t.ok(alive(motoPid), 'moto runs under the fixture');
  process.kill(childPid, 'SIGALRM');
  await exited;
  await waitUntil(() => Promise.resolve(!alive(motoPid)), 'moto to exit after SIGALRM', 10_000);
  t.pass('moto is gone');
});

t.test('a test process killed outright (SIGKILL) leaves no moto behind', async (t) => {
  const { childPid, motoPid, exited } = await helperInAChild(t);
  process.kill(childPid, 'SIGKILL');
  await exited;
  await waitUntil(() => Promise.resolve(!alive(motoPid)), 'moto to exit once its stdin closed', 10_000);
  t.pass('moto is gone');
});
