// The store every instance of a service shares for counters (login and registration throttling):
// Redis, named by REDIS_URL (redis://host:port[/db], rediss:// for TLS), its password optionally
// from a secret reference {authToken} (REDIS_AUTH_SECRET). Without REDIS_URL there is no shared
// store and limits are per instance. The store may come and go: commands fail at once while it is
// unreachable (no offline queue, a short command timeout) so callers fall back to their own
// per-instance limits, the client reconnects by itself, and each change of state is logged once.
import { Redis, type RedisOptions } from 'ioredis';
import { ConfigError, optionalStr, secretRef, str, type Env } from './config.js';
import type { Logger } from './log.js';
import { SecretError, describeRef, type SecretSource } from './secrets.js';

export interface SharedStoreConfig {
  /** REDIS_URL; undefined: no shared store. */
  url: string | undefined;
  /** REDIS_AUTH_SECRET: a secret reference to {authToken}. */
  authSecret: string | undefined;
  /** REDIS_KEY_PREFIX: every key starts with it, so environments (and tests) sharing a Redis stay apart. */
  keyPrefix: string;
}

export function readSharedStoreConfig(env: Env): SharedStoreConfig {
  const url = optionalStr(env, 'REDIS_URL');
  if (url !== undefined) {
    let u: URL | undefined;
    try {
      u = new URL(url);
    } catch {
      u = undefined;
    }
    if (!u || !['redis:', 'rediss:'].includes(u.protocol) || !u.hostname || !/^(\/\d{0,2})?$/.test(u.pathname)) {
      // The URL itself never goes into the message: it may carry a password.
      throw new ConfigError('REDIS_URL', 'redis://host:port[/db] or rediss://host:port[/db] (TLS)', u ? `${u.protocol}//…` : '(not a URL)');
    }
  }
  return {
    url,
    authSecret: env.REDIS_AUTH_SECRET === undefined || env.REDIS_AUTH_SECRET.trim() === '' ? undefined : secretRef(env, 'REDIS_AUTH_SECRET'),
    keyPrefix: str(env, 'REDIS_KEY_PREFIX', { default: 'saleday:', pattern: /^[A-Za-z0-9:._-]{1,100}$/, expected: 'letters, digits and : . _ - (at most 100)' }),
  };
}

export type SharedStoreState = 'connecting' | 'connected' | 'unreachable';

/** What /readyz and the logs say about the store. */
export interface SharedStoreStatus {
  store: 'redis' | 'none';
  state: SharedStoreState | 'not configured';
  /** Whether limits are fleet-wide right now. */
  shared: boolean;
  message: string;
}

/** How long a command may wait before the caller falls back (a hung Redis must not hold logins). */
const COMMAND_TIMEOUT_MS = 1000;
/** How long start-up waits for the store before it starts with per-instance limits. */
const START_WAIT_MS = 3000;
/** How often the AUTH token's source is asked for its value (it fetches when its refresh is due). */
const TOKEN_TICK_MS = 500;

export class SharedStore {
  private current: SharedStoreState = 'connecting';
  private lastError: string | undefined;
  private closing = false;
  private tokenTicker: NodeJS.Timeout | undefined;

  private constructor(
    readonly client: Redis,
    readonly keyPrefix: string,
    private readonly log: Logger,
    private readonly where: string,
  ) {
    client.on('ready', () => this.transition('connected'));
    client.on('error', (err: Error & { code?: string }) => {
      this.lastError = err.code ?? err.name;
      // ioredis emits an error per failed reconnection attempt: the state change is logged once.
      if (this.current !== 'connected') this.transition('unreachable');
    });
    client.on('close', () => {
      if (this.current === 'connected') this.transition('unreachable');
    });
  }

