// Rotation in the kit: the JWT key set (ids, stages, the old shape read as a set of one), the
// verifier's one coalesced re-read for a kid it does not know, the previous key's grace, and the
// service credential set (the callee's accepted set, the caller's re-read and one repeat on 401
// against a real socket). Secrets live in a real 0600 file, read through SecretSource.
import t from 'tap';
import { createServer } from 'node:http';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Request } from 'restify';
import { TokenSigner, TokenVerifier } from '../../services/kit/auth.js';
import { dropExpiredKeys, keyId, newKeySetSecret, promoteNextKey, publicKeySet, readKeySet, stageNextKey } from '../../services/kit/key-set.js';
import { SecretSource } from '../../services/kit/secrets.js';
import { ServiceClient } from '../../services/kit/service-client.js';
import {
  ServiceCredential, dropExpiredCredential, promoteNextCredential, stageNextCredential,
} from '../../services/kit/service-credential.js';

const dir = await mkdtemp(join(tmpdir(), 'saleday-rotation-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const file = join(dir, 'secrets.json');
const write = async (doc: Record<string, unknown>) => {
  await writeFile(file, JSON.stringify(doc), { mode: 0o600 });
  await chmod(file, 0o600);
};
const read = async () => JSON.parse(await readFile(file, 'utf8')) as Record<string, Record<string, unknown>>;
const principal = { id: '7', email: 'a@example.com', role: 'customer' as const };
const statusOf = (p: Promise<unknown>) => p.then(() => 200, (e: { statusCode?: number }) => e.statusCode);
const soon = (s: number) => new Date(Date.now() + s * 1000);

t.test('the key set: ids, the old shape, the stages', async (t) => {
  const first = await newKeySetSecret();
  t.equal(first.keys.length, 1);
  t.equal(first.keys[0]!.kid, await keyId(first.publicKey), 'the kid is the public key thumbprint');
  t.equal(first.privateKey, first.keys[0]!.privateKey, 'the current key also at the top level, for old readers');

  const legacy = { privateKey: first.privateKey!, publicKey: first.publicKey };
  const asSet = await readKeySet(legacy);
  t.same(asSet.map((k) => [k.kid, k.status]), [[first.keys[0]!.kid, 'current']], 'the old shape is one current key with the same kid');

  const staged = await stageNextKey(legacy);
  t.ok(staged.staged);
  t.same(staged.secret.keys.map((k) => k.status), ['current', 'next']);
  t.equal(staged.secret.publicKey, first.publicKey, 'staging changes nothing for old readers');
  t.notOk((await stageNextKey(staged.secret)).staged, 'a staged key is kept, not replaced');

  const until = soon(60);
  const promoted = await promoteNextKey(staged.secret, until);
  t.ok(promoted.promoted);
  t.same(promoted.secret.keys.map((k) => k.status), ['previous', 'current']);
  t.equal(promoted.secret.keys[0]!.expiresAt, until.toISOString());
  t.equal(promoted.secret.publicKey, staged.secret.keys[1]!.publicKey, 'the top level follows the current key');
  t.notOk((await promoteNextKey(promoted.secret, until)).promoted, 'nothing to promote');

  t.equal((await dropExpiredKeys(promoted.secret, new Date())).dropped, 0, 'the previous key is kept within its grace');
  const dropped = await dropExpiredKeys(promoted.secret, new Date(until.getTime() + 1));
  t.same(dropped.secret.keys.map((k) => k.status), ['current']);

  const pub = await publicKeySet(promoted.secret);
  t.notMatch(JSON.stringify(pub), /PRIVATE/, 'jwt-public holds no private key');
  t.equal(pub.keys.length, 2);
  await t.rejects(readKeySet({ keys: [] }), /exactly one current key/);
});

t.test('verifiers: next and previous accepted, an unknown kid re-read once, a retired key refused', async (t) => {
  const jwt = await newKeySetSecret();
  await write({ jwt, 'jwt-public': await publicKeySet(jwt) });
  const source = new SecretSource<Record<string, unknown>>(`file:${file}#jwt-public`);
  let reads = 0;
  const refresh = source.refresh.bind(source);
  source.refresh = () => {
    reads += 1;
    return refresh();
  };
  const verifier = await TokenVerifier.fromSource(source, { refetchIntervalMs: 60_000 });
  const signerSource = new SecretSource<Record<string, unknown>>(`file:${file}#jwt`);
  const signer = await TokenSigner.fromSource(signerSource, 600);
  const oldToken = await signer.sign(principal);
  t.same(await verifier.verify(oldToken), principal);

  // The signer moves to a key the verifier has never seen (no stage 1): one re-read, shared by concurrent tokens.
  const staged = (await stageNextKey((await read()).jwt!)).secret;
  const promoted = (await promoteNextKey(staged, soon(60))).secret;
  await write({ jwt: promoted, 'jwt-public': await publicKeySet(promoted) });
  const newToken = await (await TokenSigner.fromSecret(promoted, 600)).sign(principal);
  const results = await Promise.all(Array.from({ length: 20 }, () => verifier.verify(newToken)));
  t.equal(results.length, 20, 'every token with the new kid verified');
  t.equal(reads, 1, 'one re-read for 20 concurrent tokens with an unknown kid');
  t.same(await verifier.verify(oldToken), principal, 'the previous key verifies within its grace');

  // A forged kid within the interval: no re-read (a flood of made-up kids cannot hammer the secret), 401.
  const other = await newKeySetSecret();
  const forged = await (await TokenSigner.fromSecret(other, 600)).sign(principal);
  t.equal(await statusOf(verifier.verify(forged)), 401);
  t.equal(await statusOf(verifier.verify(forged)), 401);
  t.equal(reads, 1, 'no re-read within the interval');
  const eager = await TokenVerifier.fromSource(source, { refetchIntervalMs: 0 });
  t.equal(await statusOf(eager.verify(forged)), 401);
  t.equal(reads, 2, 'past the interval, one re-read before the 401');

  // The previous key's grace ends: its tokens are refused though they have not expired.
  const retired = (await promoteNextKey((await stageNextKey(promoted)).secret, new Date(Date.now() - 1))).secret;
  const again = await TokenVerifier.fromSecret(await publicKeySet(retired));
  t.equal(await statusOf(again.verify(newToken)), 401, 'a token of a key past its grace is refused');

  // A token without a kid (signed before key ids) verifies with the current key.
  const { SignJWT, importPKCS8 } = await import('jose');
  const kidless = await new SignJWT({ email: principal.email, role: principal.role }).setProtectedHeader({ alg: 'ES256' }).setSubject('7').setIssuer('saleday-users').setAudience('saleday').setExpirationTime('5m').sign(await importPKCS8(promoted.privateKey!, 'ES256'));
  t.same(await verifier.verify(kidless), principal, 'a kid-less token of the current key');

  // The signer follows the source: it signs with the current key of the file.
  await signerSource.refresh();
  t.equal(await signer.currentKid(), promoted.keys.find((k) => k.status === 'current')!.kid, 'the signer follows the promoted key');
});

t.test('a verifier remembers a verified token only while jose would verify it again', async (t) => {
  const jwt = await newKeySetSecret();
  await write({ jwt, 'jwt-public': await publicKeySet(jwt) });
  const source = new SecretSource<Record<string, unknown>>(`file:${file}#jwt-public`);
  const verifier = await TokenVerifier.fromSource(source, { refetchIntervalMs: 60_000 });
  const token = await (await TokenSigner.fromSecret(jwt, 600)).sign(principal);
  const first = await verifier.verify(token);
  t.same(first, principal);
  first.role = 'admin';
  t.same(await verifier.verify(token), principal, 'answered again, and a caller changing its answer changes nothing');

  // Its key retired (rotated twice, the previous key's grace over): the remembered token is refused.
  const once = (await promoteNextKey((await stageNextKey(jwt)).secret, soon(60))).secret;
  const twice = (await promoteNextKey((await stageNextKey(once)).secret, new Date(Date.now() - 1))).secret;
  await write({ jwt: twice, 'jwt-public': await publicKeySet(twice) });
  await source.refresh();
  t.equal(await statusOf(verifier.verify(token)), 401, 'a remembered token of a retired key is refused');

  // Expired: a remembered token is refused from its exp on, as jose refuses it.
  const brief = await (await TokenSigner.fromSecret(twice, 1)).sign(principal);
  t.same(await verifier.verify(brief), principal);
  const exp = (JSON.parse(Buffer.from(brief.split('.')[1]!, 'base64url').toString()) as { exp: number }).exp * 1000;
  while (Date.now() < exp) await new Promise((r) => setTimeout(r, Math.max(1, exp - Date.now())));
  t.equal(await statusOf(verifier.verify(brief)), 401, 'a remembered token is refused once it has expired');
});

t.test('the service credential: stages, accepted set, previous grace', async (t) => {
  const first = { token: 'a'.repeat(32) };
  const staged = stageNextCredential(first);
  t.ok(staged.staged);
  t.equal(staged.secret.token, first.token, 'callers keep sending the current token');
  const promoted = promoteNextCredential(staged.secret, soon(60));
  t.equal(promoted.secret.token, staged.secret.next);
  t.equal(promoted.secret.previous, first.token);
  t.equal(dropExpiredCredential(promoted.secret, new Date()).dropped, 0);
  t.same(Object.keys(dropExpiredCredential(promoted.secret, soon(120)).secret), ['token']);

  await write({ cred: staged.secret });
  const callee = new ServiceCredential(new SecretSource(`file:${file}#cred`));
  const req = (token: string) => ({ headers: { 'x-service-token': token } }) as unknown as Request;
  await callee.require(req(first.token));
  await callee.require(req(staged.secret.next!));
  await write({ cred: promoteNextCredential(staged.secret, new Date(Date.now() - 1)).secret });
  const fresh = new ServiceCredential(new SecretSource(`file:${file}#cred`));
  await fresh.require(req(staged.secret.next!));
  t.equal(await statusOf(fresh.require(req(first.token))), 401, 'the previous token past its grace is refused');
});

t.test('a caller refused with an old credential re-reads it once and repeats the call once', async (t) => {
  let accepted = 'old-'.padEnd(32, 'x');
  const seen: string[] = [];
  const srv = createServer((req, res) => {
    const token = String(req.headers['x-service-token']);
    seen.push(token);
    res.writeHead(token === accepted ? 201 : 401, { 'content-type': 'application/json' });
    res.end(JSON.stringify(token === accepted ? { ok: true } : { code: 'UNAUTHORIZED', message: 'no' }));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise((r) => srv.close(r)));
  const port = (srv.address() as { port: number }).port;

  await write({ cred: { token: accepted } });
  const credential = new ServiceCredential(new SecretSource(`file:${file}#cred`));
  const client = new ServiceClient({ name: 'callee', baseUrl: `http://127.0.0.1:${port}`, headers: () => credential.headers(), onUnauthorized: (sent) => credential.refreshAfterRefusal(sent) });
  t.teardown(() => client.close());
  t.equal((await client.post('/reserve', { body: {} })).status, 201);

  // The callee moved on; this caller has not re-read the secret yet.
  const next = 'new-'.padEnd(32, 'y');
  await write({ cred: { token: next, previous: accepted, previousExpiresAt: soon(60).toISOString() } });
  accepted = next;
  seen.length = 0;
  const results = await Promise.all(Array.from({ length: 5 }, () => client.post('/reserve', { body: {} })));
  t.same(results.map((r) => r.status), [201, 201, 201, 201, 201], 'a POST refused with the old credential succeeds on its one repeat');
  t.equal(seen.filter((s) => s === next).length, 5, 'each repeated with the new credential');

  // A credential the callee never accepts: one repeat, then the 401 is the answer.
  accepted = 'never';
  seen.length = 0;
  t.equal((await client.post('/reserve', { body: {} })).status, 401);
  t.ok(seen.length <= 2, `at most one repeat (${seen.length} attempts)`);
});
