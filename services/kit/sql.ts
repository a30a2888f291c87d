// Thin helpers for the hand-written SQL of hot paths (conditional updates, multi-row inserts)
// through the service's Sequelize instance: `?` replacements (arrays expand to lists, arrays of
// arrays to VALUES rows), the result rows or the affected-row count, and DATETIME(3) literals.
import { QueryTypes, type Sequelize, type Transaction } from 'sequelize';

export type Params = readonly unknown[];

export async function selectRows<T extends object>(db: Sequelize, sql: string, params: Params = [], transaction?: Transaction): Promise<T[]> {
  return db.query<T>(sql, { replacements: [...params], type: QueryTypes.SELECT, raw: true, transaction });
}

export async function selectOne<T extends object>(db: Sequelize, sql: string, params: Params = [], transaction?: Transaction): Promise<T | undefined> {
  return (await selectRows<T>(db, sql, params, transaction))[0];
}

export interface WriteResult {
  affectedRows: number;
  insertId: number;
}

/** INSERT, UPDATE or DELETE; resolves with mysql2's affected-row count (rows matched) and insert id. */
export async function execute(db: Sequelize, sql: string, params: Params = [], transaction?: Transaction): Promise<WriteResult> {
  const [first, second] = (await db.query(sql, { replacements: [...params], type: QueryTypes.RAW, transaction })) as unknown as [unknown, unknown];
  if (typeof first === 'object' && first !== null && 'affectedRows' in first) {
    const header = first as WriteResult;
    return { affectedRows: header.affectedRows, insertId: Number(header.insertId) };
  }
  // Sequelize answers a statement starting with "INSERT INTO" as [insertId, affectedRows].
  return { insertId: Number(first), affectedRows: Number(second) };
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
