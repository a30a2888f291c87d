// The database bootstrap as a plain function against the real MariaDB, with the local secrets file
// as its secret store, on a fresh set of databases and users named for this run (dropped at the
// end): databases, users that reach only their own database, migrations, the admin account; a
// second run changes nothing; a changed secret re-syncs exactly one password; check changes nothing.
// The service commands run from dist/ (npm run build first).
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mysql from 'mysql2/promise';
import t from 'tap';
import { SHOP_SERVICES } from '../../environment/index.js';
import { type BootstrapInput, bootstrap } from '../../playbooks/lib/bootstrap/bootstrap.js';
import { type AdminSession, alterUserSql, createUserSql, ensureDatabaseUser, grantSql, grantTarget } from '../../playbooks/lib/bootstrap/database-user.js';
import { fileSecretStore } from '../../playbooks/lib/bootstrap/secret-store.js';
import { addressFromUrl } from '../../playbooks/lib/local/mysql-server.js';
import { SecretsFile, dbSecretKey, generatePassword } from '../../playbooks/lib/local/secrets-file.js';
import { serviceCommands } from '../../playbooks/lib/local/service-command.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const server = addressFromUrl(process.env.MYSQL_URL ?? 'mysql://root@127.0.0.1:3306');
const run = `bt${randomBytes(4).toString('hex')}`;
const names = SHOP_SERVICES.map((d) => d.name);
const hosts = ['localhost', '127.0.0.1'];

const admin = await mysql.createConnection({ host: server.host, port: server.port, user: server.user, password: server.password });
const dir = await mkdtemp(join(tmpdir(), 'saleday-bootstrap-'));
t.teardown(async () => {
  for (const s of names) {
    await admin.query(`DROP DATABASE IF EXISTS \`${run}_${s}\``);
    for (const h of hosts) for (const u of [`${run}_${s}`, `${run}_${s}_b`]) await admin.query('DROP USER IF EXISTS ?@?', [u, h]);
  }
  await admin.query('DROP USER IF EXISTS ?@?', [`${run}_ssl`, '%']);
  await admin.end();
  await rm(dir, { recursive: true, force: true });
});

// The secrets the deploy gives each service: on AWS the database stack generates them; here the file.
const file = await SecretsFile.load(dir);
for (const s of names) {
  file.set(dbSecretKey(s), { engine: 'mysql', host: server.host, port: server.port, username: `${run}_${s}`, password: generatePassword(), dbname: `${run}_${s}` });
}
await file.save();
const secrets = fileSecretStore(file, dir);

const input = (over: Partial<BootstrapInput> = {}): BootstrapInput => ({
  master: { ...server, tls: 'off' },
  services: SHOP_SERVICES.map((d) => ({ name: d.name, secret: dbSecretKey(d.name), commands: d.commands })),
  seed: false,
  admin: { secret: 'admin', email: 'admin@shop.example' },
  userHosts: hosts,
  requireSsl: false,
  check: false,
  commandEnv: { DB_TLS: 'off' },
  ...over,
});
const deps = { secrets, commands: serviceCommands(root) };

/** Every database, user, grant, password hash and migration row of this run: what "changes nothing" compares. */
async function snapshot(): Promise<string> {
  const [dbs] = await admin.query('SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ? ORDER BY 1', [`${run}\\_%`]);
  const [users] = await admin.query("SELECT User, Host, authentication_string, ssl_type FROM mysql.user WHERE User LIKE ? ORDER BY 1, 2", [`${run}\\_%`]);
  const [grants] = await admin.query('SELECT * FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE LIKE ? ORDER BY 1, 3, 4', [`'${run}\\_%`]);
  const migrations: unknown[] = [];
  for (const s of names) {
    const [rows] = await admin.query(`SELECT name FROM \`${run}_${s}\`.schema_migrations ORDER BY name`).catch(() => [[]]);
    migrations.push(rows);
  }
  const [admins] = await admin.query(`SELECT email, role, password_hash FROM \`${run}_users\`.users WHERE role = 'admin'`).catch(() => [[]]);
  return JSON.stringify({ dbs, users, grants, migrations, admins, adminSecret: (await secrets.get('admin')) ?? null });
}

async function connectAs(service: string, database: string): Promise<mysql.Connection> {
  const s = file.get<{ username: string; password: string }>(dbSecretKey(service))!;
  return mysql.createConnection({ host: server.host, port: server.port, user: s.username, password: s.password, database });
}

t.test('check on a fresh server says what it would do and changes nothing', async (t) => {
  const before = await snapshot();
  const report = await bootstrap(input({ check: true, seed: true }), deps);
  t.equal(await snapshot(), before, 'nothing changed');
  t.match(report.services.find((s) => s.service === 'catalog')!.did, ['would create database ' + `${run}_catalog`, /./, /./, 'would apply every migration', 'would run seed catalog']);
  t.same(report.services.map((s) => s.status), ['changed', 'changed', 'changed', 'changed']);
  const users = report.services.find((s) => s.service === 'users')!;
  t.match(users.did.join('; '), new RegExp(`would create database ${run}_users; would create user ${run}_users@localhost.*would apply every migration; would generate the admin password into admin; would create the admin account`));
  t.equal(await secrets.get('admin'), undefined, 'no admin password generated');
});

