// The gateway (HAProxy, driven by localcloud/gateway.ts) on its own, in front of small upstream
// servers this test controls: routing by prefix, forwarded headers, least outstanding requests,
// health checks in and out of rotation, retries only when safe, draining, JSON errors, hostile
// input refused, and static assets with CloudFront-like caching (the cache of the catalog's
// public reads: gateway-cache.test.ts). Needs `npm run build` (the
// static origin runs from dist/) and Debian's haproxy.
import t from 'tap';
import { Agent, type IncomingMessage } from 'node:http';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { Gateway } from '../../localcloud/gateway.js';
import { send, waitFor } from './fleet-harness.js';
import { gateway, get, healthy, register, upstream, type Upstream } from './gateway-harness.js';

/** A gateway routing /api/s to the given workers, once all of them are in service. */
async function servingGateway(...workers: Upstream[]): Promise<Gateway> {
  const g = await gateway();
  await g.setRoutes({ s: ['/api/s'] });
  for (const u of workers) register(g, 's', u);
  await healthy(g, 's', workers.length);
  return g;
}

t.test('routes by path prefix on segment boundaries, with forwarded headers', async (t) => {
  const users = await upstream('users');
  const catalog = await upstream('catalog');
  const g = await gateway();
  await g.setRoutes({ users: ['/api/users'], catalog: ['/api/catalog'] });
  register(g, 'users', users);
  register(g, 'catalog', catalog);
  await healthy(g, 'users', 1);
  await healthy(g, 'catalog', 1);

  const u = await get(g, '/api/users/login?x=1', { 'x-request-id': 'req-123', 'x-forwarded-for': '203.0.113.7' });
  t.equal(u.json.name, 'users');
  t.equal(u.json.url, '/api/users/login?x=1', 'path and query passed unchanged');
  t.equal(u.json.rid, 'req-123', 'X-Request-Id passed through');
  t.equal(u.headers.get('x-request-id'), 'req-123', 'and returned');
  t.equal(u.json.xff, '203.0.113.7, 127.0.0.1', 'X-Forwarded-For appended');
  t.equal((await get(g, '/api/catalog')).json.name, 'catalog', 'the prefix itself');
  const generated = await get(g, '/api/catalog/products', { 'x-request-id': 'bad id' });
  t.match(generated.json.rid, /^[0-9a-f-]{36}$/, 'an unsafe request id is replaced');
  const notRouted = await get(g, '/api/usersx');
  t.equal(notRouted.status, 404);
  t.same(notRouted.json, { code: 'NOT_FOUND', message: 'nothing is routed at /api/usersx' });
  const posted = await get(g, '/api/users/register', { 'content-type': 'application/json' }, 'POST', '{"a":1}');
  t.equal(posted.json.body, '{"a":1}', 'body forwarded');
  const big = await get(g, '/api/users/register', { 'content-type': 'application/json' }, 'POST', 'x'.repeat(2000));
  t.equal(big.status, 413);
  t.equal(big.json.code, 'PAYLOAD_TOO_LARGE');
});

/** Sends raw bytes on a new connection and resolves with everything the gateway answered before it closed. */
function raw(g: Gateway, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = connect(g.port, '127.0.0.1');
    let text = '';
    c.on('data', (d: Buffer) => (text += d.toString()));
    c.once('error', reject);
    c.once('close', () => resolve(text));
    c.write(bytes);
  });
}

/** A refusal: 400 (or `status`), then the connection closed. */
function refused(t: { match(found: string, wanted: RegExp, message: string): unknown }, text: string, name: string, status = 400): void {
  t.match(text, new RegExp(`^HTTP/1\\.1 ${status} `), `${name}: ${status}`);
  t.match(text, /\r\nconnection: close\r\n/i, `${name}: connection closed`);
}

