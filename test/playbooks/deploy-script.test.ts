// ./playbooks/deploy.mjs run as a new user would (a child process on the compiled library):
// without AWS credentials it fails with one line saying how to give them; with AWS_ENDPOINT_URL
// every call goes to that endpoint (a fake on 127.0.0.1); bad flags and bad inventory values are
// usage errors (exit 1) that say what to do.
import t from 'tap';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const home = await mkdtemp(join(tmpdir(), 'saleday-user-'));
t.teardown(() => rm(home, { recursive: true, force: true }));

/** The environment of a new user: no AWS variables, an empty home, no instance metadata. */
function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_')));
  return { ...env, HOME: home, AWS_EC2_METADATA_DISABLED: 'true', AWS_CONFIG_FILE: join(home, 'config'), AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials'), ...extra };
}

function deploy(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(repo, 'playbooks/deploy.mjs'), ...args], { cwd: repo, env, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

t.test('no credentials: one clear line, exit 2', async (t) => {
  const r = await deploy(['-i', 'playbooks/inventories/production.yaml', '--check'], userEnv());
  t.equal(r.code, 2);
  const failures = r.stdout.split('\n').filter((l) => l.startsWith('failed:'));
  t.same(failures, [
    'failed: [aws credentials] AWS credentials are needed: export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or set AWS_PROFILE to a profile from ~/.aws/config (for SSO run `aws sso login --profile <name>` first)',
  ]);
  t.equal(r.stderr, '', 'nothing else on stderr (no stack trace, no SDK warning)');
});

t.test('AWS_ENDPOINT_URL: the calls go to that endpoint', async (t) => {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push(`${String(req.headers['x-amz-target'] ?? '')}${body}`);
      if (/GetCallerIdentity/.test(body)) {
        res.writeHead(200, { 'content-type': 'text/xml' });
        res.end('<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/t</Arn><UserId>AID</UserId><Account>123456789012</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></GetCallerIdentityResponse>');
      } else if (req.headers['x-amz-target']) {
        // JSON protocol services (Secrets Manager) get their errors as JSON.
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify({ __type: 'AccessDeniedException', message: 'the fake endpoint refuses' }));
      } else {
        res.writeHead(403, { 'content-type': 'text/xml' });
        res.end('<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>the fake endpoint refuses</Message></Error><RequestId>1</RequestId></ErrorResponse>');
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const r = await deploy(['-i', 'playbooks/inventories/production.yaml', '--check'], userEnv({ AWS_ENDPOINT_URL: endpoint, AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'not-a-secret' }));
  // The preflight reads there first; refused, its online checks say they were not checked, and the deploy goes on.
  t.match(r.stdout, /warning: offerings: ec2:DescribeAvailabilityZones: not permitted to the caller, so not checked/);
  t.ok(seen.some((s) => /Action=DescribeAvailabilityZones/.test(s)), 'EC2 went to the endpoint');
  t.match(r.stdout, new RegExp(`ok: \\[aws credentials\\] account 123456789012, region eu-west-1, endpoint ${endpoint}`));
  // The first task that changes something fails on the refusal and stops the play.
  t.match(r.stdout, /failed: \[(stack network|secret origin-header)\] the fake endpoint refuses/);
  t.equal(r.code, 2);
  t.ok(seen.some((s) => /Action=GetCallerIdentity/.test(s)), 'STS went to the endpoint');
  t.ok(seen.some((s) => /Action=DescribeStacks&.*saleday-production-network/.test(s)), 'CloudFormation went to the endpoint');
});

t.test('usage errors: exit 1 with a line that says what to do', async (t) => {
  const flag = await deploy(['--bogus'], userEnv());
  t.equal(flag.code, 1);
  t.match(flag.stderr, /^error: Unknown option '--bogus'; see --help\n$/);
  const value = await deploy(['-i', 'playbooks/inventories/production.yaml', '--check', '-e', 'network.azCount=7'], userEnv());
  t.equal(value.code, 1);
  t.match(value.stderr, /^error: playbooks\/inventories\/production\.yaml.*network\.azCount \(set with -e\)/);
  const missing = await deploy(['-i', 'playbooks/inventories/nope.yaml'], userEnv());
  t.equal(missing.code, 1);
  t.match(missing.stderr, /nope\.yaml.*no such file/);
});

t.test('with no inventory: the local inventory; --check renders, validates and changes nothing', async (t) => {
  const dir = join(home, 'local-check');
  const r = await deploy(['--check'], userEnv({ SALEDAY_LOCAL_DIR: dir }));
  t.match(r.stdout, /^PLAY \[deploy local · local\]/);
  t.match(r.stdout, /ok: \[render templates\] \d+ stacks rendered\n(.*\n)*ok: \[validate templates\] \d+ templates valid/);
  t.match(r.stdout, /skipped: \[write templates\] --check writes nothing/);
  t.match(r.stdout, /changed: \[secrets file\] would write/);
  t.match(r.stdout, /changed: \[fleet supervisor\] would start the supervisor/);
  t.match(r.stdout, /skipped: \[migrations catalog\] --check runs no migrations/);
  t.equal(r.code, 0, r.stdout + r.stderr);
  t.notOk(existsSync(join(dir, 'secrets.json')), 'no secrets file was written');
  t.notOk(existsSync(join(dir, 'supervisor.json')), 'no supervisor was started');
});