t.test('first run: 4 databases, 4 users each reaching only its own database, migrations, the admin', async (t) => {
  const report = await bootstrap(input(), deps);
  t.same(report.services.map((s) => [s.service, s.status]), names.map((s) => [s, 'changed']));
  for (const s of report.services) {
    t.match(s.did, [`database ${run}_${s.service} created`, `user ${run}_${s.service}@localhost created`, `user ${run}_${s.service}@127.0.0.1 created`], `${s.service}: database and users`);
    t.match(s.did.join('; '), /\d+ migration\(s\) applied/, `${s.service}: migrations`);
  }
  t.match(report.services[0]!.did.join('; '), /admin password generated into admin; admin admin@shop\.example created/);

  const [dbs] = await admin.query<mysql.RowDataPacket[]>('SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ?', [`${run}\\_%`]);
  t.equal(dbs.length, 4, '4 databases');
  const [users] = await admin.query<mysql.RowDataPacket[]>('SELECT DISTINCT User FROM mysql.user WHERE User LIKE ?', [`${run}\\_%`]);
  t.equal(users.length, 4, '4 users');

  for (const [i, s] of names.entries()) {
    const own = await connectAs(s, `${run}_${s}`);
    const [tables] = await own.query<mysql.RowDataPacket[]>('SELECT COUNT(*) AS n FROM schema_migrations');
    t.ok(Number(tables[0]!.n) > 0, `${s} reads its own migrations`);
    const other = names[(i + 1) % names.length]!;
    await t.rejects(own.query(`SELECT 1 FROM \`${run}_${other}\`.schema_migrations`), { code: 'ER_TABLEACCESS_DENIED_ERROR' }, `${s} cannot read ${other}'s tables`);
    await t.rejects(own.query(`USE \`${run}_${other}\``), { code: 'ER_DBACCESS_DENIED_ERROR' }, `${s} cannot use ${other}'s database`);
    await own.end();
    await t.rejects(connectAs(s, `${run}_${other}`), { code: 'ER_DBACCESS_DENIED_ERROR' }, `${s} cannot connect to ${other}'s database`);
  }
  const kept = await secrets.get('admin');
  t.match(kept, { email: 'admin@shop.example', password: /^[\w-]{32}$/ }, 'the admin password is kept in the secret store');
  const [admins] = await admin.query<mysql.RowDataPacket[]>(`SELECT email FROM \`${run}_users\`.users WHERE role = 'admin'`);
  t.same(admins.map((r) => String(r.email)), ['admin@shop.example']);
});

t.test('a second run changes nothing', async (t) => {
  const before = await snapshot();
  const report = await bootstrap(input(), deps);
  t.same(report.services, names.map((service) => ({ service, status: 'ok', did: [] })));
  t.equal(await snapshot(), before);
  const checked = await bootstrap(input({ check: true, seed: true }), deps);
  t.same(checked.services, names.map((service) => ({ service, status: 'ok', did: [] })), 'check agrees (seeds keep what is there)');
});

t.test('a changed secret re-syncs exactly that password', async (t) => {
  const key = dbSecretKey('catalog');
  const secret = file.get<Record<string, unknown>>(key)!;
  await secrets.put(key, { ...secret, password: generatePassword() });
  await t.rejects(connectAs('catalog', `${run}_catalog`), { code: 'ER_ACCESS_DENIED_ERROR' }, 'the new password does not log in yet');

  const before = await snapshot();
  const checked = await bootstrap(input({ check: true }), deps);
  t.same(checked.services.filter((s) => s.status === 'changed'), [{ service: 'catalog', status: 'changed', did: [`would re-sync the password of ${run}_catalog from its secret`] }]);
  t.equal(await snapshot(), before, 'check changed nothing');

  const report = await bootstrap(input(), deps);
  t.same(report.services.filter((s) => s.status === 'changed'), [{ service: 'catalog', status: 'changed', did: [`password of ${run}_catalog re-synced from its secret`] }]);
  const [hashes] = await admin.query<mysql.RowDataPacket[]>('SELECT User, Host, authentication_string AS h FROM mysql.user WHERE User LIKE ? ORDER BY 1, 2', [`${run}\\_%`]);
  const changedUsers = (JSON.parse(before) as { users: Array<{ User: string; Host: string; authentication_string: string }> }).users
    .filter((u) => hashes.find((h) => h.User === u.User && h.Host === u.Host)!.h !== u.authentication_string)
    .map((u) => u.User);
  t.same([...new Set(changedUsers)], [`${run}_catalog`], 'exactly one password changed');
  (await connectAs('catalog', `${run}_catalog`)).end();
});

