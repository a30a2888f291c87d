// Sessions against real MariaDB: short-lived access tokens, refresh tokens that rotate on use and
// are kept hashed, reuse of a spent one ending its family, logout, a password change ending every
// session, a deleted user refused at refresh, bad input, failed refreshes throttled. No REDIS_URL
// here: /readyz says the limits are per instance.
import { createHash } from 'node:crypto';
import t from 'tap';
import { decodeJwt } from 'jose';
import { usersService } from '../../services/users/service.js';
import { testDatabase } from '../helpers/mysql.js';
import { startTestService } from '../helpers/service.js';
import { client } from '../helpers/http.js';

const db = await testDatabase(t, 'userssess');
const svc = await startTestService(t, usersService, db, { SCRYPT_LOG_N: '14', TOKEN_TTL_SECONDS: '120', REFRESH_MAX_FAILURES_PER_CLIENT: '1000', TRUSTED_PROXY_HOPS: '1' });
const api = client(svc.url);
const PASSWORD = 'plum-harbour-velvet-42';
const NEW_PASSWORD = 'quartz-meadow-lantern-77';

async function newUser(email: string): Promise<{ token: string; refreshToken: string; id: string }> {
  const reg = await api.post('/api/users/register', { email, password: PASSWORD, name: 'Sam' });
  if (reg.status !== 201) throw new Error(`register ${email}: ${reg.status} ${reg.text}`);
  const res = await api.post('/api/users/login', { email, password: PASSWORD });
  return { token: res.body.token, refreshToken: res.body.refreshToken, id: reg.body.id };
}
const refresh = (refreshToken: unknown, headers: Record<string, string> = {}) => api.post('/api/users/refresh', { refreshToken }, { headers });

t.test('readyz says the limits are per instance without REDIS_URL', async (t) => {
  const res = await api.get('/readyz');
  t.equal(res.status, 200);
  t.match(res.body, { status: 'ready', throttle: { store: 'none', shared: false, message: /REDIS_URL is not set/ } });
});

t.test('refresh: a new access token and a new refresh token; the used one is spent', async (t) => {
  const s = await newUser('rot@example.com');
  t.equal(decodeJwt(s.token).exp! - decodeJwt(s.token).iat!, 120, 'TOKEN_TTL_SECONDS');
  const res = await refresh(s.refreshToken);
  t.equal(res.status, 200);
  t.same(Object.keys(res.body).sort(), ['expiresIn', 'refreshToken', 'token']);
  t.equal(res.body.expiresIn, 120);
  t.equal(res.headers.get('cache-control'), 'no-store');
  t.not(res.body.refreshToken, s.refreshToken);
  t.equal(decodeJwt(res.body.token).sub, s.id);
  t.equal((await api.get('/api/users/me', { token: res.body.token })).status, 200);
  // Stored hashed only.
  const [rows] = (await db.sql.query('SELECT token_hash AS h FROM refresh_tokens WHERE user_id = ?', [s.id])) as unknown as [Array<{ h: string }>];
  t.equal(rows.length, 2);
  const hashes = rows.map((r) => r.h);
  t.ok(hashes.includes(createHash('sha256').update(s.refreshToken).digest('hex')));
  t.notOk(hashes.includes(s.refreshToken));
  // The next one works in turn.
  const again = await refresh(res.body.refreshToken);
  t.equal(again.status, 200);
});

t.test('reuse of a spent refresh token ends its whole family (401), other sessions stay', async (t) => {
  const s = await newUser('reuse@example.com');
  const other = (await api.post('/api/users/login', { email: 'reuse@example.com', password: PASSWORD })).body.refreshToken as string;
  const next = (await refresh(s.refreshToken)).body.refreshToken as string;
  const replay = await refresh(s.refreshToken);
  t.equal(replay.status, 401);
  t.equal(replay.body.code, 'UNAUTHORIZED');
  t.match(replay.body.message, /already used/);
  t.equal((await refresh(next)).status, 401, 'the thief\'s (or owner\'s) newer token of that family is revoked too');
  t.equal((await refresh(other)).status, 200, 'another login of the same user is another family');
});

t.test('two concurrent refreshes with one token: one succeeds, the family ends', async (t) => {
  const s = await newUser('race@example.com');
  const [a, b] = await Promise.all([refresh(s.refreshToken), refresh(s.refreshToken)]);
  t.same([a.status, b.status].sort(), [200, 401]);
  const winner = a.status === 200 ? a : b;
  t.equal((await refresh(winner.body.refreshToken)).status, 401);
});

t.test('logout: 204, and the token (and its family) no longer refreshes', async (t) => {
  const s = await newUser('bye@example.com');
  const next = (await refresh(s.refreshToken)).body.refreshToken as string;
  const res = await api.post('/api/users/logout', { refreshToken: next });
  t.equal(res.status, 204);
  t.equal(res.text, '');
  t.equal((await refresh(next)).status, 401);
  t.equal((await api.post('/api/users/logout', { refreshToken: next })).status, 204, 'again: nothing to do');
  t.equal((await api.post('/api/users/logout', { refreshToken: 'A'.repeat(43) })).status, 204, 'unknown: nothing said');
});

