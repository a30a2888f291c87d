// The first-admin command's refusals, from dist: no password, a weak one, a customer's email, bad
// arguments, no secret. Each says what to do in one line and changes nothing.
import t from 'tap';
import { usersService } from '../../services/users/service.js';
import { testDatabase } from '../helpers/mysql.js';
import { startTestService } from '../helpers/service.js';
import { client } from '../helpers/http.js';
import { runCommand } from '../helpers/processes.js';

const db = await testDatabase(t, 'usersadminno');
const env = { DB_SECRET: db.refs.db, SCRYPT_LOG_N: '14' };
const PASSWORD = 'quiet-meadow-lantern-7';
const createAdmin = (args: string[], extra: Record<string, string> = {}, stdin?: string) => runCommand('services/users/create-admin.js', args, { ...env, ...extra }, stdin);

t.test('refusals say what to do, in one line, and change nothing', async (t) => {
  const svc = await startTestService(t, usersService, db, { SCRYPT_LOG_N: '14' });
  await client(svc.url).post('/api/users/register', { email: 'customer@shop.example', password: PASSWORD, name: 'Cus Tomer' });
  const [[before]] = (await db.sql.query('SELECT COUNT(*) AS n, MAX(updated_at) AS u FROM users')) as unknown as [[unknown]];

  const cases: Array<[string, string[], Record<string, string>, string | undefined, number, RegExp]> = [
    ['no password anywhere', ['--email', 'new@shop.example'], {}, undefined, 1, /no password given: set ADMIN_PASSWORD or pipe/],
    ['a weak password', ['--email', 'new@shop.example'], { ADMIN_PASSWORD: 'admin12345' }, undefined, 1, /too weak/],
    ['a customer is never promoted', ['--email', 'CUSTOMER@shop.example'], { ADMIN_PASSWORD: PASSWORD }, undefined, 1, /customers are never made admin/],
    ['no --email', [], { ADMIN_PASSWORD: PASSWORD }, undefined, 2, /--email is required\nusage:/],
    ['a malformed email', ['--email', 'not-an-email'], { ADMIN_PASSWORD: PASSWORD }, undefined, 2, /must be an email address/],
    ['an unknown option', ['--email', 'a@shop.example', '--role', 'admin'], { ADMIN_PASSWORD: PASSWORD }, undefined, 2, /Unknown option/],
  ];
  for (const [name, args, extra, stdin, code, message] of cases) {
    const res = await createAdmin(args, extra, stdin);
    t.equal(res.code, code, name);
    t.match(res.stderr, message, name);
    t.notMatch(res.stderr, /\n\s+at /, `${name}: no stack trace`);
  }
  const noSecret = await runCommand('services/users/create-admin.js', ['--email', 'a@shop.example'], { ADMIN_PASSWORD: PASSWORD });
  t.equal(noSecret.code, 1);
  t.match(noSecret.stderr, /DB_SECRET is not set/);
  const [[after]] = (await db.sql.query('SELECT COUNT(*) AS n, MAX(updated_at) AS u FROM users')) as unknown as [[unknown]];
  t.same(after, before);
  const [[customer]] = (await db.sql.query("SELECT role FROM users WHERE email_key = 'customer@shop.example'")) as unknown as [[{ role: string }]];
  t.equal(customer.role, 'customer');
});
