// The users API against real MariaDB: register, login (and its throttling), me.
import t from 'tap';
import { decodeJwt } from 'jose';
import { usersService } from '../../services/users/service.js';
import { testDatabase } from '../helpers/mysql.js';
import { startTestService } from '../helpers/service.js';
import { client } from '../helpers/http.js';
import { signToken } from '../helpers/tokens.js';

const db = await testDatabase(t, 'usersapi');
const svc = await startTestService(t, usersService, db, {
  SCRYPT_LOG_N: '14',
  LOGIN_MAX_FAILURES_PER_CLIENT_ACCOUNT: '3',
  LOGIN_MAX_FAILURES_PER_ACCOUNT: '1000',
  LOGIN_MAX_FAILURES_PER_CLIENT: '1000',
  REGISTER_MAX_PER_CLIENT: '1000',
  TRUSTED_PROXY_HOPS: '1',
});
const api = client(svc.url);
const PASSWORD = 'plum-harbour-velvet-42';

/** Each request from its own client address, as a trusted proxy would report it. */
let clients = 0;
const from = () => ({ 'x-forwarded-for': `198.51.100.${++clients}` });

t.test('register: 201 {id, email, name}, nothing else', async (t) => {
  const res = await api.post('/api/users/register', { email: 'Alice@Example.com', password: PASSWORD, name: 'Alice' });
  t.equal(res.status, 201);
  t.same(Object.keys(res.body).sort(), ['email', 'id', 'name']);
  t.match(res.body, { id: /^\d+$/, email: 'Alice@Example.com', name: 'Alice' });
  t.notMatch(res.text, /plum|scrypt/);
  const [[row]] = (await db.sql.query('SELECT role, password_hash AS hash FROM users WHERE id = ?', [res.body.id])) as unknown as [[{ role: string; hash: string }]];
  t.equal(row.role, 'customer');
  t.match(row.hash, /^scrypt\$/);
  t.notMatch(row.hash, /plum/);
});

t.test('register: duplicates (in any case) are 409', async (t) => {
  for (const email of ['Alice@Example.com', 'alice@example.com', 'ALICE@EXAMPLE.COM']) {
    const res = await api.post('/api/users/register', { email, password: PASSWORD, name: 'Mallory' });
    t.equal(res.status, 409, email);
    t.equal(res.body.code, 'EMAIL_TAKEN');
  }
  const [[{ n }]] = (await db.sql.query('SELECT COUNT(*) AS n FROM users')) as unknown as [[{ n: number }]];
  t.equal(n, 1);
});

t.test('register: malformed email, weak password, role smuggling are 400', async (t) => {
  const cases: Array<[string, unknown, string]> = [
    ['no at sign', { email: 'alice.example.com', password: PASSWORD, name: 'A' }, 'VALIDATION_FAILED'],
    ['two at signs', { email: 'a@b@example.com', password: PASSWORD, name: 'A' }, 'VALIDATION_FAILED'],
    ['no domain dot', { email: 'a@localhost', password: PASSWORD, name: 'A' }, 'VALIDATION_FAILED'],
    ['spaces', { email: ' bob@example.com', password: PASSWORD, name: 'A' }, 'VALIDATION_FAILED'],
    ['short password', { email: 'bob@example.com', password: 'Sh0rt!', name: 'Bob' }, 'WEAK_PASSWORD'],
    ['common password', { email: 'bob@example.com', password: 'password1234', name: 'Bob' }, 'WEAK_PASSWORD'],
    ['password from the email', { email: 'bob.builder@example.com', password: 'bob.builder1', name: 'Bob' }, 'WEAK_PASSWORD'],
    ['role field', { email: 'bob@example.com', password: PASSWORD, name: 'Bob', role: 'admin' }, 'VALIDATION_FAILED'],
    ['missing name', { email: 'bob@example.com', password: PASSWORD }, 'VALIDATION_FAILED'],
  ];
  for (const [name, body, code] of cases) {
    const res = await api.post('/api/users/register', body);
    t.equal(res.status, 400, name);
    t.equal(res.body.code, code, name);
    t.type(res.body.message, 'string');
  }
  t.match((await api.post('/api/users/register', { email: 'bob@example.com', password: 'password1234', name: 'Bob' })).body.message, /password is too weak: .*common/i);
  t.equal((await api.post('/api/users/login', { email: 'bob@example.com', password: PASSWORD }, { headers: from() })).status, 401, 'no account was made');
});

t.test('login: 200 {token, refreshToken, expiresIn}, any email case', async (t) => {
  const res = await api.post('/api/users/login', { email: 'alice@EXAMPLE.com', password: PASSWORD }, { headers: from() });
  t.equal(res.status, 200);
  t.same(Object.keys(res.body).sort(), ['expiresIn', 'refreshToken', 'token']);
  t.equal(res.body.expiresIn, 900, 'access tokens are short-lived');
  t.match(res.body.refreshToken, /^[A-Za-z0-9_-]{43}$/);
  const claims = decodeJwt(res.body.token);
  t.match(claims, { iss: 'saleday-users', aud: 'saleday', email: 'Alice@Example.com', role: 'customer', sub: /^\d+$/ });
  t.equal(res.headers.get('cache-control'), 'no-store');
});

