// The service database module: one database and one least-privilege user per service, as the
// bootstrap gives each service on AWS (the same code: bootstrap/database-user.ts): the user may
// read, write and migrate its own schema and nothing else. Passwords are generated into the secrets file (the DB secret shape); a user whose
// password no longer matches the file gets the file's password again, so the file is always the
// truth. The admin connection is used only here; services never see it.
import type mysql from 'mysql2/promise';
import { alternateUserName, ensureDatabaseUser } from '../../bootstrap/database-user.js';
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
  // After a rotation the secret may name the pair's other user (alternateUserName): keep it.
  const pair = [username, alternateUserName(username, username)];
  const secret: DbSecret = {
    engine: 'mysql',
    host: server.host,
    port: server.port,
    username: previous && pair.includes(previous.username) ? previous.username : username,
    password: previous?.password && typeof previous.password === 'string' ? previous.password : generatePassword(),
    dbname,
  };
  if (secrets.set(key, secret)) what.push(previous ? 'secret updated' : 'secret generated');

  // The one database-and-user step the AWS bootstrap runs too; no REQUIRE SSL: this server has no TLS.
  what.push(...(await ensureDatabaseUser(admin, secret, { hosts: userHosts(server.host), requireSsl: false, tls: 'off', check: false })));
  return { secret, what };
}

/**
 * -e rotate=database (or db-<service>): a new password for the user the secret does not name
 * (made with the same grants when missing), then the secret names that user. Running instances
 * keep their connections; new ones log in as the new user once the service has re-read the secret,
 * and until then the old user still logs in: no request fails. The old user's password changes at
 * the rotation after, so rotations must be further apart than the services' re-read interval.
 */
export async function rotateServiceDatabase(args: ServiceDatabaseArgs, api: ServiceDatabaseApi, ctx: TaskContext): Promise<TaskOutcome> {
  const key = dbSecretKey(args.service);
  const current = api.secrets.get<DbSecret>(key);
  const base = serviceUserName(args.project, args.environment, args.service);
  const next = alternateUserName(base, current?.username ?? base);
  if (ctx.check) return changed(`would set a new password for ${next} and switch ${key} to it (the current user keeps working until the next rotation)`);
  if (!args.server || !current) throw new Error(`${key} is not in the secrets file yet: deploy once before rotating`);
  const admin = await api.mysql.connect(args.server.admin);
  try {
    const rotated: DbSecret = { ...current, username: next, password: generatePassword() };
    // ensureDatabaseUser makes the user (same grants) or, its login with the new password refused, sets it.
    await ensureDatabaseUser(admin, rotated, { hosts: userHosts(args.server.admin.host), requireSsl: false, tls: 'off', check: false });
    api.secrets.set(key, rotated);
    await api.secrets.save();
    return changed(`${key}: new password (not shown) for ${next}, now the user in the secret; ${current.username} keeps working until the next rotation`);
  } finally {
    await admin.end().catch(() => undefined);
  }
}
