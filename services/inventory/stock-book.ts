// Stock levels and their administration: read availability, set on_hand, restock or write off.
// Every change of on_hand writes one audit row (who, when, delta, reason, on_hand after) in the
// same transaction; on_hand can never drop below what is reserved.
import type { Transaction } from 'sequelize';
import type { Database } from '../kit/db.js';
import { badRequest, conflict, notFound } from '../kit/errors.js';
import { execute, selectOne, selectRows } from '../kit/sql.js';
import { MAX_ON_HAND } from './schemas.js';

export interface StockLevel {
  sku: string;
  onHand: number;
  reserved: number;
  available: number;
}

export interface AuditEntry {
  id: string;
  sku: string;
  delta: number;
  onHandAfter: number;
  reason: string;
  actor: string;
  reservationId: string | null;
  createdAt: string;
}

export interface StockChange {
  stock: StockLevel;
  /** undefined when the request changed nothing (setting the level it already had). */
  audit: AuditEntry | undefined;
}

interface StockRow {
  sku: string;
  on_hand: number;
  reserved: number;
}

interface AuditRow {
  id: number | string;
  sku: string;
  delta: number;
  on_hand_after: number;
  reason: string;
  actor: string;
  reservation_id: string | null;
  created_at: Date;
}

export class StockBook {
  constructor(private readonly db: Database) {}

  async level(sku: string): Promise<StockLevel | undefined> {
    const row = await selectOne<StockRow>(this.db.sequelize, 'SELECT sku, on_hand, reserved FROM stock WHERE sku = ?', [sku]);
    return row ? level(row) : undefined;
  }

  /** Sets on_hand (creating the sku's stock row when it has none). */
  async set(sku: string, onHand: number, reason: string, actor: string): Promise<StockChange> {
    return this.db.transaction(async (t) => {
      await execute(this.db.sequelize, 'INSERT INTO stock (sku, on_hand, reserved) VALUES (?, 0, 0) ON DUPLICATE KEY UPDATE sku = sku', [sku], t);
      const row = (await this.lock(sku, t))!;
      return this.change(row, onHand - row.on_hand, reason, actor, t);
    });
  }

  /** Adds `delta` (negative: a write-off) to on_hand of an existing sku. */
  async adjust(sku: string, delta: number, reason: string, actor: string): Promise<StockChange> {
    return this.db.transaction(async (t) => {
      const row = await this.lock(sku, t);
      if (!row) throw notFound(`no stock is recorded for ${sku}; set it first with PUT /api/inventory/stock/${sku}`);
      return this.change(row, delta, reason, actor, t);
    });
  }

  async audit(sku: string, limit: number, before?: string): Promise<{ items: AuditEntry[]; nextCursor: string | null }> {
    const rows = await selectRows<AuditRow>(
      this.db.sequelize,
      `SELECT id, sku, delta, on_hand_after, reason, actor, reservation_id, created_at FROM stock_audit
       WHERE sku = ? ${before ? 'AND id < ?' : ''} ORDER BY id DESC LIMIT ?`,
      before ? [sku, before, limit + 1] : [sku, limit + 1],
    );
    const items = rows.slice(0, limit).map(entry);
    return { items, nextCursor: rows.length > limit ? items[items.length - 1]!.id : null };
  }

  private lock(sku: string, t: Transaction): Promise<StockRow | undefined> {
    return selectOne<StockRow>(this.db.sequelize, 'SELECT sku, on_hand, reserved FROM stock WHERE sku = ? FOR UPDATE', [sku], t);
  }

  private async change(row: StockRow, delta: number, reason: string, actor: string, t: Transaction): Promise<StockChange> {
    const onHand = row.on_hand + delta;
    if (onHand < row.reserved) {
      throw conflict('BELOW_RESERVED', `on hand cannot go below the ${row.reserved} unit(s) reserved for ${row.sku} (asked for ${onHand})`, { reserved: row.reserved });
    }
    if (onHand > MAX_ON_HAND) throw badRequest(`on hand of ${row.sku} would exceed ${MAX_ON_HAND}`, { field: 'delta' });
    if (delta === 0) return { stock: level(row), audit: undefined };
    await execute(this.db.sequelize, 'UPDATE stock SET on_hand = ? WHERE sku = ?', [onHand, row.sku], t);
    const { insertId } = await execute(
      this.db.sequelize,
      'INSERT INTO stock_audit (sku, delta, on_hand_after, reason, actor) VALUES (?, ?, ?, ?, ?)',
      [row.sku, delta, onHand, reason, actor],
      t,
    );
    const audit = await selectOne<AuditRow>(
      this.db.sequelize,
      'SELECT id, sku, delta, on_hand_after, reason, actor, reservation_id, created_at FROM stock_audit WHERE id = ?',
      [insertId],
      t,
    );
    return { stock: level({ ...row, on_hand: onHand }), audit: entry(audit!) };
  }
}

function level(row: StockRow): StockLevel {
  return { sku: row.sku, onHand: row.on_hand, reserved: row.reserved, available: row.on_hand - row.reserved };
}

function entry(row: AuditRow): AuditEntry {
  return {
    id: String(row.id),
    sku: row.sku,
    delta: row.delta,
    onHandAfter: row.on_hand_after,
    reason: row.reason,
    actor: row.actor,
    reservationId: row.reservation_id,
    createdAt: row.created_at.toISOString(),
  };
}
