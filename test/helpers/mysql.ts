// Every test file gets its own throwaway database on the server named by MYSQL_URL
// (default mysql://root@127.0.0.1:3306), created at start and dropped at teardown, plus a
// secrets file (mode 0600) holding its credentials in the DB secret shape and a JWT key pair.
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { generateSigningKeys } from '../../services/kit/auth.js';

export interface TestTap {
  teardown(fn: () => unknown): void;
}

export interface ServerAddress {
  host: string;
  port: number;
  user: string;
  password: string;
}

export function mysqlServer(): ServerAddress {
  const url = new URL(process.env.MYSQL_URL ?? 'mysql://root@127.0.0.1:3306');
  return {
    host: url.hostname,
    port: Number(url.port || 3306),
    user: decodeURIComponent(url.username || 'root'),
    password: decodeURIComponent(url.password),
  };
}

export async function adminConnection(database?: string): Promise<mysql.Connection> {
  const s = mysqlServer();
  return mysql.createConnection({ host: s.host, port: s.port, user: s.user, password: s.password, database, multipleStatements: false });
}

export interface TestDatabase {
  name: string;
  dir: string;
  secretsFile: string;
  /** `file:` references into the secrets file. */
  refs: { db: string; jwtSigning: string; jwtVerify: string };
  /** A connection to the test database as the server's admin. */
  sql: mysql.Connection;
  /** Adds or replaces one key of the secrets file. */
  setSecret(key: string, value: unknown): Promise<void>;
}

export async function testDatabase(t: TestTap, prefix = 't'): Promise<TestDatabase> {
  const name = `sd_${prefix}_${process.pid}_${randomBytes(3).toString('hex')}`.slice(0, 64);
  const admin = await adminConnection();
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
  await admin.end();
  const dir = await mkdtemp(join(tmpdir(), 'saleday-test-'));
  const secretsFile = join(dir, 'secrets.json');
  const s = mysqlServer();
  const keys = await generateSigningKeys();
  await writeFile(
    secretsFile,
    JSON.stringify({
      db: { engine: 'mysql', host: s.host, port: s.port, username: s.user, password: s.password, dbname: name },
      jwt: keys,
      'jwt-public': { publicKey: keys.publicKey },
    }),
    { mode: 0o600 },
  );
  await chmod(secretsFile, 0o600);
  const sql = await adminConnection(name);
  t.teardown(async () => {
    await sql.end().catch(() => undefined);
    const a = await adminConnection();
    await a.query(`DROP DATABASE IF EXISTS \`${name}\``);
    await a.end();
    await rm(dir, { recursive: true, force: true });
  });
  return {
    name,
    dir,
    secretsFile,
    refs: { db: `file:${secretsFile}#db`, jwtSigning: `file:${secretsFile}#jwt`, jwtVerify: `file:${secretsFile}#jwt-public` },
    sql,
    async setSecret(key, value) {
      const doc = JSON.parse(await readFile(secretsFile, 'utf8')) as Record<string, unknown>;
      doc[key] = value;
      await writeFile(secretsFile, JSON.stringify(doc), { mode: 0o600 });
    },
  };
}

export interface RotatableUser {
  name: string;
  /** Sets the user's password (on every host entry). */
  setPassword: (password: string) => Promise<void>;
  /** Writes the DB secret (the `db` key of the secrets file) with this user and `password`. */
  writeSecret: (password: string) => Promise<void>;
  /** The user's open connections, as the server sees them. */
  connections: () => Promise<number[]>;
  /** The server's admin connection the user was made with. */
  admin: mysql.Connection;
}

/**
 * A MySQL user of its own for a test that rotates the database password: created with `password`
 * and `grant` on the test database, its DB secret written, dropped at teardown.
 */
export async function rotatableUser(t: TestTap, db: TestDatabase, prefix: string, grant: string, password: string): Promise<RotatableUser> {
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  const hosts = ['127.0.0.1', 'localhost'];
  const admin = await adminConnection();
  t.teardown(async () => {
    for (const host of hosts) await admin.query(`DROP USER IF EXISTS '${name}'@'${host}'`).catch(() => undefined);
    await admin.end();
  });
  for (const host of hosts) {
    await admin.query(`CREATE USER '${name}'@'${host}' IDENTIFIED BY ?`, [password]);
    await admin.query(`GRANT ${grant} ON \`${db.name}\`.* TO '${name}'@'${host}'`);
  }
  const user: RotatableUser = {
    name,
    admin,
    setPassword: async (p) => {
      for (const host of hosts) await admin.query(`ALTER USER '${name}'@'${host}' IDENTIFIED BY ?`, [p]);
    },
    writeSecret: async (p) => {
      const s = mysqlServer();
      await db.setSecret('db', { engine: 'mysql', host: s.host, port: s.port, username: name, password: p, dbname: db.name });
    },
    connections: async () => {
      const [rows] = await admin.query('SELECT ID AS id FROM information_schema.PROCESSLIST WHERE USER = ?', [name]);
      return (rows as Array<{ id: number }>).map((r) => r.id);
    },
  };
  await user.writeSecret(password);
  return user;
}
