// Hot-path reads on plain mysql2 pools, beside Sequelize. Sequelize's connections cast every field
// of every row through a callback (an object and closures per field in mysql2), and its pool
// acquires through promises and a timer per request; on a read that is one row by primary key,
// that allocation is most of the service's own work and, through the garbage collector, most of
// its latency. These pools run prepared statements with mysql2's own parsing.
//
// They follow the database contract like the Sequelize side: credentials from the secret (fetched
// again and the pools rebuilt when MySQL refuses them: rotation), TLS as configured, reads spread
// over DB_READ_HOSTS when set, dead connections after a database restart dropped and the read
// tried again (a read is idempotent), and connection failures surfaced as Sequelize's
// ConnectionError so the API answers 503 as for any other query.
import mysql, { type ExecuteValues, type Pool, type PoolOptions } from 'mysql2';
import { ConnectionError } from 'sequelize';
import { readHost, tlsFor, type TlsMode } from './db.js';
import { assertDbSecret, type SecretSource } from './secrets.js';

export interface RawReaderOptions {
  secret: SecretSource;
  /** Connections per pool (one pool per read host, or one on the primary). */
  poolMax: number;
  tls: TlsMode;
  readHosts: readonly string[];
}

const ATTEMPTS = 3;
const LOST = new Set(['PROTOCOL_CONNECTION_LOST', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'PROTOCOL_SEQUENCE_TIMEOUT']);
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'EAI_AGAIN', 'ER_CON_COUNT_ERROR', 'ER_SERVER_SHUTDOWN']);

type Failure = Error & { code?: string; fatal?: boolean };

const isAccessDenied = (err: Failure): boolean => err.code === 'ER_ACCESS_DENIED_ERROR' || err.code === 'ER_DBACCESS_DENIED_ERROR';
const isLost = (err: Failure): boolean => err.fatal === true || (err.code !== undefined && LOST.has(err.code));

export class RawReader {
  private pools: Pool[] | undefined;
  private building: Promise<Pool[]> | undefined;
  private turn = 0;
  private closed = false;

  constructor(private readonly opts: RawReaderOptions) {}

  /** Runs one prepared statement on a pooled connection and resolves with its rows. */
  rows<T>(sql: string, values: readonly unknown[]): Promise<T[]> {
    // The common case (pools built, the statement answers) takes no extra async step.
    const pools = this.pools;
    if (pools === undefined) return this.attempt(sql, values, 1);
    return execute<T>(this.pick(pools), sql, values).catch((err: unknown) => this.recover<T>(err as Failure, pools, sql, values, 1));
  }

  private pick(pools: Pool[]): Pool {
    return pools[pools.length === 1 ? 0 : (this.turn = (this.turn + 1) % pools.length)]!;
  }

  private async attempt<T>(sql: string, values: readonly unknown[], attempt: number): Promise<T[]> {
    const pools = this.pools ?? (await this.build(false));
    try {
      return await execute<T>(this.pick(pools), sql, values);
    } catch (err) {
      return this.recover<T>(err as Failure, pools, sql, values, attempt);
    }
  }

  private async recover<T>(err: Failure, pools: Pool[], sql: string, values: readonly unknown[], attempt: number): Promise<T[]> {
    // A rotation retired the pool this read was waiting on (queued, or connecting with the old
    // password): mysql2 fails it with "Pool is closed."; the current pools answer it instead.
    if (pools !== this.pools && this.pools !== undefined && !this.closed && attempt < ATTEMPTS) return this.attempt(sql, values, attempt + 1);
    if (isAccessDenied(err) && attempt < ATTEMPTS) {
      // Rotated: fetch the secret again and reconnect with it (once for concurrent readers).
      if (this.pools === pools) await this.build(true);
      else await this.building;
      return this.attempt(sql, values, attempt + 1);
    }
    // mysql2 has dropped the dead connection from its pool; the next attempt opens a new one.
    if (isLost(err) && attempt < ATTEMPTS) return this.attempt(sql, values, attempt + 1);
    if (isLost(err) || isAccessDenied(err) || (err.code !== undefined && UNREACHABLE.has(err.code))) throw new ConnectionError(err);
    throw err;
  }

  async close(): Promise<void> {
    this.closed = true;
    const pools = this.pools ?? (this.building ? await this.building.catch(() => []) : []);
    this.pools = undefined;
    await Promise.all(pools.map((p) => p.promise().end().catch(() => undefined)));
  }

  private build(refresh: boolean): Promise<Pool[]> {
    if (this.building) return this.building;
    const building = (async () => {
        if (this.closed) throw new ConnectionError(new Error('the database connection is closed'));
        const secret = assertDbSecret(refresh ? await this.opts.secret.refresh() : await this.opts.secret.get(), this.opts.secret.ref);
        const hosts = this.opts.readHosts.length ? this.opts.readHosts.map(readHost) : [{ host: secret.host, port: secret.port }];
        const old = this.pools ?? [];
        this.pools = hosts.map(({ host, port }) =>
          mysql.createPool({
            host,
            port: port ?? secret.port,
            user: secret.username,
            password: secret.password,
            database: secret.dbname,
            connectionLimit: this.opts.poolMax,
            connectTimeout: 5000,
            timezone: '+00:00',
            supportBigNumbers: true,
            enableKeepAlive: true,
            idleTimeout: 10_000,
            maxIdle: this.opts.poolMax,
            ...(tlsFor(host, this.opts.tls) as Pick<PoolOptions, 'ssl'>),
          }),
        );
        // Connections still busy on the old credentials finish; the old pools end once they have.
        for (const pool of old) pool.end(() => undefined);
        return this.pools;
    })();
    this.building = building;
    const done = () => {
      if (this.building === building) this.building = undefined;
    };
    building.then(done, done);
    return building;
  }
}

function execute<T>(pool: Pool, sql: string, values: readonly unknown[]): Promise<T[]> {
  return new Promise((resolve, reject) => {
    pool.execute(sql, values as ExecuteValues[], (err, rows) => (err ? reject(err) : resolve(rows as T[])));
  });
}
