// The AWS clients: AWS_ENDPOINT_URL honoured by every client (requests really go to a 127.0.0.1
// fake endpoint), the one-line message when no credentials exist, and the retry rules
// (throttling always retried; transient errors only for idempotent calls).
import t from 'tap';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AwsClients } from '../../playbooks/lib/aws/clients.js';
import { withRetry } from '../../playbooks/lib/aws/retry.js';
import { CredentialsMissingError } from '../../playbooks/lib/errors.js';
import { awsApis } from '../../playbooks/lib/plays/aws-apis.js';
import { Play } from '../../playbooks/lib/runner.js';
import { artifactRoot, inventory, stackSource } from '../fixtures/aws-play.js';
import { FakeCloudFormation, awsError, throttling } from './fake-aws.js';
import { run } from './harness.js';
import { FAST_RETRY, capturedOutput, options } from './support.js';

const CREDENTIAL_VARS = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_DEFAULT_PROFILE', 'AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_ROLE_ARN', 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', 'AWS_CONTAINER_CREDENTIALS_FULL_URI', 'AWS_CONFIG_FILE', 'AWS_SHARED_CREDENTIALS_FILE', 'AWS_EC2_METADATA_DISABLED', 'AWS_ENDPOINT_URL'];

/** Runs fn with the AWS variables set to `vars` (and the others unset), restoring them after. */
async function withEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(CREDENTIAL_VARS.map((k) => [k, process.env[k]]));
  for (const k of CREDENTIAL_VARS) delete process.env[k];
  Object.assign(process.env, vars);
  try {
    return await fn();
  } finally {
    for (const k of CREDENTIAL_VARS) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  }
}

