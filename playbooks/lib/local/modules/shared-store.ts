// The shared store module: the Redis the services' fleet-wide counters live in (REDIS_URL of a
// service that declares a shared store). A private redis-server an earlier deploy started comes
// first; else the machine's Redis at 127.0.0.1:6379 when it answers PING; else a new private
// redis-server under the local folder (its password, when the secrets file holds `redis-auth`,
// from there). destroy stops the private one; the machine's is left alone.
import { RefusedError } from '../../errors.js';
import { type TaskContext, type TaskOutcome, changed, ok } from '../../runner.js';
import { MACHINE_REDIS, type RedisServerApi, privateRedisDir } from '../redis-server.js';
import type { SecretsFile } from '../secrets-file.js';

/** The secrets file key of the store's password {authToken} (the shared secret's name on AWS). */
export const REDIS_AUTH_KEY = 'redis-auth';

export interface SharedStoreFound {
  outcome: TaskOutcome;
  /** REDIS_URL for the services (undefined under --check when a server would be started). */
  url: string | undefined;
}

export async function ensureSharedStore(args: { dir: string }, api: { redis: RedisServerApi; secrets: SecretsFile }, ctx: TaskContext): Promise<SharedStoreFound> {
  const token = api.secrets.get<{ authToken?: unknown }>(REDIS_AUTH_KEY)?.authToken;
  const password = typeof token === 'string' && token !== '' ? token : undefined;
  const previous = await api.redis.choice();
  const privatePid = api.redis.privatePid();
  if (previous?.private && privatePid !== undefined) {
    const port = Number(new URL(previous.url).port);
    if ((await api.redis.probe('127.0.0.1', port, password)) === 'answers') return { outcome: ok(`private redis-server (pid ${privatePid}) on 127.0.0.1:${port}`), url: previous.url };
  }
  const machine = `redis://${MACHINE_REDIS.host}:${MACHINE_REDIS.port}`;
  const shown = `${MACHINE_REDIS.host}:${MACHINE_REDIS.port}`;
  let probe = await api.redis.probe(MACHINE_REDIS.host, MACHINE_REDIS.port);
  if (probe === 'refused' && password) probe = await api.redis.probe(MACHINE_REDIS.host, MACHINE_REDIS.port, password);
  if (probe === 'answers') {
    if (ctx.check) return { outcome: ok(`the machine's Redis at ${shown}`), url: machine };
    const changedChoice = previous?.url !== machine;
    await api.redis.choose({ url: machine, private: false });
    return { outcome: changedChoice ? changed(`the machine's Redis at ${shown}`) : ok(`the machine's Redis at ${shown}`), url: machine };
  }
  const why = probe === 'refused' ? `the Redis at ${shown} wants a password this shop does not have` : `nothing answers at ${shown}`;
  const dir = privateRedisDir(args.dir);
  if (!api.redis.canStartPrivate()) {
    throw new RefusedError(`${why} and redis-server is not installed: install it (apt-get install redis-server) or start a Redis on ${shown}`);
  }
  if (ctx.check) return { outcome: changed(`${why}: would start a private redis-server in ${dir}`), url: undefined };
  ctx.progress(`${why}: starting a private redis-server in ${dir}`);
  const started = await api.redis.startPrivate(password);
  const url = `redis://127.0.0.1:${started.port}`;
  await api.redis.choose({ url, private: true });
  return { outcome: changed(`private redis-server (pid ${started.pid}) on 127.0.0.1:${started.port}${password ? ', with the password from the secrets file' : ''}`), url };
}

/** destroy: stops the private redis-server when one runs; the machine's Redis is left alone. */
export async function stopSharedStore(api: { redis: Pick<RedisServerApi, 'privatePid' | 'stopPrivate' | 'choice'> }, ctx: TaskContext): Promise<TaskOutcome> {
  const pid = api.redis.privatePid();
  if (pid === undefined) return ok((await api.redis.choice())?.private === false ? "none (the shop uses the machine's Redis)" : 'not running');
  if (ctx.check) return changed(`would stop pid ${pid}`);
  await api.redis.stopPrivate();
  return changed(`stopped pid ${pid}`);
}

/** The status line: which store the counters use. */
export async function sharedStoreLine(api: { redis: Pick<RedisServerApi, 'privatePid' | 'choice'> }): Promise<string | undefined> {
  const choice = await api.redis.choice();
  if (!choice) return undefined;
  if (!choice.private) return `shared store: the machine's Redis at ${choice.url.replace(/^redis:\/\//, '')}`;
  const pid = api.redis.privatePid();
  return `shared store: private redis-server ${pid ? `running (pid ${pid})` : 'stopped'} on ${choice.url.replace(/^redis:\/\//, '')}`;
}