t.test('refuses duplicate Host headers and request lines that are not HTTP/1.x with 400, then closes', async (t) => {
  const u = await upstream('a');
  const g = await servingGateway(u);
  // HAProxy refuses some of these in its parser, with its own 400 page; the others are refused by
  // the gateway's rules, with JSON {code: BAD_REQUEST}.
  const cases: Array<[string, string, 'json' | 'haproxy']> = [
    ['two Host headers', 'GET /api/s/x HTTP/1.1\r\nHost: shop.example\r\nHost: evil.example\r\n\r\n', 'haproxy'],
    ['two Host headers, different case', 'GET /api/s/x HTTP/1.1\r\nHost: a\r\nhOsT: b\r\n\r\n', 'haproxy'],
    ['HTTP/2.0 request line', 'GET /api/s/x HTTP/2.0\r\nHost: a\r\n\r\n', 'json'],
    ['HTTP/0.9 request line', 'GET /api/s/x HTTP/0.9\r\nHost: a\r\n\r\n', 'json'],
    ['HTTP/0.9 simple request', 'GET /api/s/x\r\n\r\n', 'haproxy'],
  ];
  for (const [name, bytes, by] of cases) {
    const text = await raw(g, bytes); // resolves on close: the gateway closed the connection
    refused(t, text, name);
    if (by === 'json') {
      const body = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as { code: string; message: string };
      t.equal(body.code, 'BAD_REQUEST', name);
      t.match(body.message, /not valid HTTP\/1\.x/, name);
    }
  }
  t.equal(u.hits.length, 0, 'none of them reached a worker');
  const ok = await raw(g, 'GET /api/s/x HTTP/1.1\r\nHost: shop.example\r\nConnection: close\r\n\r\n');
  t.match(ok, /^HTTP\/1\.1 200 OK\r\n/, 'one Host header on HTTP/1.1 is forwarded');
  const old = await raw(g, 'GET /api/s/x HTTP/1.0\r\n\r\n');
  t.match(old, /^HTTP\/1\.1 200 OK\r\n/, 'HTTP/1.0 without Host is still forwarded');
  t.equal(u.hits.length, 2);
});

