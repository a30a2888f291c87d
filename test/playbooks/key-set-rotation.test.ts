// -e rotate=jwt,service-credential on the aws target, against the AWS fakes (aws-sdk-client-mock):
// an old-shape secret migrates to a key set; the new value is staged as `next` (jwt-public first),
// promoted after the services' re-read interval, the old one kept as `previous` for its grace;
// values never printed; an unknown name refused before anything changes (exit 2); database
// passwords handed to the bootstrap function (its rotation: test/playbooks/bootstrap.test.ts); a write that
// fails between the stages leaves a `next` every verifier accepts, and the next run finishes it.
import t, { type Test } from 'tap';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { parseEnvironment } from '../../environment/index.js';
import { keyId, newKeySetSecret, type KeySetSecret } from '../../services/kit/key-set.js';
import { stackSource } from '../fixtures/aws-play.js';
import { invokeBootstrap } from '../../playbooks/lib/modules/database-bootstrap.js';
import { awsPlayFiles, healthyWorld, run, type World } from './harness.js';
import { runTask } from './support.js';

const { root, site } = await awsPlayFiles(t);
// Services re-read their secrets every second here, and tokens live 600 s: the play waits ~2 s per stage.
const inventory = parseEnvironment(
  readFileSync(fileURLToPath(new URL('../../playbooks/inventories/staging.yaml', import.meta.url)), 'utf8'),
  'test.yaml',
  {
    overrides: {
      environment: 'test',
      ...Object.fromEntries(['users', 'catalog', 'inventory', 'orders'].map((s) => [`services.${s}.environment.SECRETS_REFRESH_SECONDS`, '1'])),
      'services.users.environment.TOKEN_TTL_SECONDS': '600',
    },
  },
);
const env = { inventory, source: stackSource(), root };
const JWT = 'saleday/test/jwt';
const PUBLIC = 'saleday/test/jwt-public';
const CRED = 'saleday/test/service-credential';

let w: World;
t.beforeEach(() => {
  w = healthyWorld(site.url);
});
t.afterEach(() => w.restore());

const value = (name: string) => JSON.parse(w.secrets.secrets.get(name)!.value) as Record<string, unknown>;
const exitCode = (t: Test, r: { code: number; text: string }, code: number) => {
  if (r.code !== code) t.comment(r.text);
  t.equal(r.code, code, `exit code ${code}`);
};
/** The secret names PutSecretValue was called with, in order. */
const puts = () => w.secrets.mock.commandCalls(PutSecretValueCommand).map((c) => c.args[0].input.SecretId);

t.test('an old-shape key pair and credential rotate in stages, never printed', async (t) => {
  exitCode(t, await run('deploy', ['-i', 'test.yaml', '--yes'], env), 0);
  // Secrets made before key sets: {privateKey, publicKey}, {publicKey}, {token}.
  const old = await newKeySetSecret();
  const oldKid = await keyId(old.publicKey);
  w.secrets.secrets.get(JWT)!.value = JSON.stringify({ privateKey: old.privateKey, publicKey: old.publicKey });
  w.secrets.secrets.get(PUBLIC)!.value = JSON.stringify({ publicKey: old.publicKey });
  const oldToken = String(value(CRED).token);
  w.secrets.mock.resetHistory();

  const started = Date.now();
  const r = await run('deploy', ['-i', 'test.yaml', '--yes', '-e', 'rotate=jwt,service-credential'], env);
  exitCode(t, r, 0);
  t.match(r.text, /changed: \[rotate jwt\] saleday\/test\/jwt: rotated, key \S+ is current; the previous value accepted until/);
  t.match(r.text, /changed: \[rotate service-credential\]/);
  t.same(puts(), [PUBLIC, JWT, PUBLIC, JWT, CRED, CRED], 'each stage writes jwt-public before jwt; two stages each');

  const stage1 = JSON.parse(w.secrets.mock.commandCalls(PutSecretValueCommand)[0]!.args[0].input.SecretString!) as KeySetSecret;
  t.same(stage1.keys.map((k) => [k.kid === oldKid, k.status]), [[true, 'current'], [false, 'next']], 'stage 1: verifiers get the new key as next, the old one still current');
  const jwt = value(JWT) as unknown as KeySetSecret;
  const current = jwt.keys.find((k) => k.status === 'current')!;
  const previous = jwt.keys.find((k) => k.status === 'previous')!;
  t.equal(previous.kid, oldKid, 'the old key is previous');
  t.not(current.kid, oldKid);
  t.equal(jwt.publicKey, current.publicKey, 'the top level is the current key');
  const grace = Date.parse(previous.expiresAt!) - started;
  t.ok(grace >= 600_000 && grace < 620_000, `previous accepted for the token lifetime plus a re-read (${grace} ms)`);
  const pub = value(PUBLIC) as unknown as KeySetSecret;
  t.same(pub.keys.map((k) => k.kid), jwt.keys.map((k) => k.kid), 'jwt-public follows jwt');
  t.notMatch(JSON.stringify(pub), /PRIVATE KEY/, 'jwt-public holds no private key');

  const cred = value(CRED);
  t.equal(cred.previous, oldToken, 'the old credential is previous');
  t.not(cred.token, oldToken);
  t.ok(Date.parse(String(cred.previousExpiresAt)) > Date.now(), 'within its grace');

  for (const secret of [String(cred.token), oldToken, current.privateKey!.split('\n')[1]!]) t.notMatch(r.text, secret, 'no value printed');
});

