// A private MariaDB server for tests that need the database to go away and come back (outage,
// restart): its own data directory in a temp dir, a free port on 127.0.0.1, its socket in the
// temp dir, root without a password over TCP. Never the system server; killed at teardown.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import type { TestTap } from './mysql.js';

export interface PrivateMariadb {
  host: string;
  port: number;
  dir: string;
  /** Starts the server (again) on the same port and data; resolves once it answers. */
  start(): Promise<void>;
  /** Stops the server (SIGTERM, a clean shutdown); resolves once the process is gone. */
  stop(): Promise<void>;
  /** A root connection (optionally to a database). */
  connect(database?: string): Promise<mysql.Connection>;
}

function which(...names: string[]): string {
  for (const name of names) {
    const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim();
    if (found) return found;
  }
  throw new Error(`none of ${names.join(', ')} is installed: apt-get install mariadb-server`);
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export async function startPrivateMariadb(t: TestTap): Promise<PrivateMariadb> {
  const daemon = which('mariadbd', 'mysqld');
  const installer = which('mariadb-install-db', 'mysql_install_db');
  const dir = await mkdtemp(join(tmpdir(), 'saleday-mariadb-'));
  const data = join(dir, 'data');
  // mariadbd refuses to run as root unless told to.
  const asUser = process.getuid?.() === 0 ? ['--user=root'] : [];
  const install = spawnSync(installer, ['--no-defaults', `--datadir=${data}`, '--auth-root-authentication-method=normal', '--skip-test-db', ...asUser], { encoding: 'utf8' });
  if (install.status !== 0) throw new Error(`${installer} failed:\n${install.stdout}\n${install.stderr}`);
  const port = await freePort();
  const host = '127.0.0.1';
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let log = '';

  const connect = (database?: string) => mysql.createConnection({ host, port, user: 'root', password: '', database });
  const answers = async () => {
    try {
      const c = await connect();
      await c.query('SELECT 1');
      await c.end();
      return true;
    } catch {
      return false;
    }
  };

  const db: PrivateMariadb = {
    host,
    port,
    dir,
    connect,
    async start() {
      log = '';
      const proc = spawn(daemon, [
        '--no-defaults', `--datadir=${data}`, `--port=${port}`, `--bind-address=${host}`, `--socket=${join(dir, 'mysqld.sock')}`,
        `--pid-file=${join(dir, 'mysqld.pid')}`, '--skip-log-bin', '--skip-name-resolve', '--innodb-buffer-pool-size=32M',
        '--max-connections=200', ...asUser,
      ], { stdio: ['ignore', 'pipe', 'pipe'] });
      child = proc;
      proc.stdout.on('data', (d: Buffer) => (log += d.toString()));
      proc.stderr.on('data', (d: Buffer) => (log += d.toString()));
      exited = new Promise((resolve) => proc.once('exit', () => resolve()));
      const deadline = Date.now() + 60_000;
      while (!(await answers())) {
        if (proc.exitCode !== null) throw new Error(`private mariadbd exited with ${proc.exitCode}:\n${log.slice(-2000)}`);
        if (Date.now() > deadline) throw new Error(`private mariadbd did not answer within 60 s:\n${log.slice(-2000)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async stop() {
      if (child && child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      child = undefined;
    },
  };
  t.teardown(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  });
  await db.start();
  return db;
}
