// The kit's inter-service pieces against real sockets: the HTTP client (keep-alive, deadlines,
// what it repeats and what it never repeats) and the service credential (constant-time check,
// rotation picked up from the secret).
import t from 'tap';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Request } from 'restify';
import { ServiceClient, UpstreamError } from '../../services/kit/service-client.js';
import { ServiceCredential, constantTimeEqual } from '../../services/kit/service-credential.js';
import { SecretSource } from '../../services/kit/secrets.js';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

async function server(t: Tap, handler: Handler): Promise<{ url: string; hits: () => number; sockets: () => number }> {
  let hits = 0;
  let sockets = 0;
  const s = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      hits += 1;
      handler(req, res, body);
    });
  });
  s.on('connection', () => (sockets += 1));
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    s.closeAllConnections();
    return new Promise((r) => s.close(r));
  });
  const a = s.address();
  return { url: `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`, hits: () => hits, sockets: () => sockets };
}
type Tap = { teardown(fn: () => unknown): void };

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

t.test('JSON both ways, extra headers on every call, connections kept alive', async (t) => {
  const srv = await server(t, (req, res, body) => json(res, 200, { method: req.method, token: req.headers['x-service-token'], body: body ? JSON.parse(body) : null }));
  const c = new ServiceClient({ name: 'echo', baseUrl: srv.url, connections: 2, headers: () => ({ 'x-service-token': 's3cret' }) });
  t.teardown(() => c.close());
  const res = await c.post('/x', { body: { a: 1 } });
  t.same(res, { status: 200, body: { method: 'POST', token: 's3cret', body: { a: 1 } } });
  for (let i = 0; i < 20; i++) await c.get('/y');
  t.ok(srv.sockets() <= 2, `20 calls over ${srv.sockets()} connection(s)`);
});

t.test('a POST that reached the server is never repeated; its outcome is unknown', async (t) => {
  const srv = await server(t, () => undefined); // receives, never answers
  const c = new ServiceClient({ name: 'slow', baseUrl: srv.url, timeoutMs: 300, retries: 3 });
  t.teardown(() => c.close());
  const err = await c.post('/reserve', { body: { qty: 1 } }).catch((e: unknown) => e);
  t.type(err, UpstreamError);
  t.equal((err as UpstreamError).outcomeUnknown, true);
  t.equal((err as UpstreamError).statusCode, 503);
  t.equal(srv.hits(), 1, 'sent once');
});

t.test('idempotent calls are repeated after 503 and timeouts', async (t) => {
  let calls = 0;
  const srv = await server(t, (_req, res) => {
    calls += 1;
    if (calls < 3) json(res, 503, { code: 'DRAINING' });
    else json(res, 200, { ok: true });
  });
  const c = new ServiceClient({ name: 'flaky', baseUrl: srv.url, retries: 2 });
  t.teardown(() => c.close());
  t.same(await c.post('/commit', { idempotent: true }), { status: 200, body: { ok: true } });
  t.equal(calls, 3);
  calls = 0;
  t.equal((await c.post('/not-idempotent')).status, 503, 'a POST is answered with the 503 it got, not repeated');
  t.equal(calls, 1);
});

t.test('a refused connection is retried for any call (nothing was sent), then reported', async (t) => {
  const srv = await server(t, (_req, res) => json(res, 200, {}));
  const port = Number(new URL(srv.url).port);
  const dead = new ServiceClient({ name: 'gone', baseUrl: `http://127.0.0.1:${port === 1 ? 2 : 1}`, retries: 1, connectTimeoutMs: 500 });
  t.teardown(() => dead.close());
  const err = await dead.post('/reserve', { body: {} }).catch((e: unknown) => e);
  t.type(err, UpstreamError);
  t.equal((err as UpstreamError).outcomeUnknown, false, 'known not to have happened');
  t.match((err as UpstreamError).toJSON(), { code: 'UPSTREAM_UNAVAILABLE', message: /gone service is unavailable/ });
});

t.test('the service credential: exact match only, and a rotated secret is picked up', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'saleday-cred-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'secrets.json');
  const write = async (token: string) => {
    await writeFile(file, JSON.stringify({ 'service-credential': { token } }), { mode: 0o600 });
    await chmod(file, 0o600);
  };
  await write('first-token-0123456789');
  // (0: re-read the secret on every mismatch, so the test needs no waiting)
  const cred = new ServiceCredential(new SecretSource(`file:${file}#service-credential`), 0);
  const req = (token?: string) => ({ headers: token === undefined ? {} : { 'x-service-token': token } }) as unknown as Request;
  await t.resolves(cred.require(req('first-token-0123456789')));
  for (const bad of [undefined, '', 'first-token-012345678', 'first-token-0123456789 ', 'FIRST-TOKEN-0123456789']) {
    const err = (await cred.require(req(bad)).catch((e: unknown) => e)) as { statusCode?: number } | undefined;
    t.equal(err?.statusCode, 401, `refuses ${JSON.stringify(bad)}`);
  }
  await write('second-token-0123456789');
  await t.resolves(cred.require(req('second-token-0123456789')), 'the rotated token is read from the secret');
  t.same(await cred.headers(), { 'x-service-token': 'second-token-0123456789' });
  await write('short');
  const fresh = new ServiceCredential(new SecretSource(`file:${file}#service-credential`));
  await t.rejects(fresh.token(), /must be \{"token": "<at least 16 characters>"\}/);
  t.ok(constantTimeEqual('abc', 'abc'));
  t.notOk(constantTimeEqual('abc', 'abcd'));
});
