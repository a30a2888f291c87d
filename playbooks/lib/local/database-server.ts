// The local target's MySQL server: the one MYSQL_URL (or the inventory's local.mysqlUrl, or
// 127.0.0.1:3306) names when it answers; otherwise a private mariadbd (or mysqld) whose data, socket,
// pid file and log live under <local dir>/mariadb/ — never a system data directory. The private
// server's root password is generated and kept in the secrets file; it listens on 127.0.0.1 only.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';

export interface AdminAddress {
  host: string;
  port: number;
  user: string;
  password: string;
}

export interface PrivateServerRecord {
  port: number;
  pid?: number;
}

export class DatabaseServerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatabaseServerError';
  }
}

/** Where the private server keeps everything. */
export function privateServerDir(localDir: string): string {
  return join(localDir, 'mariadb');
}

const recordFile = (localDir: string) => join(privateServerDir(localDir), 'server.json');
const dataDir = (localDir: string) => join(privateServerDir(localDir), 'data');
const pidFile = (localDir: string) => join(privateServerDir(localDir), 'mysqld.pid');
const logFile = (localDir: string) => join(privateServerDir(localDir), 'mysqld.log');

/** The socket path, moved to the temp folder when the folder's path is too long for a unix socket. */
function socketPath(localDir: string): string {
  const inside = join(privateServerDir(localDir), 'mysqld.sock');
  if (Buffer.byteLength(inside) <= 100) return inside;
  return join(tmpdir(), `saleday-mysqld-${createHash('sha256').update(localDir).digest('hex').slice(0, 16)}.sock`);
}

/** The server a URL names; its password (if any) comes with it. */
export function addressFromUrl(url: string): AdminAddress {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new DatabaseServerError(`MYSQL_URL "${url.replace(/:[^:@/]*@/, ':***@')}" is not a URL: expected mysql://user[:password]@host[:port]`);
  }
  if (u.protocol !== 'mysql:') throw new DatabaseServerError('MYSQL_URL must start with mysql:// (mysql://user[:password]@host[:port])');
  return { host: u.hostname || '127.0.0.1', port: Number(u.port || 3306), user: decodeURIComponent(u.username || 'root'), password: decodeURIComponent(u.password) };
}

export type Probe = { state: 'answers'; version: string } | { state: 'absent'; why: string } | { state: 'refused'; why: string };

/** Whether a server answers at the address: with its version, absent (nothing listens) or refusing us. */
export async function probeServer(a: AdminAddress): Promise<Probe> {
  let c: mysql.Connection | undefined;
  try {
    c = await mysql.createConnection({ host: a.host, port: a.port, user: a.user, password: a.password, connectTimeout: 3000 });
    const [rows] = await c.query<mysql.RowDataPacket[]>('SELECT VERSION() AS v');
    return { state: 'answers', version: String(rows[0]?.v ?? '') };
  } catch (err) {
    const e = err as { code?: string; message: string };
    if (['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'EHOSTUNREACH', 'ECONNRESET', 'PROTOCOL_CONNECTION_LOST'].includes(e.code ?? '')) {
      return { state: 'absent', why: e.code ?? e.message };
    }
    return { state: 'refused', why: e.code === 'ER_ACCESS_DENIED_ERROR' ? `it refused the credentials of ${a.user}` : e.message };
  } finally {
    await c?.end().catch(() => undefined);
  }
}

/** mariadbd or mysqld and its installer, when installed. */
export function serverPrograms(): { daemon: string; installer: string } | undefined {
  const find = (...names: string[]) => {
    for (const name of names) {
      const found = spawnSync('sh', ['-c', `command -v ${name} || ls /usr/sbin/${name} 2>/dev/null`], { encoding: 'utf8' }).stdout.trim().split('\n')[0];
      if (found) return found;
    }
    return undefined;
  };
  const daemon = find('mariadbd', 'mysqld');
  const installer = find('mariadb-install-db', 'mysql_install_db');
  return daemon && installer ? { daemon, installer } : undefined;
}

export async function readPrivateServer(localDir: string): Promise<PrivateServerRecord | undefined> {
  try {
    return JSON.parse(await readFile(recordFile(localDir), 'utf8')) as PrivateServerRecord;
  } catch {
    return undefined;
  }
}

function runningPid(localDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(pidFile(localDir), 'utf8').trim());
    if (!Number.isInteger(pid) || pid < 2) return undefined;
    process.kill(pid, 0);
    const cmd = existsSync(`/proc/${pid}/cmdline`) ? readFileSync(`/proc/${pid}/cmdline`, 'utf8') : 'mysqld';
    return /mariadbd|mysqld/.test(cmd) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** A free TCP port on 127.0.0.1: `preferred` when it is free, else any. */
export async function freePort(preferred?: number): Promise<number> {
  const tryPort = (port: number) =>
    new Promise<number | undefined>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(undefined));
      s.listen(port, '127.0.0.1', () => {
        const a = s.address();
        s.close(() => resolve(typeof a === 'object' && a ? a.port : undefined));
      });
    });
  if (preferred) {
    const p = await tryPort(preferred);
    if (p) return p;
  }
  const p = await tryPort(0);
  if (!p) throw new DatabaseServerError('no free TCP port on 127.0.0.1');
  return p;
}