t.test('login: wrong password and unknown email get the same 401', async (t) => {
  const wrong = await api.post('/api/users/login', { email: 'alice@example.com', password: 'not-the-password-1' }, { headers: from() });
  const unknown = await api.post('/api/users/login', { email: 'nobody@example.com', password: 'not-the-password-1' }, { headers: from() });
  t.equal(wrong.status, 401);
  t.equal(unknown.status, 401);
  t.same(wrong.body, unknown.body);
  t.same(wrong.body, { code: 'UNAUTHORIZED', message: 'email or password is incorrect' });
  const bad = await api.post('/api/users/login', { email: 'alice@example.com' }, { headers: from() });
  t.equal(bad.status, 400);
});

t.test('login: repeated failures on one account hold back that client there, not the owner elsewhere', async (t) => {
  await api.post('/api/users/register', { email: 'carol@example.com', password: PASSWORD, name: 'Carol' });
  const attacker = { 'x-forwarded-for': '192.0.2.66' };
  for (let i = 0; i < 3; i++) {
    t.equal((await api.post('/api/users/login', { email: 'carol@example.com', password: `wrong-guess-${i}-xyz` }, { headers: attacker })).status, 401);
  }
  const blocked = await api.post('/api/users/login', { email: 'CAROL@example.com', password: PASSWORD }, { headers: attacker });
  t.equal(blocked.status, 429, 'even the right password waits');
  t.equal(blocked.body.code, 'TOO_MANY_REQUESTS');
  t.match(blocked.headers.get('retry-after'), /^[1-9]\d*$/);
  t.ok(Number(blocked.headers.get('retry-after')) <= 900);
  t.equal((await api.post('/api/users/login', { email: 'carol@example.com', password: PASSWORD }, { headers: from() })).status, 200, 'the owner from another client gets in');
  // An unknown account is throttled the same way, so a 429 says nothing about existence.
  for (let i = 0; i < 3; i++) await api.post('/api/users/login', { email: 'ghost@example.com', password: `wrong-guess-${i}-xyz` }, { headers: attacker });
  t.equal((await api.post('/api/users/login', { email: 'ghost@example.com', password: PASSWORD }, { headers: attacker })).status, 429);
  t.equal((await api.post('/api/users/login', { email: 'alice@example.com', password: PASSWORD }, { headers: attacker })).status, 200, 'other accounts are not affected');
});

t.test('login: a success forgets the client\'s failures on the account', async (t) => {
  await api.post('/api/users/register', { email: 'dave@example.com', password: PASSWORD, name: 'Dave' });
  const dave = { 'x-forwarded-for': '192.0.2.77' };
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 2; i++) await api.post('/api/users/login', { email: 'dave@example.com', password: 'wrong-guess-abc' }, { headers: dave });
    t.equal((await api.post('/api/users/login', { email: 'dave@example.com', password: PASSWORD }, { headers: dave })).status, 200);
  }
});

t.test('login: repeated failures from one client are throttled across accounts', async (t) => {
  const db2 = await testDatabase(t, 'usersclient');
  const svc2 = await startTestService(t, usersService, db2, { SCRYPT_LOG_N: '14', LOGIN_MAX_FAILURES_PER_CLIENT: '4', LOGIN_MAX_FAILURES_PER_ACCOUNT: '100' });
  const api2 = client(svc2.url);
  await api2.post('/api/users/register', { email: 'erin@example.com', password: PASSWORD, name: 'Erin' });
  for (let i = 0; i < 4; i++) {
    t.equal((await api2.post('/api/users/login', { email: `user${i}@example.com`, password: 'wrong-guess-abc' })).status, 401);
  }
  const blocked = await api2.post('/api/users/login', { email: 'erin@example.com', password: PASSWORD });
  t.equal(blocked.status, 429);
  t.ok(Number(blocked.headers.get('retry-after')) >= 1);
  // Without trusted proxies a forged X-Forwarded-For changes nothing.
  t.equal((await api2.post('/api/users/login', { email: 'erin@example.com', password: PASSWORD }, { headers: { 'x-forwarded-for': '203.0.113.9' } })).status, 429);
});

t.test('me: 200 with a valid token; 401 missing, malformed, forged, expired, or for a deleted user', async (t) => {
  const login = await api.post('/api/users/login', { email: 'alice@example.com', password: PASSWORD }, { headers: from() });
  const me = await api.get('/api/users/me', { token: login.body.token });
  t.equal(me.status, 200);
  t.match(me.body, { email: 'Alice@Example.com', name: 'Alice', role: 'customer', id: /^\d+$/ });
  t.notMatch(me.text, /scrypt|hash/);

  t.equal((await api.get('/api/users/me')).status, 401);
  t.equal((await api.get('/api/users/me', { headers: { authorization: 'Basic abc' } })).status, 401);
  t.equal((await api.get('/api/users/me', { token: 'not-a-jwt' })).status, 401);
  t.equal((await api.get('/api/users/me', { token: `${String(login.body.token).slice(0, -3)}AAA` })).status, 401);
  const expired = await signToken(db, 'customer', { id: me.body.id, ttlSeconds: -30 });
  const res = await api.get('/api/users/me', { token: expired });
  t.equal(res.status, 401);
  t.equal(res.body.message, 'token expired');
  t.equal(res.headers.get('www-authenticate'), 'Bearer');
  t.equal((await api.get('/api/users/me', { token: await signToken(db, 'customer', { id: '999999' }) })).status, 401, 'no such user');
});
