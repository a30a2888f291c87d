// A private redis-server for tests that need the shared store to go away and come back: a free
// port on 127.0.0.1, no persistence, its files in a temp dir. Never the machine's Redis on 6379;
// killed at teardown.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { TestTap } from './mysql.js';
import { freePort } from './private-mariadb.js';
import { waitUntil } from './processes.js';

export const REDIS_SERVER = process.env.REDIS_SERVER ?? '/usr/bin/redis-server';

export interface PrivateRedis {
  port: number;
  url: string;
  /** Starts it (again, on the same port); resolves once it answers PING. */
  start(): Promise<void>;
  /** SIGKILL, as a crash; resolves once the process is gone. */
  kill(): Promise<void>;
}

/** Whether a Redis answers PING at the URL (one try, no reconnection). */
export async function redisAnswers(url: string, password?: string): Promise<boolean> {
  const c = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, connectTimeout: 1000, ...(password ? { password } : {}) });
  c.on('error', () => undefined);
  try {
    await c.connect();
    return (await c.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    c.disconnect();
  }
}

export async function startPrivateRedis(t: TestTap): Promise<PrivateRedis> {
  const dir = await mkdtemp(join(tmpdir(), 'saleday-redis-'));
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  let exited: Promise<unknown> = Promise.resolve();
  const kill = async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  };
  const start = async () => {
    child = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
    const c = child;
    exited = new Promise((resolve) => c.once('exit', resolve));
    await waitUntil(async () => {
      if (c.exitCode !== null) throw new Error(`redis-server exited (${c.exitCode}) at start`);
      return redisAnswers(url);
    }, `redis-server on port ${port}`, 15_000, 50);
  };
  t.teardown(async () => {
    await kill();
    await rm(dir, { recursive: true, force: true });
  });
  await start();
  return { port, url, start, kill };
}
