// The documented first-admin command, from dist: password from ADMIN_PASSWORD or stdin, never a
// default; idempotent; never promotes a customer. The admin it makes can log in as admin.
import t from 'tap';
import { decodeJwt } from 'jose';
import { usersService } from '../../services/users/service.js';
import { testDatabase } from '../helpers/mysql.js';
import { startTestService } from '../helpers/service.js';
import { client } from '../helpers/http.js';
import { runCommand } from '../helpers/processes.js';

const db = await testDatabase(t, 'usersadmin');
const env = { DB_SECRET: db.refs.db, SCRYPT_LOG_N: '14' };
const PASSWORD = 'quiet-meadow-lantern-7';
const createAdmin = (args: string[], extra: Record<string, string> = {}, stdin?: string) => runCommand('services/users/create-admin.js', args, { ...env, ...extra }, stdin);

t.test('creates the admin from ADMIN_PASSWORD; again changes nothing; a new password updates it', async (t) => {
  const first = await createAdmin(['--email', 'Root@Shop.example', '--name', 'Shop admin'], { ADMIN_PASSWORD: PASSWORD });
  t.equal(first.code, 0, first.stderr);
  t.match(first.stdout, /admin Root@Shop.example \(id \d+\) created/);
  t.notMatch(first.stdout + first.stderr, /meadow/, 'the password is never printed');
  const again = await createAdmin(['--email', 'root@shop.example'], { ADMIN_PASSWORD: PASSWORD });
  t.equal(again.code, 0);
  t.match(again.stdout, /already exists, unchanged/);
  const rotated = await createAdmin(['--email', 'root@shop.example'], {}, 'another-calm-river-9\n');
  t.equal(rotated.code, 0, rotated.stderr);
  t.match(rotated.stdout, /password updated/);
  const [[row]] = (await db.sql.query("SELECT role, COUNT(*) AS n FROM users WHERE email_key = 'root@shop.example' GROUP BY role")) as unknown as [[{ role: string; n: number }]];
  t.same(row, { role: 'admin', n: 1 });

  const svc = await startTestService(t, usersService, db, { SCRYPT_LOG_N: '14' });
  const api = client(svc.url);
  const login = await api.post('/api/users/login', { email: 'root@shop.example', password: 'another-calm-river-9' });
  t.equal(login.status, 200);
  t.equal(decodeJwt(login.body.token).role, 'admin');
  t.equal((await api.get('/api/users/me', { token: login.body.token })).body.role, 'admin');
});
