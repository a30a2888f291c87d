// Thin helpers for the hand-written SQL of hot paths (conditional updates, multi-row inserts)
// through the service's Sequelize instance: `?` replacements (arrays expand to lists, arrays of
// arrays to VALUES rows), the result rows or the affected-row count, and DATETIME(3) literals.
//
// The statements run on the Sequelize pool's own mysql2 connections (the same credentials,
// rotation hooks, TLS, replicas and transactions) but skip sequelize.query(): its options
// merging, retry wrapper, hooks, a stack-capturing Error and result post-processing per statement
// were about a fifth of the orders and inventory services' CPU per checkout (profiled under
// `npm run bench -- checkout`). What callers see is unchanged: the replacements are inlined by
// Sequelize's own injectReplacements, rows come through the connection's type casting, a failed
// connection attempt refused for its credentials is retried as sequelize.query retries it
// (`retry` in db.ts), and errors are Sequelize's (UniqueConstraintError, DatabaseError …).
import { createRequire } from 'node:module';
import { AccessDeniedError, Transaction, type Sequelize } from 'sequelize';
import type * as SequelizeSql from 'sequelize/lib/utils/sql';

// A CommonJS module whose named exports Node's ESM loader cannot see.
const { injectReplacements } = createRequire(import.meta.url)('sequelize/lib/utils/sql') as typeof SequelizeSql;

export type Params = readonly unknown[];

/** The part of a mysql2 connection (as Sequelize's pool hands it out) these helpers use. */
interface PooledConnection {
  query(options: { sql: string }, callback: (err: Error | null, result: unknown) => void): unknown;
}

interface SequelizeInternals {
  dialect: Parameters<typeof injectReplacements>[1] & {
    Query: new (connection: PooledConnection, sequelize: Sequelize, options: object) => { formatError(err: Error): Error };
  };
  connectionManager: {
    getConnection(options: { type: 'SELECT' | 'write' }): Promise<PooledConnection>;
    releaseConnection(connection: PooledConnection): void;
  };
  options: { retry?: { max?: number; backoffBase?: number; backoffExponent?: number } };
}

const internals = (db: Sequelize): SequelizeInternals => db as unknown as SequelizeInternals;

/** One statement; resolves with mysql2's answer (rows, or the result header of a write). */
async function run(db: Sequelize, sql: string, params: Params, transaction: Transaction | undefined, type: 'SELECT' | 'write'): Promise<unknown> {
  const text = params.length > 0 ? injectReplacements(sql, internals(db).dialect, [...params]) : sql;
  if (transaction) {
    const t = transaction as Transaction & { finished?: string; connection?: PooledConnection };
    if (t.finished || !t.connection) throw Object.assign(new Error(`${t.finished ?? 'nothing'} has been called on this transaction; it can no longer be used`), { sql: text });
    return send(db, t.connection, text);
  }
  const connection = await acquire(db, type);
  try {
    return await send(db, connection, text);
  } finally {
    internals(db).connectionManager.releaseConnection(connection);
  }
}

/** A pooled connection; a connection refused for its credentials is tried again (rotation: db.ts re-reads the secret). */
async function acquire(db: Sequelize, type: 'SELECT' | 'write'): Promise<PooledConnection> {
  const { connectionManager, options } = internals(db);
  const retry = options.retry ?? {};
  for (let attempt = 1; ; attempt++) {
    try {
      return await connectionManager.getConnection({ type });
    } catch (err) {
      if (!(err instanceof AccessDeniedError) || attempt >= (retry.max ?? 1)) throw err;
      await new Promise((r) => setTimeout(r, (retry.backoffBase ?? 100) * (retry.backoffExponent ?? 1.1) ** (attempt - 1)));
    }
  }
}

function send(db: Sequelize, connection: PooledConnection, sql: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    connection.query({ sql }, (err, result) => {
      if (!err) return resolve(result);
      Object.assign(err, { sql });
      reject(new (internals(db).dialect.Query)(connection, db, {}).formatError(err));
    });
  });
}

/** What a Sequelize Transaction holds at run time beyond its typings. */
interface TransactionInternals {
  id: string;
  connection?: PooledConnection & { uuid?: string };
  finished?: string;
  cleanup(): void;
  forceCleanup(): Promise<void>;
  _afterCommitHooks: Array<(t: Transaction) => unknown>;
}

/**
 * Runs fn in a transaction on one pooled connection, like sequelize.transaction(fn) (rolled back
 * when fn throws, the connection destroyed when COMMIT fails), with START TRANSACTION and COMMIT
 * sent like the statements above. fn gets a genuine Sequelize Transaction, so models may use it.
 */
export async function inTransaction<T>(db: Sequelize, fn: (t: Transaction) => Promise<T>): Promise<T> {
  const t = new Transaction(db, {});
  const state = t as unknown as TransactionInternals;
  const connection = (await internals(db).connectionManager.getConnection({ type: 'write' })) as NonNullable<TransactionInternals['connection']>;
  state.connection = connection;
  connection.uuid = state.id;
  let result: T;
  try {
    await send(db, connection, 'START TRANSACTION');
    result = await fn(t);
  } catch (err) {
    await t.rollback().catch(() => undefined);
    throw err;
  }
  try {
    await send(db, connection, 'COMMIT');
    state.cleanup();
  } catch (err) {
    // The outcome is unknown: Sequelize's own commit kills such a connection, and so does this.
    await state.forceCleanup().catch(() => undefined);
    throw err;
  } finally {
    state.finished = 'commit';
    for (const hook of state._afterCommitHooks) await hook(t);
  }
  return result;
}

export async function selectRows<T extends object>(db: Sequelize, sql: string, params: Params = [], transaction?: Transaction): Promise<T[]> {
  return (await run(db, sql, params, transaction, 'SELECT')) as T[];
}

export async function selectOne<T extends object>(db: Sequelize, sql: string, params: Params = [], transaction?: Transaction): Promise<T | undefined> {
  return (await selectRows<T>(db, sql, params, transaction))[0];
}

export interface WriteResult {
  affectedRows: number;
  insertId: number;
}

/** INSERT, UPDATE or DELETE; resolves with mysql2's affected-row count and insert id. */
export async function execute(db: Sequelize, sql: string, params: Params = [], transaction?: Transaction): Promise<WriteResult> {
  const header = (await run(db, sql, params, transaction, 'write')) as { affectedRows: number; insertId: number | string };
  return { affectedRows: header.affectedRows, insertId: Number(header.insertId) };
}

/** A DATETIME(3) literal in UTC (Sequelize's own Date escaping drops the milliseconds). */
export function sqlDateTime(d: Date): string {
  return d.toISOString().replace('T', ' ').slice(0, 23);
}

/** `CASE key WHEN ? THEN ? … END` over key/value pairs, for one UPDATE across several rows. */
export function caseWhen(column: string, pairs: ReadonlyArray<readonly [unknown, unknown]>): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  for (const [k, v] of pairs) params.push(k, v);
  return { sql: `CASE ${column} ${pairs.map(() => 'WHEN ? THEN ?').join(' ')} END`, params };
}

/** MySQL's duplicate-key error (a unique constraint said no). */
export function isDuplicateKey(err: unknown): boolean {
  const e = err as { name?: string; original?: { code?: string }; parent?: { code?: string } };
  return e?.name === 'SequelizeUniqueConstraintError' || (e?.original ?? e?.parent)?.code === 'ER_DUP_ENTRY';
}