t.test('request smuggling, oversized headers and path traversal are refused or neutralised', async (t) => {
  const u = await upstream('a');
  const g = await servingGateway(u);
  refused(t, await raw(g, 'POST /api/s/echo HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde'), 'two different Content-Length headers');
  refused(t, await raw(g, `GET /api/s/x HTTP/1.1\r\nHost: a\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`), 'a 20 kB header');
  refused(t, await raw(g, `GET /api/s/${'a'.repeat(20_000)} HTTP/1.1\r\nHost: a\r\n\r\n`), 'a 20 kB request line');
  t.equal(u.hits.length, 0, 'none of them reached a worker');

  // Content-Length with Transfer-Encoding (CL.TE / TE.CL smuggling): HAProxy drops the
  // Content-Length, reads the chunked body, and closes the connection after answering, so what
  // follows on the connection is never taken for a second request.
  const smuggled = 'GET /api/s/smuggled HTTP/1.1\r\nHost: a\r\n\r\n';
  const clte = await raw(g, `POST /api/s/echo HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`);
  t.match(clte, /\r\nconnection: close\r\n/i, 'CL+TE: the connection is closed after the answer');
  t.notOk(u.hits.some((h) => h.url === '/api/s/smuggled'), 'CL+TE: nothing smuggled reached a worker');
  t.notOk(u.hits.some((h) => h.headers['content-length'] !== undefined && h.headers['transfer-encoding'] !== undefined), 'never both headers upstream');
  const tecl = await raw(g, `POST /api/s/echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 40\r\n\r\n0\r\n\r\n${smuggled}`);
  t.match(tecl, /\r\nconnection: close\r\n/i, 'TE+CL: the connection is closed after the answer');
  t.notOk(u.hits.some((h) => h.url === '/api/s/smuggled'), 'TE+CL: nothing smuggled reached a worker');
  const obfuscated = await raw(g, `POST /api/s/echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n`);
  refused(t, obfuscated, 'an unknown Transfer-Encoding', 400);

  const traversal = await raw(g, 'GET /api/s/../../etc/passwd HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
  t.notMatch(traversal, /root:/, 'no file of the machine is served through a worker route');
});

t.test('a slow client (slowloris) is cut off with 408 when its headers do not arrive in time', async (t) => {
  const u = await upstream('a');
  const g = await gateway({ requestTimeoutMs: 500 });
  await g.setRoutes({ s: ['/api/s'] });
  register(g, 's', u);
  await healthy(g, 's', 1);
  const started = Date.now();
  const text = await new Promise<string>((resolve, reject) => {
    const c = connect(g.port, '127.0.0.1');
    let got = '';
    c.on('data', (d: Buffer) => (got += d.toString()));
    c.once('error', reject);
    c.once('close', () => resolve(got));
    // One header line, then a byte now and then: never the end of the headers.
    c.write('GET /api/s/x HTTP/1.1\r\nHost: a\r\n');
    const drip = setInterval(() => c.writable && c.write('X'), 100);
    c.once('close', () => clearInterval(drip));
  });
  t.match(text, /^HTTP\/1\.1 408 /, 'answered 408');
  t.ok(Date.now() - started < 5000, 'cut off after the request timeout, not left open');
  t.equal(u.hits.length, 0, 'nothing reached the worker');
});

t.test('a connection that never sends a byte is closed without an answer (pre-opened connections of browsers and load generators)', async (t) => {
  const g = await gateway({ requestTimeoutMs: 500 });
  const text = await new Promise<string>((resolve, reject) => {
    const c = connect(g.port, '127.0.0.1');
    let got = '';
    c.on('data', (d: Buffer) => (got += d.toString()));
    c.once('error', reject);
    c.once('close', () => resolve(got));
  });
  t.equal(text, '', 'closed with nothing written: an unasked 408 would break a client parser waiting for its first request');
});

t.test('503 as JSON when no worker is in service', async (t) => {
  const g = await gateway();
  await g.setRoutes({ orders: ['/api/orders'] });
  const res = await get(g, '/api/orders');
  t.equal(res.status, 503);
  t.same(res.json, { code: 'SERVICE_UNAVAILABLE', message: 'no healthy orders worker is in service; try again shortly' });
  t.equal(res.headers.get('content-type'), 'application/json');
});

t.test('least outstanding requests, round-robin on ties', async (t) => {
  let release: () => void = () => undefined;
  const held = new Promise<void>((r) => (release = r));
  const a = await upstream('a', { hold: (_req, res) => void held.then(() => res.writeHead(200).end('{"name":"a"}')) });
  const b = await upstream('b', { hold: (_req, res) => void held.then(() => res.writeHead(200).end('{"name":"b"}')) });
  const g = await servingGateway(a, b);
  const names = [];
  for (let i = 0; i < 4; i++) names.push((await get(g, '/api/s/x')).json.name);
  // HAProxy's leastconn goes round-robin within a tie, but a health check landing between two
  // requests breaks the strict a/b/a/b order: what must hold is that both workers get requests.
  t.ok(names.includes('a') && names.includes('b'), `ties are spread over both workers (${names.join(',')})`);
  const first = get(g, '/api/s/hold');
  await waitFor('one request held', async () => (await g.targetsOf('s')).some((x) => x.outstanding === 1));
  const busy = (await g.targetsOf('s')).find((x) => x.outstanding === 1)!.id;
  for (let i = 0; i < 3; i++) t.not(`s-${(await get(g, '/api/s/x')).json.name}`, busy, 'the idle worker gets the next request');
  release();
  t.equal((await first).status, 200);
});

t.test('health checks take a worker out of rotation and bring it back', async (t) => {
  const a = await upstream('a');
  const b = await upstream('b');
  const changes: boolean[] = [];
  const g = await gateway();
  await g.setRoutes({ s: ['/api/s'] });
  g.addTarget({ id: 's-a', service: 's', host: '127.0.0.1', port: a.port, onHealth: (h) => changes.push(h) });
  register(g, 's', b);
  await healthy(g, 's', 2);
  a.ready = false;
  await waitFor('a out of rotation', async () => !(await g.targetsOf('s')).find((x) => x.id === 's-a')!.healthy);
  const before = a.hits.length;
  for (let i = 0; i < 6; i++) t.equal((await get(g, '/api/s/x')).json.name, 'b');
  t.equal(a.hits.length, before, 'no traffic to the unhealthy worker');
  a.ready = true;
  await healthy(g, 's', 2);
  t.same(changes, [true, false, true]);
});

t.test('fails open like an ALB when every worker that served fails its checks', async (t) => {
  const a = await upstream('a');
  const b = await upstream('b');
  const g = await servingGateway(a, b);
  a.ready = false;
  b.ready = false;
  await waitFor('both out of rotation', async () => (await g.targetsOf('s')).every((x) => !x.healthy));
  const names = new Set<string>();
  for (let i = 0; i < 6; i++) {
    const res = await get(g, '/api/s/x');
    t.equal(res.status, 200, 'a busy group still serves');
    names.add(res.json.name as string);
  }
  t.same([...names].sort(), ['a', 'b'], 'spread over the workers that served before');
  await b.close();
  const afterClose = await get(g, '/api/s/x', {}, 'POST', '{}');
  t.equal(afterClose.status, 200, 'a refused connection goes to the other worker');
  t.equal(afterClose.json.name, 'a');
  for (let i = 0; i < 4; i++) t.equal((await get(g, '/api/s/x')).json.name, 'a', 'the closed worker is no longer a candidate');
});

t.test('retries only when safe', async (t) => {
  // "flaky" drops the connection after reading the request: it may have acted on it.
  const drop = (req: IncomingMessage) => req.socket.destroy();
  const a = await upstream('a', { flaky: drop });
  const b = await upstream('b', { flaky: (_req, res) => res.writeHead(200).end('{"name":"b"}') });
  const g = await servingGateway(a, b);

  const gets = await Promise.all(Array.from({ length: 6 }, () => get(g, '/api/s/flaky')));
  t.same(gets.map((r) => r.status), [200, 200, 200, 200, 200, 200], `GET dropped by a worker is retried on the other (${JSON.stringify(gets.map((r): unknown[] => [r.status, r.json as unknown]))})`);
  t.ok(a.hits.filter((h) => h.method === 'GET').length > 0, 'some GETs did reach the dropping worker');

  // Each POST on a connection of its own: HAProxy answers 502 when a worker drops the first request
  // of a client connection; on a later request of a kept-alive connection it closes the client's
  // connection instead (what a browser retries as a keep-alive race). Never resent either way.
  const fresh = new Agent({ keepAlive: false });
  const posts = [];
  for (let i = 0; i < 6; i++) posts.push(await send(g.url, 'POST', '/api/s/flaky', '{}', fresh));
  const aPosts = a.hits.filter((h) => h.method === 'POST').length;
  t.ok(aPosts > 0, 'some POSTs reached the dropping worker');
  t.equal(posts.filter((r) => r.status === 502).length, aPosts, 'each POST the worker dropped is a 502, never resent');
  t.ok(posts.filter((r) => r.status === 502).every((r) => r.code === 'BAD_GATEWAY'));
  t.equal(b.hits.filter((h) => h.method === 'POST').length, 6 - aPosts, 'and not sent again to the other worker');

  // Connection refused: nothing reached the worker, so even a POST goes elsewhere.
  await a.close();
  const refused = [];
  for (let i = 0; i < 4; i++) refused.push(await get(g, '/api/s/x', { 'content-type': 'application/json' }, 'POST', '{}'));
  t.same(refused.map((r) => r.json.name as string), ['b', 'b', 'b', 'b'], 'POST retried after connection refused');
  await waitFor('the refusing worker out of rotation', async () => !(await g.targetsOf('s')).find((x) => x.id === 's-a')!.healthy);
});

t.test('504 as JSON when a worker does not answer in time', async (t) => {
  const a = await upstream('a', { hang: () => undefined });
  const g = await gateway({ upstreamTimeoutMs: 300 });
  await g.setRoutes({ s: ['/api/s'] });
  register(g, 's', a);
  await healthy(g, 's', 1);
  const res = await get(g, '/api/s/hang');
  t.equal(res.status, 504);
  t.same(res.json, { code: 'GATEWAY_TIMEOUT', message: 'the s service did not answer within 300 ms' });
  t.same((await g.targetsOf('s'))[0]!.outstanding, 0, 'nothing left counted in flight');
});

t.test('draining: no new requests, in-flight ones finish first', async (t) => {
  let release: () => void = () => undefined;
  const held = new Promise<void>((r) => (release = r));
  const a = await upstream('a', { hold: (_req, res) => void held.then(() => res.writeHead(200).end('{"name":"a"}')) });
  const b = await upstream('b');
  const g = await servingGateway(a, b);
  const inflight = (async () => {
    // Whichever worker the first hold lands on, hold one on "a".
    for (;;) {
      const r = await send(g.url, 'GET', '/api/s/hold');
      if (a.hits.some((h) => h.url === '/api/s/hold')) return r;
    }
  })();
  await waitFor('a request in flight on a', async () => (await g.targetsOf('s')).find((x) => x.id === 's-a')!.outstanding === 1);
  let drained = false;
  const draining = g.drainTarget('s-a', 10_000).then((r) => {
    drained = true;
    return r;
  });
  const during = [];
  for (let i = 0; i < 4; i++) during.push((await get(g, '/api/s/x')).json.name);
  t.same(during, ['b', 'b', 'b', 'b'], 'new requests avoid the draining worker');
  t.equal(drained, false, 'drain waits for the in-flight request');
  release();
  t.equal((await inflight).status, 200, 'the in-flight request finished');
  t.same(await draining, { inflightLeft: 0 });
});

t.test('static assets with CloudFront-like cache headers', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sd-static-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'assets'));
  await writeFile(join(dir, 'index.html'), '<!doctype html><title>saleday</title>');
  await writeFile(join(dir, 'assets', 'app.3f9a1c2b.js'), 'console.log(1)');
  await writeFile(join(dir, 'assets', 'logo.svg'), '<svg/>');
  await writeFile(join(dir, '.env'), 'SECRET=1');
  const g = await gateway({ staticDir: dir });
  await g.setRoutes({ users: ['/api/users'] });

  const hashed = await get(g, '/assets/app.3f9a1c2b.js');
  t.equal(hashed.status, 200);
  t.equal(hashed.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  t.match(hashed.headers.get('content-type'), /javascript/);
  const etag = hashed.headers.get('etag');
  t.ok(etag, 'has an ETag');
  // (fetch would add Cache-Control: no-cache to a conditional request; a browser or CDN does not)
  const again = await send(g.url, 'GET', '/assets/app.3f9a1c2b.js', undefined, undefined, { 'if-none-match': etag! });
  t.equal(again.status, 304, 'revalidation answers 304');

  const index = await get(g, '/');
  t.equal(index.status, 200);
  t.match(index.text, /saleday/);
  t.equal(index.headers.get('cache-control'), 'public, max-age=0, must-revalidate', 'HTML revalidates');
  t.equal((await get(g, '/assets/logo.svg')).headers.get('cache-control'), 'public, max-age=300', 'other names: short');

  const missing = await get(g, '/assets/nope.js');
  t.equal(missing.status, 404);
  t.same(missing.json, { code: 'NOT_FOUND', message: 'no asset at /assets/nope.js' });
  t.equal((await get(g, '/.env')).status, 404, 'dotfiles are not served');
  t.equal((await get(g, '/%2e%2e/%2e%2e/etc/passwd')).status, 404, 'no way out of the folder');
  const posted = await get(g, '/index.html', { 'content-type': 'application/json' }, 'POST', '{}');
  t.equal(posted.status, 405);
  t.equal(posted.json.code, 'METHOD_NOT_ALLOWED');
  t.equal((await get(g, '/api/unknown')).status, 404, 'unrouted /api paths are not looked up as files');
});