/**
 * Initialises the private server's data directory (first time only) and starts it, detached, in
 * its own process group so it outlives this run. Resolves with its port once root can log in
 * with an empty password (a fresh install) or `rootPassword`.
 */
export async function startPrivateServer(localDir: string, opts: { timeoutMs?: number } = {}): Promise<{ port: number; pid: number; initialised: boolean }> {
  const programs = serverPrograms();
  if (!programs) throw new DatabaseServerError('neither mariadbd nor mysqld is installed: install mariadb-server (apt-get install mariadb-server) or set MYSQL_URL to a running server');
  const dir = privateServerDir(localDir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const asRoot = process.getuid?.() === 0 ? ['--user=root'] : [];
  let initialised = false;
  if (!existsSync(join(dataDir(localDir), 'mysql'))) {
    await rm(dataDir(localDir), { recursive: true, force: true });
    const install = spawnSync(programs.installer, ['--no-defaults', `--datadir=${dataDir(localDir)}`, '--auth-root-authentication-method=normal', '--skip-test-db', ...asRoot], { encoding: 'utf8' });
    if (install.status !== 0) {
      throw new DatabaseServerError(`${programs.installer} could not initialise ${dataDir(localDir)}: ${(install.stderr || install.stdout).trim().split('\n').slice(-2).join(' ')}`);
    }
    initialised = true;
  }
  const previous = await readPrivateServer(localDir);
  const port = await freePort(previous?.port);
  const log = openSync(logFile(localDir), 'a', 0o600);
  const child = spawn(
    programs.daemon,
    [
      '--no-defaults', `--datadir=${dataDir(localDir)}`, `--port=${port}`, '--bind-address=127.0.0.1', `--socket=${socketPath(localDir)}`,
      `--pid-file=${pidFile(localDir)}`, '--skip-log-bin', '--skip-name-resolve', '--innodb-buffer-pool-size=128M', '--max-connections=400',
      '--character-set-server=utf8mb4', '--collation-server=utf8mb4_bin', ...asRoot,
    ],
    { detached: true, stdio: ['ignore', log, log] },
  );
  closeSync(log);
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = signal ? `killed by ${signal}` : `exit code ${code}`));
  child.unref();
  await writeFile(recordFile(localDir), `${JSON.stringify({ port, pid: child.pid })}\n`, { mode: 0o600 });
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  while (Date.now() < deadline) {
    if (exited) throw new DatabaseServerError(`the private database server stopped at start (${exited}); see ${logFile(localDir)}`);
    const probe = await probeServer({ host: '127.0.0.1', port, user: 'root', password: '' });
    if (probe.state !== 'absent') return { port, pid: child.pid ?? -1, initialised };
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new DatabaseServerError(`the private database server did not answer within ${(opts.timeoutMs ?? 60_000) / 1000} s; see ${logFile(localDir)}`);
}

/** The private server's pid when it runs. */
export function privateServerPid(localDir: string): number | undefined {
  return runningPid(localDir);
}

/** Stops the private server (a clean shutdown) and waits until it is gone; its data stays. */
export async function stopPrivateServer(localDir: string, timeoutMs = 60_000): Promise<number | undefined> {
  const pid = runningPid(localDir);
  if (pid === undefined) return undefined;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      return pid;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  process.kill(pid, 'SIGKILL');
  return pid;
}
