// The database server module: find the MySQL server the shop uses, or start a private one. The
// private one an earlier deploy started comes first; else the server at the URL when it answers;
// else, when mariadbd or mysqld is installed, a new private server with its data under the local
// folder. A fresh private server's root gets a generated password, kept in the secrets file first
// so a failure half-way is healed by the next deploy. destroy stops the private server; its data
// stays for the next deploy.
import { RefusedError } from '../../errors.js';
import { type TaskContext, type TaskOutcome, changed, ok } from '../../runner.js';
import { type AdminAddress, type MysqlServerApi, addressFromUrl, privateServerDir } from '../mysql-server.js';
import { type SecretsFile, generatePassword } from '../secrets-file.js';

/** The server deploy uses when neither MYSQL_URL nor the inventory names one. */
export const DEFAULT_MYSQL_URL = 'mysql://root@127.0.0.1:3306';

/** The secrets file key of the private server's root account (the DB secret shape). */
export const MYSQL_ADMIN_SECRET = 'mysql-admin';

export interface DatabaseServer {
  admin: AdminAddress;
  private: boolean;
}

export interface DatabaseServerArgs {
  /** The local folder: a private server keeps its data in <dir>/mariadb/. */
  dir: string;
  /** The server to use when no private one was started (MYSQL_URL, else the inventory's). */
  url: string;
}

export interface DatabaseServerApi {
  mysql: MysqlServerApi;
  secrets: SecretsFile;
}

/** The outcome, and the server later tasks use (none under --check when one would be started). */
export interface DatabaseServerFound {
  outcome: TaskOutcome;
  server: DatabaseServer | undefined;
}

export async function ensureDatabaseServer(args: DatabaseServerArgs, api: DatabaseServerApi, ctx: TaskContext): Promise<DatabaseServerFound> {
  const data = privateServerDir(args.dir);
  const record = await api.mysql.privateServer();
  if (record) {
    const rootSecret = api.secrets.get<{ password: string }>(MYSQL_ADMIN_SECRET);
    const admin: AdminAddress = { host: '127.0.0.1', port: record.port, user: 'root', password: rootSecret?.password ?? '' };
    if (rootSecret && api.mysql.privateServerPid() !== undefined && (await api.mysql.probe(admin)).state === 'answers') {
      return { outcome: ok(`private server on 127.0.0.1:${record.port}`), server: { admin, private: true } };
    }
    if (ctx.check) return { outcome: changed(`would start the private server in ${data}`), server: undefined };
    ctx.progress('starting the private database server');
    const started = await startPrivate(args.dir, api);
    return { outcome: changed(`private server started on 127.0.0.1:${started.port}`), server: { admin: started, private: true } };
  }

  const admin = addressFromUrl(args.url);
  const probe = await api.mysql.probe(admin);
  const shown = `${admin.host}:${admin.port}`;
  if (probe.state === 'answers') return { outcome: ok(`${probe.version} at ${shown}`), server: { admin, private: false } };
  if (probe.state === 'refused') {
    throw new RefusedError(`the server at ${shown} answers but ${probe.why}: set MYSQL_URL=mysql://<admin user>:<password>@${shown} (a user that may create databases and users)`);
  }
  if (!api.mysql.canStartPrivate()) {
    throw new RefusedError(`nothing answers at ${shown} (${probe.why}) and neither mariadbd nor mysqld is installed: install mariadb-server (apt-get install mariadb-server) or set MYSQL_URL to a running MySQL 8 / MariaDB server`);
  }
  if (ctx.check) return { outcome: changed(`nothing answers at ${shown}: would start a private server with its data in ${data}`), server: undefined };
  ctx.progress(`nothing answers at ${shown}: starting a private server with its data in ${data}`);
  const started = await startPrivate(args.dir, api);
  return { outcome: changed(`private server started on 127.0.0.1:${started.port} (data in ${data})`), server: { admin: started, private: true } };
}

/** Starts the private server (unless it runs) and returns root's address, securing a fresh root first. */
async function startPrivate(dir: string, api: DatabaseServerApi): Promise<AdminAddress> {
  const running = api.mysql.privateServerPid() !== undefined ? await api.mysql.privateServer() : undefined;
  const port = running?.port ?? (await api.mysql.startPrivate()).port;
  const { secrets } = api;
  const { value } = await secrets.ensure(MYSQL_ADMIN_SECRET, () => ({ engine: 'mysql', host: '127.0.0.1', port, username: 'root', password: generatePassword(), dbname: 'mysql' }));
  secrets.set(MYSQL_ADMIN_SECRET, { ...value, port });
  await secrets.save();
  const admin: AdminAddress = { host: '127.0.0.1', port, user: 'root', password: String(value.password) };
  if ((await api.mysql.probe(admin)).state === 'answers') return admin;
  const fresh = { ...admin, password: '' };
  if ((await api.mysql.probe(fresh)).state !== 'answers') {
    throw new RefusedError(`the private server in ${privateServerDir(dir)} refuses the root password kept in ${secrets.path}; stop it (./playbooks/destroy.mjs) and remove ${privateServerDir(dir)} to start afresh`);
  }
  await api.mysql.secureRoot(fresh, admin.password);
  if ((await api.mysql.probe(admin)).state !== 'answers') throw new RefusedError(`the private server in ${privateServerDir(dir)} does not accept its new root password`);
  return admin;
}

/** destroy: stops the private server when one runs; an external server is left alone. */
export async function stopDatabaseServer(args: { dir: string }, api: Pick<DatabaseServerApi, 'mysql'>, ctx: TaskContext): Promise<TaskOutcome> {
  const pid = api.mysql.privateServerPid();
  if (pid === undefined) return ok((await api.mysql.privateServer()) ? 'not running' : 'none (the shop uses an external server)');
  if (ctx.check) return changed(`would stop pid ${pid}`);
  await api.mysql.stopPrivate();
  return changed(`stopped pid ${pid}; its data stays in ${privateServerDir(args.dir)}`);
}
