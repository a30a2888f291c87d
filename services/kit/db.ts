// Sequelize over mysql2. Credentials come from the SecretSource at every new connection: when a
// connection attempt has failed (for instance MySQL refused a rotated password) the next attempt
// fetches the secret again, and queries that failed on "access denied" are retried once that has
// happened. Dead connections after a database restart are dropped by the pool's validation, so
// the service recovers without restarting.
import { AccessDeniedError, QueryTypes, Sequelize, type Options, type Transaction } from 'sequelize';
import type { Logger } from './log.js';
import { inTransaction } from './sql.js';
import { assertDbSecret, type DbSecret, type SecretSource } from './secrets.js';

export type TlsMode = 'auto' | 'on' | 'off';

export interface DatabaseOptions {
  secret: SecretSource;
  poolMax: number;
  poolMin?: number;
  tls?: TlsMode;
  /** Read replica hosts, `host` or `host:port` (same credentials); reads are spread over them, writes go to the primary. */
  readHosts?: string[];
  log?: Logger;
}

export interface Database {
  readonly sequelize: Sequelize;
  /** The database name this service owns. */
  readonly name: string;
  /** true when `SELECT 1` answers within the timeout. */
  ping(timeoutMs?: number): Promise<boolean>;
  /**
   * Runs fn in a transaction, retrying the whole transaction on deadlock, lock wait timeout or a
   * connection that could not be opened (nothing was written in those cases).
   */
  transaction<T>(fn: (t: Transaction) => Promise<T>, opts?: { retries?: number }): Promise<T>;
  close(): Promise<void>;
}

const RDS_HOST = /\.rds\.amazonaws\.com$/i;

export function tlsFor(host: string, mode: TlsMode): Options['dialectOptions'] {
  const useTls = mode === 'on' || (mode === 'auto' && RDS_HOST.test(host));
  if (!useTls) return {};
  // mysql2's built-in Amazon RDS CA bundle verifies the server certificate.
  return RDS_HOST.test(host) ? { ssl: 'Amazon RDS' } : { ssl: { rejectUnauthorized: true } };
}

/** `host`, `host:port` or `[v6]:port` → Sequelize's replica config (the port defaults to the primary's). */
export function readHost(entry: string): { host: string; port?: number } {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry) ?? /^([^:]+)(?::(\d+))?$/.exec(entry);
  if (!m) return { host: entry };
  return m[2] === undefined ? { host: m[1]! } : { host: m[1]!, port: Number(m[2]) };
}

const RETRYABLE_TX = new Set(['ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT']);

export function isRetryableTransactionError(err: unknown): boolean {
  const e = err as { original?: { code?: string }; parent?: { code?: string }; name?: string; code?: string };
  const code = e?.original?.code ?? e?.parent?.code ?? e?.code;
  return (code !== undefined && RETRYABLE_TX.has(code)) || e?.name === 'SequelizeAccessDeniedError';
}

export async function connectDatabase(opts: DatabaseOptions): Promise<Database> {
  const secret: DbSecret = assertDbSecret(await opts.secret.get(), opts.secret.ref);
  let failedAttempts = 0;

  const sequelize = new Sequelize(secret.dbname, secret.username, secret.password, {
    dialect: 'mysql',
    host: secret.host,
    port: secret.port,
    logging: false,
    benchmark: false,
    timezone: '+00:00',
    dialectOptions: { connectTimeout: 5000, ...tlsFor(secret.host, opts.tls ?? 'auto') },
    pool: { max: opts.poolMax, min: opts.poolMin ?? 0, acquire: 5000, idle: 10_000, evict: 1000 },
    ...(opts.readHosts?.length
      ? { replication: { read: opts.readHosts.map(readHost), write: { host: secret.host } } }
      : {}),
    // Only "access denied" is retried here: the connection was refused before any statement ran.
    retry: { max: 3, match: [AccessDeniedError], backoffBase: 50, backoffExponent: 1.5 },
    define: { underscored: true, freezeTableName: true },
    hooks: {
      beforeConnect: async (config) => {
        const source = failedAttempts > 0 ? await opts.secret.refresh() : await opts.secret.get();
        const current = assertDbSecret(source, opts.secret.ref);
        failedAttempts += 1;
        config.username = current.username;
        config.password = current.password;
      },
      afterConnect: () => {
        failedAttempts = 0;
      },
    },
  });

  const db: Database = {
    sequelize,
    name: secret.dbname,
    async ping(timeoutMs = 2000) {
      let timer: NodeJS.Timeout | undefined;
      try {
        return await Promise.race([
          sequelize.query('SELECT 1', { type: QueryTypes.SELECT, raw: true, retry: { max: 1 } }).then(() => true),
          new Promise<boolean>((resolve) => {
            timer = setTimeout(() => resolve(false), timeoutMs);
          }),
        ]);
      } catch {
        return false;
      } finally {
        clearTimeout(timer);
      }
    },
    async transaction(fn, { retries = 5 } = {}) {
      for (let attempt = 0; ; attempt++) {
        try {
          return await inTransaction(sequelize, fn);
        } catch (err) {
          if (attempt >= retries || !isRetryableTransactionError(err)) throw err;
          opts.log?.debug({ attempt, err: (err as Error).name }, 'retrying transaction');
          await new Promise((r) => setTimeout(r, 5 * 2 ** attempt + Math.random() * 10));
        }
      }
    },
    async close() {
      await sequelize.close();
    },
  };
  return db;
}