t.test('a missing secret fails with the service and the secret named, no value printed', async (t) => {
  const only = input({ services: [{ name: 'reviews', secret: 'db-reviews', commands: {} }] });
  await t.rejects(bootstrap(only, deps), { name: 'BootstrapError', service: 'reviews', message: 'reviews: its database secret db-reviews does not exist' });
});

t.test('REQUIRE SSL (AWS): the statements carry it, and the server takes it', async (t) => {
  t.equal(createUserSql(true), 'CREATE USER ?@? IDENTIFIED BY ? REQUIRE SSL');
  t.equal(alterUserSql(true), 'ALTER USER ?@? IDENTIFIED BY ? REQUIRE SSL');
  t.equal(createUserSql(false), 'CREATE USER ?@? IDENTIFIED BY ?');
  t.equal(grantTarget('shop_users'), '`shop\\_users`.*', 'the grant names one database, not a pattern');
  t.match(grantSql('shop_users'), /^GRANT SELECT, INSERT, .* ON `shop\\_users`\.\* TO \?@\?$/);

  // Recorded, as the AWS bootstrap issues them for a new user on host %.
  const issued: string[] = [];
  const recorder: AdminSession = {
    query: (sql: string) => {
      issued.push(sql);
      return Promise.resolve([[], undefined] as never);
    },
  };
  const changes = await ensureDatabaseUser(recorder, { host: 'db.example', port: 3306, username: 'users', password: 'x', dbname: 'users' }, { hosts: ['%'], requireSsl: true, tls: 'on', check: false });
  t.same(changes, ['database users created', 'user users@% created']);
  t.ok(issued.includes('CREATE USER ?@? IDENTIFIED BY ? REQUIRE SSL'), 'the user is created with REQUIRE SSL');

  // The local MariaDB has no TLS, so an SSL-only user cannot log in here; the server still takes the statement.
  await admin.query(createUserSql(true), [`${run}_ssl`, '%', generatePassword()]);
  const [rows] = await admin.query<mysql.RowDataPacket[]>('SELECT ssl_type FROM mysql.user WHERE User = ? AND Host = ?', [`${run}_ssl`, '%']);
  t.equal(String(rows[0]!.ssl_type), 'ANY');
});

t.test('-e rotate=database: alternating users, the current credentials keep working until the rotation after', async (t) => {
  const canLogIn = async (v: Record<string, unknown>): Promise<boolean> => {
    try {
      const c = await mysql.createConnection({ host: server.host, port: server.port, user: String(v.username), password: String(v.password), database: String(v.dbname) });
      await c.end();
      return true;
    } catch (err) {
      if ((err as { code?: string }).code === 'ER_ACCESS_DENIED_ERROR') return false;
      throw err;
    }
  };
  const key = dbSecretKey('catalog');
  await bootstrap(input(), deps);
  const first = { ...file.get<Record<string, unknown>>(key)! };
  const check = await bootstrap(input({ check: true, rotate: ['catalog'] }), deps);
  t.match(check.services.find((s) => s.service === 'catalog')!.did, [/would rotate the password: a new one for \S+_catalog_b/]);
  t.same(file.get(key), first, 'check changes nothing');

  const once = await bootstrap(input({ rotate: ['catalog'] }), deps);
  const second = { ...file.get<Record<string, unknown>>(key)! };
  t.equal(second.username, `${run}_catalog_b`, 'the secret names the other user');
  t.not(second.password, first.password);
  t.match(once.services.find((s) => s.service === 'catalog')!.did.join('; '), /password rotated: \S+_catalog_b now in its secret/);
  t.equal(once.services.find((s) => s.service === 'users')!.status, 'ok', 'only the service asked for rotates');
  t.ok(await canLogIn(second), 'the new credentials log in');
  t.ok(await canLogIn(first), 'the old ones still do (instances that have not re-read the secret)');
  const [grants] = await admin.query<mysql.RowDataPacket[]>('SHOW GRANTS FOR ?@?', [`${run}_catalog_b`, 'localhost']);
  t.ok(JSON.stringify(grants).includes(`${run}\\\\_catalog`), 'the other user has the same grant on its database only');
  t.equal((await bootstrap(input(), deps)).services.find((s) => s.service === 'catalog')!.status, 'ok', 'a deploy after it changes nothing (the secret keeps naming the other user)');

  await bootstrap(input({ rotate: ['catalog'] }), deps);
  const third = file.get<Record<string, unknown>>(key)!;
  t.equal(third.username, first.username, 'back to the first user');
  t.ok(await canLogIn(third));
  t.notOk(await canLogIn(first), 'the first credentials no longer log in');
  t.ok(await canLogIn(second), 'the second still do, until the next rotation');
});
