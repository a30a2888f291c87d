// The local target's shared store (the counters users throttles with), the narrow API its module
// uses: the machine's Redis at 127.0.0.1:6379 when it answers PING; otherwise a private
// redis-server (Debian's /usr/bin/redis-server) whose config, pid file and log live under
// <local dir>/redis/, listening on 127.0.0.1 only, with no persistence (counters last minutes) and
// `requirepass` from the secrets file's `redis-auth` key when there is one. The config file (0600)
// holds the password, so it never shows in a process list. `stopPrivateRedis` is all destroy needs.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { endProcesses, freePort, minimalEnv, shopMarker, startTimeOf } from '../../../localcloud/index.js';

/** The machine's Redis, used when it answers. */
export const MACHINE_REDIS = { host: '127.0.0.1', port: 6379 } as const;
/** Debian's redis-server (REDIS_SERVER moves it, for other systems). */
export const REDIS_SERVER_PROGRAM = '/usr/bin/redis-server';

/** The store a deploy chose: where it is (never its password) and whether it is the private one. */
export interface StoreChoice {
  url: string;
  private: boolean;
}

export class RedisServerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedisServerError';
  }
}

export function privateRedisDir(localDir: string): string {
  return join(localDir, 'redis');
}
const choiceFile = (localDir: string) => join(privateRedisDir(localDir), 'store.json');
const configFile = (localDir: string) => join(privateRedisDir(localDir), 'redis.conf');
const pidFile = (localDir: string) => join(privateRedisDir(localDir), 'redis.pid');
const logFile = (localDir: string) => join(privateRedisDir(localDir), 'redis.log');

export type RedisProbe = 'answers' | 'absent' | 'refused';

/** Whether a Redis answers PING at host:port (with `password` when given): one try, no reconnection. */
export async function probeRedis(host: string, port: number, password?: string): Promise<RedisProbe> {
  const c = new Redis({ host, port, lazyConnect: true, enableReadyCheck: false, retryStrategy: () => null, maxRetriesPerRequest: 0, connectTimeout: 2000, ...(password ? { password } : {}) });
  c.on('error', () => undefined);
  try {
    await c.connect();
    return (await c.ping()) === 'PONG' ? 'answers' : 'refused';
  } catch (err) {
    return /NOAUTH|WRONGPASS|invalid password|DENIED/i.test((err as Error).message) ? 'refused' : 'absent';
  } finally {
    c.disconnect();
  }
}

export function redisServerProgram(): string | undefined {
  const program = process.env.REDIS_SERVER ?? REDIS_SERVER_PROGRAM;
  return existsSync(program) ? program : undefined;
}

export async function readStoreChoice(localDir: string): Promise<StoreChoice | undefined> {
  try {
    return JSON.parse(await readFile(choiceFile(localDir), 'utf8')) as StoreChoice;
  } catch {
    return undefined;
  }
}

export async function writeStoreChoice(localDir: string, choice: StoreChoice): Promise<void> {
  await mkdir(privateRedisDir(localDir), { recursive: true, mode: 0o700 });
  await writeFile(choiceFile(localDir), `${JSON.stringify(choice)}\n`, { mode: 0o600 });
}

/** The private server's pid while it runs (the pid file names a live redis-server). */
export function privateRedisPid(localDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(pidFile(localDir), 'utf8').trim());
    if (!Number.isInteger(pid) || pid < 2) return undefined;
    process.kill(pid, 0);
    const cmd = existsSync(`/proc/${pid}/cmdline`) ? readFileSync(`/proc/${pid}/cmdline`, 'utf8') : 'redis-server';
    return /redis-server/.test(cmd) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The port the private server was given (its config), whether or not it runs. */
async function configuredPort(localDir: string): Promise<number | undefined> {
  try {
    const m = /^port (\d+)$/m.exec(await readFile(configFile(localDir), 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Starts the private redis-server (or finds it running), detached in its own process group so it
 * outlives this run, with the minimal environment; resolves with its port once it answers PING.
 */
export async function startPrivateRedis(localDir: string, opts: { password?: string | undefined; timeoutMs?: number } = {}): Promise<{ port: number; pid: number }> {
  const program = redisServerProgram();
  if (!program) throw new RedisServerError(`${process.env.REDIS_SERVER ?? REDIS_SERVER_PROGRAM} is not installed: install redis-server (apt-get install redis-server) or start a Redis on 127.0.0.1:6379`);
  const dir = privateRedisDir(localDir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const previous = await configuredPort(localDir);
  const running = privateRedisPid(localDir);
  if (running !== undefined && previous !== undefined && (await probeRedis('127.0.0.1', previous, opts.password)) === 'answers') return { port: previous, pid: running };
  const port = await freePort('127.0.0.1', previous);
  const config = [
    `port ${port}`,
    'bind 127.0.0.1',
    'protected-mode yes',
    // Counters live minutes: nothing is written to disk.
    'save ""',
    'appendonly no',
    `dir ${dir}`,
    `pidfile ${pidFile(localDir)}`,
    `logfile ${logFile(localDir)}`,
    'daemonize no',
    ...(opts.password ? [`requirepass ${opts.password}`] : []),
  ].join('\n');
  await writeFile(configFile(localDir), `${config}\n`, { mode: 0o600 });
  const out = openSync(logFile(localDir), 'a', 0o600);
  const child = spawn(program, [configFile(localDir)], { detached: true, env: minimalEnv(shopMarker(resolve(localDir), 'cache')), stdio: ['ignore', out, out] });
  closeSync(out);
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = signal ? `killed by ${signal}` : `exit code ${code}`));
  child.unref();
  const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
  while (Date.now() < deadline) {
    if (exited) throw new RedisServerError(`the private redis-server stopped at start (${exited}); see ${logFile(localDir)}`);
    if ((await probeRedis('127.0.0.1', port, opts.password)) === 'answers') return { port, pid: child.pid ?? -1 };
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new RedisServerError(`the private redis-server did not answer within ${(opts.timeoutMs ?? 20_000) / 1000} s; see ${logFile(localDir)}`);
}

/** Stops the private redis-server (SIGTERM, SIGKILL if it overstays) and waits until it is gone; its pid, or undefined when none ran. */
export async function stopPrivateRedis(localDir: string, timeoutMs = 10_000): Promise<number | undefined> {
  const pid = privateRedisPid(localDir);
  if (pid === undefined) return undefined;
  await endProcesses([{ pid, startTime: startTimeOf(pid) }], timeoutMs);
  return pid;
}

/** What the shared store module does, for one local folder. */
export interface RedisServerApi {
  probe(host: string, port: number, password?: string): Promise<RedisProbe>;
  canStartPrivate(): boolean;
  startPrivate(password: string | undefined): Promise<{ port: number; pid: number }>;
  stopPrivate(): Promise<number | undefined>;
  privatePid(): number | undefined;
  choice(): Promise<StoreChoice | undefined>;
  choose(choice: StoreChoice): Promise<void>;
}

export function redisServerApi(localDir: string): RedisServerApi {
  return {
    probe: probeRedis,
    canStartPrivate: () => redisServerProgram() !== undefined,
    startPrivate: (password) => startPrivateRedis(localDir, { password }),
    stopPrivate: () => stopPrivateRedis(localDir),
    privatePid: () => privateRedisPid(localDir),
    choice: () => readStoreChoice(localDir),
    choose: (choice) => writeStoreChoice(localDir, choice),
  };
}
