import t from 'tap';
import { testDatabase } from '../helpers/mysql.js';
import { startTestService } from '../helpers/service.js';
import { client } from '../helpers/http.js';
import { notesService } from '../fixtures/notes-service.js';
import { readFile } from 'node:fs/promises';
import type { Server as HttpServer } from 'node:http';
import { TokenSigner, generateSigningKeys } from '../../services/kit/auth.js';

const db = await testDatabase(t, 'kit');
const svc = await startTestService(t, notesService, db, { MAX_BODY_BYTES: '2048' });
const api = client(svc.url);

t.test('health and readiness', async (t) => {
  t.same((await api.get('/healthz')).body, { status: 'ok' });
  const ready = await api.get('/readyz');
  t.equal(ready.status, 200);
});

t.test('created and read back, with a request id', async (t) => {
  const created = await api.post('/api/notes', { title: 'héllo ✓', stars: 3 }, { headers: { 'x-request-id': 'abc-123' } });
  t.equal(created.status, 201);
  t.equal(created.headers.get('x-request-id'), 'abc-123');
  const read = await api.get(`/api/notes/${created.body.id}`);
  t.same(read.body, { id: created.body.id, title: 'héllo ✓', stars: 3 });
  const forged = await api.get('/healthz', { headers: { 'x-request-id': 'bad id with spaces' } });
  t.not(forged.headers.get('x-request-id'), 'bad id with spaces');
  t.match(forged.headers.get('x-request-id'), /^[0-9a-f-]{36}$/);
});

t.test('errors share the {code, message} shape', async (t) => {
  const cases: Array<[string, Promise<{ status: number; body: { code: string; message: string } }>, number, string]> = [
    ['unknown path', api.get('/api/nope'), 404, 'NOT_FOUND'],
    ['wrong method', api.delete('/api/notes'), 405, 'METHOD_NOT_ALLOWED'],
    ['malformed json', api.post('/api/notes', undefined, { raw: '{"title": "x",' }), 400, 'MALFORMED_JSON'],
    ['not json', api.post('/api/notes', undefined, { raw: 'title=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['too large', api.post('/api/notes', { title: 'x'.repeat(5000), stars: 1 }), 413, 'PAYLOAD_TOO_LARGE'],
    ['wrong type', api.post('/api/notes', { title: 'x', stars: '3' }), 400, 'VALIDATION_FAILED'],
    ['missing field', api.post('/api/notes', { title: 'x' }), 400, 'VALIDATION_FAILED'],
    ['unknown field', api.post('/api/notes', { title: 'x', stars: 1, admin: true }), 400, 'VALIDATION_FAILED'],
    ['control character', api.post('/api/notes', { title: 'a\u0000b', stars: 1 }), 400, 'VALIDATION_FAILED'],
    ['lone surrogate', api.post('/api/notes', undefined, { raw: '{"title":"\\ud800","stars":1}' }), 400, 'VALIDATION_FAILED'],
    ['array body', api.post('/api/notes', [1, 2]), 400, 'VALIDATION_FAILED'],
    ['not found', api.get('/api/notes/999999'), 404, 'NOT_FOUND'],
  ];
  const before = await db.sql.query('SELECT COUNT(*) AS n FROM notes');
  for (const [name, pending, status, code] of cases) {
    const res = await pending;
    t.equal(res.status, status, `${name}: status`);
    t.equal(res.body?.code, code, `${name}: code`);
    t.type(res.body?.message, 'string', `${name}: message`);
  }
  t.same(await db.sql.query('SELECT COUNT(*) AS n FROM notes').then((r) => r[0]), before[0], 'nothing written');
});

t.test('a validation error names the field', async (t) => {
  const res = await api.post('/api/notes', { title: 'x', stars: 9 });
  t.match(res.body.message, /stars/);
});

t.test('an unexpected error is a 500 that leaks nothing', async (t) => {
  const res = await api.get('/api/boom');
  t.equal(res.status, 500);
  t.equal(res.body.code, 'INTERNAL');
  t.notMatch(res.text, /hunter2|secret internal/);
  t.match(res.body.message, /request id/);
});

t.test('tokens: missing, forged, expired, wrong role', async (t) => {
  const keys = JSON.parse(await readFile(db.secretsFile, 'utf8')).jwt as Record<string, unknown>;
  const signer = await TokenSigner.fromSecret(keys, 60);
  const token = await signer.sign({ id: '7', email: 'a@example.com', role: 'customer' });
  t.equal((await api.get('/api/whoami')).status, 401);
  t.same((await api.get('/api/whoami', { token })).body, { id: '7', email: 'a@example.com', role: 'customer' });
  t.equal((await api.get('/api/whoami', { token: token.slice(0, -4) + 'AAAA' })).status, 401, 'tampered signature');
  const expired = await (await TokenSigner.fromSecret(keys, -10)).sign({ id: '7', email: 'a@example.com', role: 'customer' });
  const res = await api.get('/api/whoami', { token: expired });
  t.equal(res.status, 401);
  t.equal(res.body.message, 'token expired');
  t.equal((await api.get('/api/admin-only', { token })).status, 403);
  const other = await TokenSigner.fromSecret(await generateSigningKeys(), 60);
  t.equal((await api.get('/api/whoami', { token: await other.sign({ id: '1', email: 'x@example.com', role: 'admin' }) })).status, 401, 'signed by another key');
});

t.test('graceful close finishes in-flight requests', async (t) => {
  const db2 = await testDatabase(t, 'kitdrain');
  const svc2 = await startTestService(t, notesService, db2);
  const api2 = client(svc2.url);
  const inflight = Array.from({ length: 5 }, () => api2.get('/api/slow?ms=300'));
  // Wait until the server has all five requests before closing.
  await t.resolves(waitFor(() => (svc2.server.server as HttpServer).listenerCount('request') > 0));
  await new Promise((r) => setImmediate(r));
  await waitUntilInflight(svc2, 5);
  const closed = svc2.close();
  const results = await Promise.all(inflight);
  await closed;
  t.same(results.map((r) => r.status), [200, 200, 200, 200, 200]);
  await t.rejects(fetch(`${svc2.url}/healthz`), 'no longer accepting');
});

async function waitFor(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setImmediate(r));
}

async function waitUntilInflight(s: typeof svc, n: number): Promise<void> {
  const http = s.server.server as HttpServer;
  await new Promise<void>((resolve) => {
    http.getConnections((_e, count) => {
      if (count >= n) resolve();
      else setTimeout(() => void waitUntilInflight(s, n).then(resolve), 10);
    });
  });
}
