// The service database module: one database and one least-privilege user per service, as the
// database stack gives each service on AWS: the user may read, write and migrate its own schema and
// nothing else. Passwords are generated into the secrets file (the DB secret shape); a user whose
// password no longer matches the file gets the file's password again, so the file is always the
// truth. The admin connection is used only here; services never see it.
import mysql from 'mysql2/promise';
import { type TaskContext, type TaskOutcome, changed, ok, skipped } from '../../runner.js';
import type { AdminAddress, MysqlServerApi } from '../mysql-server.js';
import { type SecretsFile, dbSecretKey, generatePassword } from '../secrets-file.js';
import type { DatabaseServer } from './database-server.js';

export interface DbSecret extends Record<string, unknown> {
  engine: 'mysql';
  host: string;
  port: number;
  username: string;
  password: string;
  dbname: string;
}

/** What a service may do in its own schema: data, and the DDL its migrations run. */
export const SERVICE_PRIVILEGES = 'SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, DROP, INDEX, REFERENCES, CREATE TEMPORARY TABLES, LOCK TABLES';

const ident = (s: string) => s.replace(/[^a-z0-9_]/g, '_');

export function serviceDatabaseName(project: string, environment: string, service: string): string {
  return ident(`${project}_${environment}_${service}`).slice(0, 64);
}

/** MySQL 8 allows 32 characters in a user name. */
export function serviceUserName(project: string, environment: string, service: string): string {
  return ident(`${project}_${environment}_${service}`).slice(0, 32);
}

/** The hosts a user is created for: the loopback names for a server on this machine, any host otherwise. */
export function userHosts(serverHost: string): string[] {
  return ['127.0.0.1', 'localhost', '::1'].includes(serverHost) ? ['localhost', '127.0.0.1'] : ['%'];
}

export interface ServiceDatabaseArgs {
  project: string;
  environment: string;
  service: string;
  /** Found by the database server module; none under --check when it would start one. */
  server: DatabaseServer | undefined;
}

export interface ServiceDatabaseApi {
  mysql: Pick<MysqlServerApi, 'connect'>;
  secrets: SecretsFile;
}

export async function ensureServiceDatabase(args: ServiceDatabaseArgs, api: ServiceDatabaseApi, ctx: TaskContext): Promise<TaskOutcome> {
  if (!args.server) return skipped('no database server yet (--check)');
  if (ctx.check) return ok(`would make sure ${args.service}'s database, user and grants exist`);
  const admin = await api.mysql.connect(args.server.admin);
  try {
    const r = await converge(admin, args.server.admin, api.secrets, args);
    await api.secrets.save();
    const what = `${r.secret.dbname} as ${r.secret.username}`;
    return r.what.length ? changed(`${what}: ${r.what.join(', ')}`) : ok(what);
  } finally {
    await admin.end().catch(() => undefined);
  }
}

/** Makes the service's database, user, grants and secret exist and agree; says what it changed. */
async function converge(
  admin: mysql.Connection,
  server: AdminAddress,
  secrets: SecretsFile,
  names: { project: string; environment: string; service: string },
): Promise<{ secret: DbSecret; what: string[] }> {
  const dbname = serviceDatabaseName(names.project, names.environment, names.service);
  const username = serviceUserName(names.project, names.environment, names.service);
  const key = dbSecretKey(names.service);
  const what: string[] = [];
  const previous = secrets.get<DbSecret>(key);
  const secret: DbSecret = {
    engine: 'mysql',
    host: server.host,
    port: server.port,
    username,
    password: previous?.password && typeof previous.password === 'string' ? previous.password : generatePassword(),
    dbname,
  };
  if (secrets.set(key, secret)) what.push(previous ? 'secret updated' : 'secret generated');

  const [dbs] = await admin.query<mysql.RowDataPacket[]>('SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [dbname]);
  if (dbs.length === 0) {
    await admin.query(`CREATE DATABASE IF NOT EXISTS \`${dbname}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
    what.push(`database ${dbname} created`);
  }
  for (const host of userHosts(server.host)) {
    const [users] = await admin.query<mysql.RowDataPacket[]>('SELECT User FROM mysql.user WHERE User = ? AND Host = ?', [username, host]);
    if (users.length === 0) {
      await admin.query('CREATE USER ?@? IDENTIFIED BY ?', [username, host, secret.password]);
      what.push(`user ${username}@${host} created`);
    }
    await admin.query(`GRANT ${SERVICE_PRIVILEGES} ON \`${dbname}\`.* TO ?@?`, [username, host]);
  }
  if (!(await canLogIn(secret))) {
    for (const host of userHosts(server.host)) await admin.query('ALTER USER ?@? IDENTIFIED BY ?', [username, host, secret.password]);
    if (!(await canLogIn(secret))) throw new Error(`${username} still cannot log in to ${server.host}:${server.port} after its password was set`);
    what.push(`password of ${username} set from the secrets file`);
  }
  return { secret, what };
}

async function canLogIn(s: DbSecret): Promise<boolean> {
  try {
    const c = await mysql.createConnection({ host: s.host, port: s.port, user: s.username, password: s.password, database: s.dbname, connectTimeout: 3000 });
    await c.end();
    return true;
  } catch {
    return false;
  }
}