  /**
   * Connects (without waiting longer than a few seconds: a service starts with per-instance limits
   * rather than not at all) and keeps reconnecting in the background.
   */
  static async connect(cfg: SharedStoreConfig & { url: string }, log: Logger, secret: (ref: string) => SecretSource): Promise<SharedStore> {
    const u = new URL(cfg.url);
    const where = `${u.protocol}//${u.hostname}:${u.port || 6379}${u.pathname.length > 1 ? u.pathname : ''}`;
    const auth = cfg.authSecret === undefined ? undefined : secret(cfg.authSecret);
    const password = auth ? await authToken(auth) : undefined;
    const options: RedisOptions = {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: COMMAND_TIMEOUT_MS,
      connectTimeout: 2000,
      // Reconnect for ever, at most every 2 s.
      retryStrategy: (times) => Math.min(100 * times, 2000),
      lazyConnect: true,
      ...(password !== undefined ? { password } : {}),
      ...(u.protocol === 'rediss:' ? { tls: { servername: u.hostname } } : {}),
    };
    const client = new Redis(cfg.url, options);
    const store = new SharedStore(client, cfg.keyPrefix, log, where);
    if (auth) {
      // A rotated auth token: every value read from then on is the one the next (re)connection
      // presents. The rotation adds the new token to the server before it reaches the secret and
      // drops the old one only after every instance had time to re-read it (SECRETS_REFRESH_SECONDS),
      // so the source is read on a short tick (answered from its cache until its refresh is due).
      auth.onFetched((v) => {
        const token = (v as { authToken?: unknown }).authToken;
        if (typeof token === 'string' && token !== '') client.options.password = token;
      });
      store.tokenTicker = setInterval(() => void auth.get().catch(() => undefined), TOKEN_TICK_MS);
      store.tokenTicker.unref();
      client.on('error', (err: Error) => {
        if (/WRONGPASS|NOAUTH|invalid password/i.test(err.message)) void auth.refresh().catch(() => undefined);
      });
    }
    client.connect().catch(() => undefined);
    await store.waitUntilSettled(START_WAIT_MS);
    if (store.current === 'connecting') store.transition('unreachable');
    return store;
  }

  get state(): SharedStoreState {
    return this.current;
  }

  status(): SharedStoreStatus {
    const shared = this.current === 'connected';
    return {
      store: 'redis',
      state: this.current,
      shared,
      message: shared
        ? `limits are shared through ${this.where}`
        : `${this.where} is unreachable${this.lastError ? ` (${this.lastError})` : ''}: limits are per instance until it is back`,
    };
  }

  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.tokenTicker);
    this.client.removeAllListeners('error');
    this.client.on('error', () => undefined);
    await this.client.quit().catch(() => this.client.disconnect());
  }

  private transition(next: SharedStoreState): void {
    if (next === this.current || this.closing) return;
    this.current = next;
    if (next === 'connected') this.log.info({ store: this.where }, 'shared store connected: limits are fleet-wide');
    else if (next === 'unreachable') this.log.warn({ store: this.where, reason: this.lastError }, 'shared store unreachable: limits are per instance until it is back');
  }

  /** Until connected, refused (no need to wait out a refusal) or `ms` have passed. */
  private waitUntilSettled(ms: number): Promise<void> {
    if (this.current !== 'connecting') return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.client.off('ready', done);
        this.client.off('error', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      this.client.on('ready', done);
      this.client.on('error', done);
    });
  }
}

/** The status when no REDIS_URL is set. */
export const NO_SHARED_STORE: SharedStoreStatus = {
  store: 'none',
  state: 'not configured',
  shared: false,
  message: 'REDIS_URL is not set: limits are per instance',
};

async function authToken(source: SecretSource): Promise<string> {
  const value = (await source.get()) as { authToken?: unknown };
  if (typeof value.authToken !== 'string' || value.authToken === '') {
    throw new SecretError(`secret ${describeRef(source.ref)} has no authToken (REDIS_AUTH_SECRET names a secret {"authToken": "<token>"})`);
  }
  return value.authToken;
}