t.test('password change: 204, every refresh token of the user ends, the new password logs in', async (t) => {
  const s = await newUser('pw@example.com');
  const second = (await api.post('/api/users/login', { email: 'pw@example.com', password: PASSWORD })).body.refreshToken as string;
  const wrong = await api.post('/api/users/me/password', { currentPassword: 'not-it-at-all-99', newPassword: NEW_PASSWORD }, { token: s.token });
  t.equal(wrong.status, 403);
  t.equal(wrong.body.code, 'WRONG_PASSWORD');
  const weak = await api.post('/api/users/me/password', { currentPassword: PASSWORD, newPassword: 'password1234' }, { token: s.token });
  t.equal(weak.status, 400);
  t.equal(weak.body.code, 'WEAK_PASSWORD');
  t.equal((await api.post('/api/users/me/password', { currentPassword: PASSWORD, newPassword: NEW_PASSWORD })).status, 401, 'needs a token');
  const res = await api.post('/api/users/me/password', { currentPassword: PASSWORD, newPassword: NEW_PASSWORD }, { token: s.token });
  t.equal(res.status, 204);
  t.equal((await refresh(s.refreshToken)).status, 401);
  t.equal((await refresh(second)).status, 401);
  t.equal((await api.post('/api/users/login', { email: 'pw@example.com', password: PASSWORD })).status, 401);
  t.equal((await api.post('/api/users/login', { email: 'pw@example.com', password: NEW_PASSWORD })).status, 200);
});

t.test('a deleted user is refused at refresh: 401 ACCOUNT_GONE', async (t) => {
  const s = await newUser('gone@example.com');
  await db.sql.query('DELETE FROM users WHERE id = ?', [s.id]);
  const res = await refresh(s.refreshToken);
  t.equal(res.status, 401);
  t.equal(res.body.code, 'ACCOUNT_GONE');
  t.equal((await api.get('/api/users/me', { token: s.token })).status, 401);
});

t.test('bad input: 400 {code, message} naming the field, nothing changes', async (t) => {
  const [[before]] = (await db.sql.query('SELECT COUNT(*) AS n, COUNT(used_at) AS used, COUNT(revoked_at) AS revoked FROM refresh_tokens')) as unknown as [[object]];
  const cases: Array<[string, string, unknown]> = [
    ['refresh: nothing', '/api/users/refresh', {}],
    ['refresh: a number', '/api/users/refresh', { refreshToken: 42 }],
    ['refresh: too short', '/api/users/refresh', { refreshToken: 'abc' }],
    ['refresh: bad characters', '/api/users/refresh', { refreshToken: `${'A'.repeat(40)}!$%` }],
    ['refresh: extra field', '/api/users/refresh', { refreshToken: 'A'.repeat(43), userId: '1' }],
    ['logout: nothing', '/api/users/logout', {}],
    ['logout: too long', '/api/users/logout', { refreshToken: 'A'.repeat(500) }],
  ];
  for (const [name, path, body] of cases) {
    const res = await api.post(path, body);
    t.equal(res.status, 400, name);
    t.equal(res.body.code, 'VALIDATION_FAILED', name);
    t.type(res.body.message, 'string', name);
    t.equal(res.body.field, body && typeof body === 'object' && 'userId' in body ? 'userId' : 'refreshToken', name);
  }
  const s = await newUser('input@example.com');
  const res = await api.post('/api/users/me/password', { currentPassword: PASSWORD }, { token: s.token });
  t.equal(res.status, 400);
  t.equal(res.body.field, 'newPassword');
  const [[after]] = (await db.sql.query('SELECT COUNT(*) - 1 AS n, COUNT(used_at) AS used, COUNT(revoked_at) AS revoked FROM refresh_tokens')) as unknown as [[object]];
  t.same(after, before, 'only the new login\'s token was added');
});

t.test('failed refreshes are throttled per client', async (t) => {
  const db2 = await testDatabase(t, 'userssess2');
  const svc2 = await startTestService(t, usersService, db2, { SCRYPT_LOG_N: '14', REFRESH_MAX_FAILURES_PER_CLIENT: '3', TRUSTED_PROXY_HOPS: '1' });
  const api2 = client(svc2.url);
  await api2.post('/api/users/register', { email: 'thr@example.com', password: PASSWORD, name: 'Thr' });
  const good = (await api2.post('/api/users/login', { email: 'thr@example.com', password: PASSWORD })).body.refreshToken as string;
  const guesser = { 'x-forwarded-for': '192.0.2.9' };
  for (let i = 0; i < 3; i++) t.equal((await api2.post('/api/users/refresh', { refreshToken: `${'B'.repeat(40)}${i}xx` }, { headers: guesser })).status, 401);
  const blocked = await api2.post('/api/users/refresh', { refreshToken: good }, { headers: guesser });
  t.equal(blocked.status, 429);
  t.equal(blocked.body.code, 'TOO_MANY_REQUESTS');
  t.ok(Number(blocked.headers.get('retry-after')) >= 1);
  const ok = await api2.post('/api/users/refresh', { refreshToken: good }, { headers: { 'x-forwarded-for': '192.0.2.10' } });
  t.equal(ok.status, 200, 'the token was not spent by the refused attempt; another client refreshes');
});