t.test('AWS_ENDPOINT_URL: every client talks to that endpoint', async (t) => {
  const seen: Array<{ method: string; url: string; target: string; body: string }> = [];
  const server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', target: String(req.headers['x-amz-target'] ?? ''), body });
      const json = String(req.headers['content-type'] ?? '').includes('json');
      if (req.method === 'HEAD') {
        res.writeHead(404).end();
      } else if (json) {
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-query-error': 'ValidationError;Sender' });
        const type = /DescribeStacks/.test(String(req.headers['x-amz-target'])) ? 'ValidationError' : 'ResourceNotFoundException';
        res.end(JSON.stringify({ __type: type, message: 'Stack with id nope does not exist' }));
      } else {
        res.writeHead(400, { 'content-type': 'text/xml' });
        res.end('<ErrorResponse><Error><Type>Sender</Type><Code>ValidationError</Code><Message>Stack with id nope does not exist</Message></Error><RequestId>1</RequestId></ErrorResponse>');
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await withEnv({ AWS_ENDPOINT_URL: endpoint, AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'x', AWS_EC2_METADATA_DISABLED: 'true' }, async () => {
    const clients = new AwsClients({ region: 'eu-west-1', retry: FAST_RETRY });
    t.equal(clients.endpoint, endpoint);
    for (const c of clients.all()) {
      const ep = await (c.config as unknown as { endpoint: () => Promise<{ hostname: string; port?: number }> }).endpoint();
      t.equal(`${ep.hostname}:${ep.port}`, endpoint.slice('http://'.length), `${c.constructor.name} uses the endpoint`);
    }
    const apis = awsApis(clients, new Play({ playbook: 't', title: 't', options: options([]), output: capturedOutput().output }));
    t.equal(await apis.cfn.describeStack('nope'), undefined, 'CloudFormation answered by the fake endpoint');
    t.equal(await apis.s3.headObject('bucket', 'some/key'), undefined, 'S3 answered by the fake endpoint');
    await apis.secrets.describe('saleday/test/jwt').catch(() => undefined);
    await apis.elbv2.targetHealth('arn:tg').catch(() => undefined);
    await apis.cloudfront.invalidate('E1', ['/x'], 'ref').catch(() => undefined);
  });
  t.ok(seen.some((s) => /DescribeStacks/.test(s.body + s.target)), 'DescribeStacks reached the endpoint');
  t.ok(seen.some((s) => s.method === 'HEAD' && s.url.startsWith('/bucket/some/key')), 'S3 addressed by path');
  t.ok(seen.some((s) => /secretsmanager\.DescribeSecret/.test(s.target)), 'Secrets Manager reached the endpoint');
  t.ok(seen.some((s) => /DescribeTargetHealth/.test(s.body + s.target)), 'ELBv2 reached the endpoint');
  t.ok(seen.some((s) => /invalidation/.test(s.url)), 'CloudFront reached the endpoint');
});

t.test('no credentials: one line saying they are needed and how to give them', async (t) => {
  const home = await mkdtemp(join(tmpdir(), 'saleday-nocreds-'));
  t.teardown(() => rm(home, { recursive: true, force: true }));
  const vars = { AWS_CONFIG_FILE: join(home, 'config'), AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials'), AWS_EC2_METADATA_DISABLED: 'true' };
  await withEnv(vars, async () => {
    await t.rejects(new AwsClients({ region: 'eu-west-1' }).checkCredentials(), CredentialsMissingError);
    const fake = new FakeCloudFormation();
    const root = await artifactRoot();
    try {
      const r = await run('deploy', ['-i', 'production.yaml', '--check'], { inventory, source: stackSource(), root });
      t.equal(r.code, 2);
      const line = r.text.split('\n').find((l) => l.startsWith('failed:'));
      t.equal(
        line,
        'failed: [aws credentials] AWS credentials are needed: export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or set AWS_PROFILE to a profile from ~/.aws/config (for SSO run `aws sso login --profile <name>` first)',
      );
      t.same(fake.calls(), [], 'no AWS call without credentials');
      t.notMatch(r.text, /\n\s+at /, 'no stack trace');
    } finally {
      fake.restore();
      await rm(root, { recursive: true, force: true });
    }
  });
});

t.test('retries: throttling always, transient errors only when idempotent', async (t) => {
  const failing = (errors: Error[]) => {
    let calls = 0;
    return {
      fn: () => {
        calls++;
        const e = errors.shift();
        return e ? Promise.reject(e) : Promise.resolve('done');
      },
      calls: () => calls,
    };
  };
  const throttled = failing([throttling(), throttling()]);
  t.equal(await withRetry('Create', FAST_RETRY, { idempotent: false }, throttled.fn), 'done');
  t.equal(throttled.calls(), 3, 'a throttled call was never executed, so even a non-idempotent one is repeated');

  const transient = failing([awsError('InternalFailure', 'oops', 503)]);
  await t.rejects(withRetry('Create', FAST_RETRY, { idempotent: false }, transient.fn), { name: 'InternalFailure' });
  t.equal(transient.calls(), 1, 'a non-idempotent call is not repeated after a 5xx');

  const transientRead = failing([awsError('InternalFailure', 'oops', 503), Object.assign(new Error('reset'), { code: 'ECONNRESET' })]);
  t.equal(await withRetry('Describe', FAST_RETRY, { idempotent: true }, transientRead.fn), 'done');
  t.equal(transientRead.calls(), 3);

  const always = failing(Array.from({ length: 10 }, () => throttling()));
  const retries: number[] = [];
  await t.rejects(withRetry('Describe', FAST_RETRY, { idempotent: true, onRetry: (_w, n) => retries.push(n) }, always.fn), { name: 'Throttling' });
  t.equal(always.calls(), FAST_RETRY.attempts, 'gives up after the attempts');
  t.same(retries, [1, 2, 3]);

  const validation = failing([awsError('ValidationError', 'bad template')]);
  await t.rejects(withRetry('Create', FAST_RETRY, { idempotent: true }, validation.fn), { name: 'ValidationError' });
  t.equal(validation.calls(), 1, 'client errors are not retried');
});
