// One SecretSource, two backends: `aws:<secret-id>` (Secrets Manager) and `file:<path>#<key>` (a
// local JSON file that only its owner can read). Values are cached; refresh() fetches again, which
// is how a rotated database password reaches a running service. Values never appear in errors.
import { readFile, stat } from 'node:fs/promises';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/** The shape RDS and Secrets Manager rotation use for database credentials. */
export interface DbSecret {
  engine: string;
  host: string;
  port: number;
  username: string;
  password: string;
  dbname: string;
}

export class SecretError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretError';
  }
}

/** The narrow part of the Secrets Manager client we use (so tests can script it). */
export interface SecretsManagerLike {
  send(command: GetSecretValueCommand): Promise<{ SecretString?: string | undefined }>;
}

export type SecretRef = { backend: 'aws'; secretId: string } | { backend: 'file'; path: string; key: string };

export function parseSecretRef(ref: string): SecretRef {
  if (ref.startsWith('aws:') && ref.length > 4) return { backend: 'aws', secretId: ref.slice(4) };
  const m = /^file:([^#]+)#(.+)$/.exec(ref);
  if (m) return { backend: 'file', path: m[1]!, key: m[2]! };
  throw new SecretError(`secret reference must be aws:<secret-id> or file:<path>#<key>`);
}

export function describeRef(ref: SecretRef): string {
  return ref.backend === 'aws' ? `aws:${ref.secretId}` : `file:${ref.path}#${ref.key}`;
}

export interface SecretSourceOptions {
  /** Minimum time between two fetches forced by refresh() (protects Secrets Manager from storms). */
  minRefreshIntervalMs?: number;
  /**
   * After this long a get() still answers from the cache at once but fetches again in the
   * background, so a rotated value reaches a running service without anything failing first
   * (0: never; the value is then refetched only by refresh()).
   */
  maxAgeMs?: number;
  secretsManager?: SecretsManagerLike;
}

/** How often services re-read their secrets by default (SECRETS_REFRESH_SECONDS); rotation waits this long between stages. */
export const DEFAULT_SECRETS_REFRESH_SECONDS = 60;

export class SecretSource<T extends object = Record<string, unknown>> {
  readonly ref: SecretRef;
  private cached: T | undefined;
  private inflight: Promise<T> | undefined;
  private fetchedAt = 0;
  private readonly minRefreshIntervalMs: number;
  private readonly maxAgeMs: number;
  private secretsManager: SecretsManagerLike | undefined;
  private readonly listeners: Array<(value: T) => void> = [];

  constructor(ref: string | SecretRef, opts: SecretSourceOptions = {}) {
    this.ref = typeof ref === 'string' ? parseSecretRef(ref) : ref;
    this.minRefreshIntervalMs = opts.minRefreshIntervalMs ?? (this.ref.backend === 'aws' ? 1000 : 0);
    this.maxAgeMs = opts.maxAgeMs ?? 0;
    this.secretsManager = opts.secretsManager;
  }

  /** The cached value, fetched on first use; a value older than maxAgeMs is fetched again in the background. */
  async get(): Promise<T> {
    if (!this.cached) return this.fetch();
    if (this.maxAgeMs > 0 && !this.inflight && Date.now() - this.fetchedAt >= this.maxAgeMs) {
      // A failed background fetch keeps the cached value (tried again after maxAgeMs).
      this.fetch().catch(() => {
        this.fetchedAt = Date.now();
      });
    }
    return this.cached;
  }

  /** Told every value fetched from then on (a holder of a connection re-authenticates with it). */
  onFetched(listener: (value: T) => void): void {
    this.listeners.push(listener);
  }

  /** The cached value without fetching (undefined before the first fetch). */
  peek(): T | undefined {
    return this.cached;
  }

  /** Fetches again (coalesced with a fetch already under way; rate-limited for AWS). */
  async refresh(): Promise<T> {
    if (this.cached && Date.now() - this.fetchedAt < this.minRefreshIntervalMs) return this.cached;
    return this.fetch();
  }

  private fetch(): Promise<T> {
    this.inflight ??= this.load()
      .then((value) => {
        this.cached = value;
        this.fetchedAt = Date.now();
        for (const l of this.listeners) l(value);
        return value;
      })
      .finally(() => {
        this.inflight = undefined;
      });
    return this.inflight;
  }

  private async load(): Promise<T> {
    const text = this.ref.backend === 'aws' ? await this.loadAws(this.ref.secretId) : await this.loadFile(this.ref.path, this.ref.key);
    let value: unknown;
    try {
      value = typeof text === 'string' ? JSON.parse(text) : text;
    } catch {
      throw new SecretError(`secret ${describeRef(this.ref)} is not valid JSON`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new SecretError(`secret ${describeRef(this.ref)} must be a JSON object`);
    }
    return value as T;
  }

  private async loadAws(secretId: string): Promise<string> {
    this.secretsManager ??= new SecretsManagerClient({});
    let out: { SecretString?: string | undefined };
    try {
      out = await this.secretsManager.send(new GetSecretValueCommand({ SecretId: secretId }));
    } catch (err) {
      const name = (err as { name?: string }).name ?? 'Error';
      throw new SecretError(`could not read secret aws:${secretId} from Secrets Manager (${name})`);
    }
    if (typeof out.SecretString !== 'string') throw new SecretError(`secret aws:${secretId} has no SecretString`);
    return out.SecretString;
  }

  private async loadFile(path: string, key: string): Promise<unknown> {
    let info;
    try {
      info = await stat(path);
    } catch {
      throw new SecretError(`secret file ${path} cannot be read: it does not exist or is not accessible`);
    }
    if ((info.mode & 0o077) !== 0) {
      throw new SecretError(`secret file ${path} is accessible to group or others (mode ${(info.mode & 0o777).toString(8)}): run chmod 600 ${path}`);
    }
    let doc: unknown;
    try {
      doc = JSON.parse(await readFile(path, 'utf8'));
    } catch {
      throw new SecretError(`secret file ${path} is not valid JSON`);
    }
    const entry = (doc as Record<string, unknown>)?.[key];
    if (entry === undefined) throw new SecretError(`secret file ${path} has no key "${key}"`);
    return entry;
  }
}

export function assertDbSecret(value: Record<string, unknown>, ref: SecretRef): DbSecret {
  const missing = ['host', 'username', 'dbname'].filter((k) => typeof value[k] !== 'string' || value[k] === '');
  if (typeof value.password !== 'string') missing.push('password');
  const port = value.port === undefined ? 3306 : Number(value.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) missing.push('port');
  if (missing.length) {
    throw new SecretError(`secret ${describeRef(ref)} is not a database secret: ${missing.join(', ')} missing or invalid`);
  }
  return {
    engine: typeof value.engine === 'string' ? value.engine : 'mysql',
    host: value.host as string,
    port,
    username: value.username as string,
    password: value.password as string,
    dbname: value.dbname as string,
  };
}
