// One service's database and least-privilege user, made to agree with its secret
// {engine, host, port, username, password, dbname}: the database exists, the user exists on each
// host it is made for, may read, write and migrate that database and nothing else (the grant names
// the database with `_` and `%` escaped, so it is no pattern matching others), carries REQUIRE SSL
// where asked (AWS: RDS has TLS; the local MariaDB has none), and logs in with the secret's password.
// A password is re-synced when logging in with the secret's password is refused: MySQL keeps only a
// salted hash we cannot compare with, and a hash of our own could not see a password changed by
// hand; trying to log in tests exactly what the service will do. The one implementation for the
// local target and for the bootstrap function on AWS; under check it only reads and says what it
// would do.
import mysql from 'mysql2/promise';
import { type TlsMode, tlsFor } from '../../../services/kit/db.js';

/**
 * The other user of a service's pair. MySQL and MariaDB keep one password per user, so a password
 * rotates by alternating users (AWS's "alternating users" strategy): the user the secret does not
 * name gets a new password (made, with the same grants, on the first rotation), then the secret
 * names it. Instances that have not re-read the secret yet keep logging in as the other user,
 * whose password stays valid until the rotation after.
 */
export function alternateUserName(base: string, current: string): string {
  const alt = `${base.slice(0, 30)}_b`;
  return current === alt ? base : alt;
}

/** What a service may do in its own schema: data, and the DDL its migrations run. */
export const SERVICE_PRIVILEGES = ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'CREATE', 'ALTER', 'DROP', 'INDEX', 'REFERENCES', 'CREATE TEMPORARY TABLES', 'LOCK TABLES'] as const;

/** The fields of a database secret this step reads. */
export interface ServiceDbSecret {
  host: string;
  port: number;
  username: string;
  password: string;
  dbname: string;
}

export interface DatabaseUserOptions {
  /** The hosts the user is made for: `%` on AWS, the loopback names locally. */
  hosts: readonly string[];
  /** REQUIRE SSL on the user (AWS); the local MariaDB has no TLS. */
  requireSsl: boolean;
  /** TLS of the login test, as services connect (`auto`: on for RDS). */
  tls: TlsMode;
  /** Read only and say what would be done. */
  check: boolean;
}

/** Admin statements issue through this (a mysql2 connection in practice; tests record them). */
export interface AdminSession {
  query<T extends mysql.RowDataPacket[] | mysql.ResultSetHeader>(sql: string, values?: unknown[]): Promise<[T, unknown]>;
}

/** What was (or, under check, would be) done; empty when everything agreed. */
export type Changes = string[];

const NAME = /^[A-Za-z0-9_]{1,64}$/;

/** A database name in a grant: backquoted, with `_` and `%` escaped so it matches only itself. */
export function grantTarget(dbname: string): string {
  return `\`${dbname.replace(/[_%]/g, (c) => `\\${c}`)}\`.*`;
}

/** The statement that makes a missing user. */
export function createUserSql(requireSsl: boolean): string {
  return `CREATE USER ?@? IDENTIFIED BY ?${requireSsl ? ' REQUIRE SSL' : ''}`;
}

/** The statement that gives an existing user the secret's password (and TLS requirement). */
export function alterUserSql(requireSsl: boolean): string {
  return `ALTER USER ?@? IDENTIFIED BY ?${requireSsl ? ' REQUIRE SSL' : ''}`;
}

export function grantSql(dbname: string): string {
  return `GRANT ${SERVICE_PRIVILEGES.join(', ')} ON ${grantTarget(dbname)} TO ?@?`;
}

export async function ensureDatabaseUser(admin: AdminSession, secret: ServiceDbSecret, opts: DatabaseUserOptions): Promise<Changes> {
  const { dbname, username, password } = secret;
  if (!NAME.test(dbname) || !NAME.test(username) || username.length > 32) {
    throw new Error(`the secret names database "${dbname}" and user "${username}": expected letters, digits and _ (user at most 32 characters)`);
  }
  const did: Changes = [];
  const say = (done: string, wouldDo: string) => did.push(opts.check ? `would ${wouldDo}` : done);

  const [dbs] = await admin.query<mysql.RowDataPacket[]>('SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [dbname]);
  const dbMissing = dbs.length === 0;
  if (dbMissing) {
    if (!opts.check) await admin.query(`CREATE DATABASE IF NOT EXISTS \`${dbname}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
    say(`database ${dbname} created`, `create database ${dbname}`);
  }

  let created = false;
  for (const host of opts.hosts) {
    const [users] = await admin.query<mysql.RowDataPacket[]>('SELECT ssl_type FROM mysql.user WHERE User = ? AND Host = ?', [username, host]);
    if (users.length === 0) {
      if (!opts.check) await admin.query(createUserSql(opts.requireSsl), [username, host, password]);
      say(`user ${username}@${host} created`, `create user ${username}@${host}`);
      created = true;
    } else if (opts.requireSsl && String(users[0]!.ssl_type).toUpperCase() !== 'ANY') {
      if (!opts.check) await admin.query(`ALTER USER ?@? REQUIRE SSL`, [username, host]);
      say(`SSL required of ${username}@${host}`, `require SSL of ${username}@${host}`);
    }
    const [privs] = await admin.query<mysql.RowDataPacket[]>(
      'SELECT PRIVILEGE_TYPE FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE = ? AND TABLE_SCHEMA = ?',
      [`'${username}'@'${host}'`, grantTarget(dbname).slice(1, -3)],
    );
    const held = new Set(privs.map((r) => String(r.PRIVILEGE_TYPE).toUpperCase()));
    if (SERVICE_PRIVILEGES.some((p) => !held.has(p))) {
      if (!opts.check) await admin.query(grantSql(dbname), [username, host]);
      if (!created) say(`privileges on ${dbname} granted to ${username}@${host}`, `grant privileges on ${dbname} to ${username}@${host}`);
    }
  }

  // A user just created has the secret's password; otherwise try it (check mode too: reading only).
  if (!created && !(opts.check && dbMissing) && !(await canLogIn(secret, opts.tls))) {
    if (!opts.check) {
      for (const host of opts.hosts) await admin.query(alterUserSql(opts.requireSsl), [username, host, password]);
      if (!(await canLogIn(secret, opts.tls))) throw new Error(`${username} still cannot log in to ${secret.host}:${secret.port} after its password was set from its secret`);
    }
    say(`password of ${username} re-synced from its secret`, `re-sync the password of ${username} from its secret`);
  }
  return did;
}

/** Whether the secret's credentials log in; false only when the server refuses them. */
export async function canLogIn(s: ServiceDbSecret, tls: TlsMode): Promise<boolean> {
  let c: mysql.Connection | undefined;
  try {
    c = await mysql.createConnection({ host: s.host, port: s.port, user: s.username, password: s.password, database: s.dbname, connectTimeout: 5000, ...tlsFor(s.host, tls) });
    return true;
  } catch (err) {
    const code = (err as { code?: string }).code;
    // Refused credentials (or, under check, a database not made yet) mean "not in sync"; anything
    // else (network, TLS) is a real failure, reported without the password.
    if (code === 'ER_ACCESS_DENIED_ERROR' || code === 'ER_DBACCESS_DENIED_ERROR' || code === 'ER_BAD_DB_ERROR') return false;
    throw new Error(`could not test ${s.username}'s login at ${s.host}:${s.port}: ${code ?? (err as Error).message}`);
  } finally {
    await c?.end().catch(() => undefined);
  }
}
