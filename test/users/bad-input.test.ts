// Acceptance 3 for users: register, login, refresh and logout answer hostile input with 4xx
// {code, message} and change nothing; a fast-check fuzz per endpoint too.
import t from 'tap';
import fc from 'fast-check';
import { usersService } from '../../services/users/service.js';
import { testDatabase } from '../helpers/mysql.js';
import { startTestService } from '../helpers/service.js';
import { client } from '../helpers/http.js';
import { BAD_UNICODE, hostileString, invalidBodies, isRejection, notAString, rawBadBodies, SQL_LOOKING, tablesChecksum, type FieldSpec } from '../helpers/bad-input.js';

const MAX_BODY_BYTES = 8 * 1024;
const db = await testDatabase(t, 'usersbad');
const svc = await startTestService(t, usersService, db, { SCRYPT_LOG_N: '14', MAX_BODY_BYTES: String(MAX_BODY_BYTES), LOGIN_MAX_FAILURES_PER_CLIENT: '100000', LOGIN_MAX_FAILURES_PER_CLIENT_ACCOUNT: '10000', REGISTER_MAX_PER_CLIENT: '100000' });
const api = client(svc.url);
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const PASSWORD = 'plum-harbour-velvet-42';
await api.post('/api/users/register', { email: 'existing@example.com', password: PASSWORD, name: 'Existing' });
const refreshToken = (await api.post('/api/users/login', { email: 'existing@example.com', password: PASSWORD })).body.refreshToken as string;
const TABLES = ['users', 'refresh_tokens'];

const email = fc.constantFrom('new@example.com', 'x.y@shop.example');
const badEmail = fc.oneof(notAString, hostileString, fc.constantFrom('', 'no-at.example.com', 'a@b', 'a@@b.example', `${'a'.repeat(65)}@example.com`, 'a b@example.com', '"q"@example.com', `a@${'b'.repeat(250)}.com`));
const registerFields: Record<string, FieldSpec> = {
  email: { required: true, valid: email, invalid: badEmail },
  password: {
    required: true,
    valid: fc.constant(PASSWORD),
    // Wrong types, control characters and lone surrogates, too short, too long, or too common.
    invalid: fc.oneof(notAString, fc.constantFrom(...BAD_UNICODE.map((s) => `${s}${PASSWORD}`), '', 'short', 'password1234', 'x'.repeat(129))),
  },
  name: { required: true, valid: fc.constantFrom('Ann', "O'Brien; DROP TABLE users; --", 'Zoë 😀'), invalid: fc.oneof(notAString, fc.constantFrom(...BAD_UNICODE, '', 'x'.repeat(101))) },
};
const loginFields: Record<string, FieldSpec> = {
  email: { required: true, valid: fc.constantFrom('existing@example.com'), invalid: badEmail },
  password: { required: true, valid: fc.constant(PASSWORD), invalid: fc.oneof(notAString, fc.constantFrom(...BAD_UNICODE, '', 'x'.repeat(1025))) },
};
const tokenFields: Record<string, FieldSpec> = {
  refreshToken: {
    required: true,
    valid: fc.constant(refreshToken),
    invalid: fc.oneof(notAString, hostileString, fc.constantFrom('', 'short', 'x'.repeat(201), `${refreshToken}!`, ` ${refreshToken}`, `${refreshToken.slice(0, 10)}/${refreshToken.slice(11)}`)),
  },
};
const endpoints = [
  { name: 'POST /api/users/register', path: '/api/users/register', valid: { email: 'new@example.com', password: PASSWORD, name: 'New' }, spec: registerFields },
  { name: 'POST /api/users/login', path: '/api/users/login', valid: { email: 'existing@example.com', password: PASSWORD }, spec: loginFields },
  { name: 'POST /api/users/refresh', path: '/api/users/refresh', valid: { refreshToken }, spec: tokenFields },
  { name: 'POST /api/users/logout', path: '/api/users/logout', valid: { refreshToken }, spec: tokenFields },
];

t.test('SQL-looking text is stored as text, and lookups with it find nothing', async (t) => {
  const res = await api.post('/api/users/register', { email: 'sql@example.com', password: PASSWORD, name: SQL_LOOKING[1]! });
  t.equal(res.status, 201);
  t.equal(res.body.name, SQL_LOOKING[1]);
  const login = await api.post('/api/users/login', { email: 'existing@example.com', password: "' OR '1'='1" });
  t.equal(login.status, 401);
});

for (const ep of endpoints) {
  t.test(`${ep.name}: fixed hostile bodies are refused and change nothing`, async (t) => {
    const before = await tablesChecksum(db.sql, TABLES);
    for (const c of rawBadBodies(ep.valid, MAX_BODY_BYTES)) {
      const res = await api.call('POST', ep.path, undefined, { raw: c.raw, headers: c.contentType ? { 'content-type': c.contentType } : {} });
      t.ok(isRejection(res), `${c.name}: ${res.status} ${res.text.slice(0, 100)}`);
    }
    for (const [field, spec] of Object.entries(ep.spec)) {
      const { [field]: _dropped, ...missing } = ep.valid as Record<string, unknown>;
      t.ok(isRejection(await api.post(ep.path, missing)), `${field} missing`);
      for (const value of fc.sample(spec.invalid, { numRuns: 40, seed: 7 })) {
        const res = await api.post(ep.path, { ...ep.valid, [field]: value });
        t.ok(isRejection(res), `${field}=${JSON.stringify(value)?.slice(0, 60)}: ${res.status}`);
      }
    }
    t.ok(isRejection(await api.post(ep.path, { ...ep.valid, role: 'admin' })), 'unknown field');
    t.equal(await tablesChecksum(db.sql, TABLES), before, 'nothing changed');
  });

  t.test(`${ep.name}: fuzzed invalid bodies get 4xx {code, message} and change nothing`, async (t) => {
    const before = await tablesChecksum(db.sql, TABLES);
    await fc.assert(
      fc.asyncProperty(invalidBodies(ep.spec), async (body) => {
        const res = await api.post(ep.path, body);
        if (!isRejection(res)) throw new Error(`${JSON.stringify(body)} → ${res.status} ${res.text}`);
      }),
      { numRuns: RUNS },
    );
    t.equal(await tablesChecksum(db.sql, TABLES), before, 'nothing changed');
  });
}