t.test('unknown names are refused before anything changes; database goes to the bootstrap function', async (t) => {
  exitCode(t, await run('deploy', ['-i', 'test.yaml', '--yes'], env), 0);
  w.secrets.mock.resetHistory();
  const before = w.mutations().length;
  const r = await run('deploy', ['-i', 'test.yaml', '--yes', '-e', 'rotate=jwt,nope'], env);
  exitCode(t, r, 2);
  t.match(r.text, /-e rotate=nope: no such secret to rotate; the aws target rotates jwt, service-credential, jwt-public, origin-header/);
  t.equal(w.mutations().length, before, 'nothing changed');
  const db = await run('deploy', ['-i', 'test.yaml', '--yes', '-e', 'rotate=db-orders,database'], env);
  exitCode(t, db, 0);
  t.match(db.text, /rotating db-orders \(by the database bootstrap\), db-users \(by the database bootstrap\)/);
  // What the play hands the function (this file's stack source has no bootstrap stack).
  const payloads: unknown[] = [];
  const lambda = { invoke: (_fn: string, payload: unknown) => Promise.resolve(void payloads.push(payload)).then(() => ({ payload: { check: false, services: [{ service: 'orders', status: 'changed', did: ['password rotated: orders_b now in its secret'] }] } })) };
  const invoked = await runTask([], (ctx) => invokeBootstrap({ functionName: 'bootstrap', rotate: ['orders'] }, lambda, ctx).then((r) => r.outcome));
  t.same(payloads, [{ check: false, rotate: ['orders'] }], 'the bootstrap function is asked to rotate the password');
  t.equal(invoked.outcome.status, 'changed');
  const limited = await run('deploy', ['-i', 'test.yaml', '--yes', '--limit', 'orders', '-e', 'rotate=database'], env);
  exitCode(t, limited, 2);
  t.match(limited.text, /does not run with --limit/);
  const pub = await run('deploy', ['-i', 'test.yaml', '--yes', '-e', 'rotate=jwt-public'], env);
  exitCode(t, pub, 0);
  t.match(pub.text, /jwt-public follows jwt: rotate jwt/);
});

t.test('a failure between the stages leaves a next key every verifier accepts; the next run finishes it', async (t) => {
  exitCode(t, await run('deploy', ['-i', 'test.yaml', '--yes'], env), 0);
  const before = value(JWT) as unknown as KeySetSecret;
  // The third write (stage 2's jwt-public) is throttled for good.
  let writes = 0;
  w.secrets.mock.on(PutSecretValueCommand).callsFake((i: { SecretId: string; SecretString: string; ClientRequestToken?: string }) => {
    writes += 1;
    if (writes >= 3) throw Object.assign(new Error('Rate exceeded'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } });
    const s = w.secrets.secrets.get(i.SecretId)!;
    s.value = i.SecretString;
    return { ARN: s.arn, VersionId: i.ClientRequestToken ?? `v${writes}` };
  });
  const failed = await run('deploy', ['-i', 'test.yaml', '--yes', '-e', 'rotate=jwt'], env);
  exitCode(t, failed, 2);
  const staged = value(JWT) as unknown as KeySetSecret;
  t.same(staged.keys.map((k) => k.status), ['current', 'next'], 'left staged: the current key unchanged, the next one accepted');
  t.equal(staged.keys[0]!.kid, before.keys[0]!.kid);
  t.same((value(PUBLIC) as unknown as KeySetSecret).keys.map((k) => k.kid), staged.keys.map((k) => k.kid), 'verifiers know the next key');

  w.restore();
  w = healthyWorld(site.url);
  // The fresh world has no secrets: carry the half-rotated ones over.
  exitCode(t, await run('deploy', ['-i', 'test.yaml', '--yes'], env), 0);
  w.secrets.secrets.get(JWT)!.value = JSON.stringify(staged);
  w.secrets.secrets.get(PUBLIC)!.value = JSON.stringify(value(PUBLIC));
  const again = await run('deploy', ['-i', 'test.yaml', '--yes', '-e', 'rotate=jwt'], env);
  exitCode(t, again, 0);
  t.match(again.text, /left by an earlier run/);
  const done = value(JWT) as unknown as KeySetSecret;
  t.equal(done.keys.find((k) => k.status === 'current')!.kid, staged.keys[1]!.kid, 'the staged key is the one promoted');
  t.equal(done.keys.find((k) => k.status === 'previous')!.kid, staged.keys[0]!.kid);
});
