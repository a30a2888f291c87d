// Orders in the database: written PENDING with their lines in one transaction (which also binds
// the idempotency key to the order), then moved on by conditional updates so concurrent actors
// (the checkout, a cancel, the reconciler) each win at most once.
import { randomUUID } from 'node:crypto';
import type { Database } from '../kit/db.js';
import { execute, selectOne, selectRows, sqlDateTime } from '../kit/sql.js';
import type { PricedBasket } from './catalog-prices.js';
import type { HeldReservation } from './inventory-client.js';

export type OrderStatus = 'PENDING' | 'CONFIRMED' | 'CANCELLED' | 'FULFILLED';

export interface OrderLineView {
  sku: string;
  name: string;
  qty: number;
  unitPriceCents: number;
  lineTotalCents: number;
}

export interface OrderView {
  id: string;
  customerId: string;
  status: OrderStatus;
  currency: string;
  totalCents: number;
  lines: OrderLineView[];
  createdAt: string;
  updatedAt: string;
  confirmedAt: string | null;
  cancelledAt: string | null;
  cancelReason: string | null;
}

/** What the saga and the reconciler need beyond the public view. */
export interface OrderRecord extends OrderView {
  seq: string;
  reservationId: string;
}

interface OrderRow {
  seq: number | string;
  id: string;
  customer_id: string;
  status: OrderStatus;
  currency: string;
  total_cents: number | string;
  reservation_id: string;
  cancel_reason: string | null;
  created_at: Date;
  updated_at: Date;
  confirmed_at: Date | null;
  cancelled_at: Date | null;
}

interface LineRow {
  order_id: string;
  sku: string;
  name: string;
  qty: number;
  unit_price_cents: number;
  line_total_cents: number | string;
}

const COLUMNS = 'seq, id, customer_id, status, currency, total_cents, reservation_id, cancel_reason, created_at, updated_at, confirmed_at, cancelled_at';

export class OrderBook {
  constructor(private readonly db: Database) {}

  /**
   * Writes the order PENDING and binds the idempotency key to it, in one transaction. Returns
   * undefined (writing nothing) when this request no longer owns the key.
   */
  async create(
    customerId: string,
    key: { idemKey: string; ownerToken: string },
    basket: PricedBasket,
    reservation: HeldReservation,
  ): Promise<OrderRecord | undefined> {
    const id = randomUUID();
    const sequelize = this.db.sequelize;
    // The timestamps are stamped here and written as given, so the order is answered from what was
    // written, without reading it back.
    const now = new Date();
    const nowSql = sqlDateTime(now);
    let seq = '';
    const created = await this.db.transaction(async (t) => {
      const bound = await execute(
        sequelize,
        'UPDATE idempotency_keys SET order_id = ? WHERE customer_id = ? AND idem_key = ? AND owner_token = ? AND order_id IS NULL',
        [id, customerId, key.idemKey, key.ownerToken],
        t,
      );
      if (bound.affectedRows !== 1) return false;
      const inserted = await execute(
        sequelize,
        `INSERT INTO orders (id, customer_id, status, currency, total_cents, reservation_id, reservation_expires_at, created_at, updated_at)
         VALUES (?, ?, 'PENDING', ?, ?, ?, ?, ?, ?)`,
        [id, customerId, basket.currency, basket.totalCents, reservation.reservationId, sqlDateTime(reservation.expiresAt), nowSql, nowSql],
        t,
      );
      seq = String(inserted.insertId);
      await execute(sequelize, 'INSERT INTO order_lines (order_id, line_no, sku, name, qty, unit_price_cents, line_total_cents) VALUES ?', [
        basket.lines.map((l, i) => [id, i + 1, l.sku, l.name, l.qty, l.unitPriceCents, l.lineTotalCents]),
      ], t);
      return true;
    });
    if (!created) return undefined;
    const at = now.toISOString(); // what DATETIME(3) holds: milliseconds, UTC
    return {
      id,
      customerId,
      status: 'PENDING',
      currency: basket.currency,
      totalCents: basket.totalCents,
      lines: basket.lines.map((l) => ({ sku: l.sku, name: l.name, qty: l.qty, unitPriceCents: l.unitPriceCents, lineTotalCents: l.lineTotalCents })),
      createdAt: at,
      updatedAt: at,
      confirmedAt: null,
      cancelledAt: null,
      cancelReason: null,
      seq,
      reservationId: reservation.reservationId,
    };
  }

  async get(id: string): Promise<OrderRecord | undefined> {
    const row = await selectOne<OrderRow>(this.db.sequelize, `SELECT ${COLUMNS} FROM orders WHERE id = ?`, [id]);
    if (!row) return undefined;
    const [order] = await this.withLines([row]);
    return order;
  }

  /** A customer's orders, newest first, `limit` at a time after the `before` sequence number. */
  async listForCustomer(customerId: string, limit: number, before?: string): Promise<{ items: OrderRecord[]; more: boolean }> {
    const rows = await selectRows<OrderRow>(
      this.db.sequelize,
      `SELECT ${COLUMNS} FROM orders WHERE customer_id = ? ${before ? 'AND seq < ?' : ''} ORDER BY seq DESC LIMIT ?`,
      before ? [customerId, before, limit + 1] : [customerId, limit + 1],
    );
    return { items: await this.withLines(rows.slice(0, limit)), more: rows.length > limit };
  }

  /** PENDING → CONFIRMED; false when the order had already moved on (cancelled meanwhile). */
  async confirm(id: string): Promise<boolean> {
    const r = await execute(this.db.sequelize, "UPDATE orders SET status = 'CONFIRMED', confirmed_at = NOW(3) WHERE id = ? AND status = 'PENDING'", [id]);
    return r.affectedRows === 1;
  }

  /**
   * The checkout's confirm: PENDING → CONFIRMED stamped with this clock, answered from the order as
   * written (no read back); undefined when the order had already moved on.
   */
  async confirmPlaced(order: OrderRecord): Promise<OrderRecord | undefined> {
    const now = new Date();
    const at = sqlDateTime(now);
    const r = await execute(this.db.sequelize, "UPDATE orders SET status = 'CONFIRMED', confirmed_at = ?, updated_at = ? WHERE id = ? AND status = 'PENDING'", [at, at, order.id]);
    if (r.affectedRows !== 1) return undefined;
    const iso = now.toISOString();
    return { ...order, status: 'CONFIRMED', confirmedAt: iso, updatedAt: iso };
  }

  /** PENDING or CONFIRMED → CANCELLED; false when it was neither. */
  async cancel(id: string, reason: string): Promise<boolean> {
    const r = await execute(
      this.db.sequelize,
      "UPDATE orders SET status = 'CANCELLED', cancelled_at = NOW(3), cancel_reason = ? WHERE id = ? AND status IN ('PENDING', 'CONFIRMED')",
      [reason.slice(0, 200), id],
    );
    return r.affectedRows === 1;
  }

  /** PENDING orders whose reservation expired more than `graceSeconds` ago: their checkout stopped half-way. */
  async stalePending(graceSeconds: number, limit: number): Promise<OrderRecord[]> {
    const rows = await selectRows<OrderRow>(
      this.db.sequelize,
      `SELECT ${COLUMNS} FROM orders WHERE status = 'PENDING' AND reservation_expires_at < NOW(3) - INTERVAL ? SECOND ORDER BY reservation_expires_at LIMIT ?`,
      [graceSeconds, limit],
    );
    return this.withLines(rows);
  }

  private async withLines(rows: OrderRow[]): Promise<OrderRecord[]> {
    if (rows.length === 0) return [];
    const lines = await selectRows<LineRow>(
      this.db.sequelize,
      'SELECT order_id, sku, name, qty, unit_price_cents, line_total_cents FROM order_lines WHERE order_id IN (?) ORDER BY order_id, line_no',
      [rows.map((r) => r.id)],
    );
    const byOrder = new Map<string, OrderLineView[]>();
    for (const l of lines) {
      const list = byOrder.get(l.order_id) ?? [];
      list.push({ sku: l.sku, name: l.name, qty: l.qty, unitPriceCents: l.unit_price_cents, lineTotalCents: Number(l.line_total_cents) });
      byOrder.set(l.order_id, list);
    }
    return rows.map((r) => ({
      id: r.id,
      customerId: r.customer_id,
      status: r.status,
      currency: r.currency,
      totalCents: Number(r.total_cents),
      lines: byOrder.get(r.id) ?? [],
      createdAt: r.created_at.toISOString(),
      updatedAt: r.updated_at.toISOString(),
      confirmedAt: r.confirmed_at?.toISOString() ?? null,
      cancelledAt: r.cancelled_at?.toISOString() ?? null,
      cancelReason: r.cancel_reason,
      seq: String(r.seq),
      reservationId: r.reservation_id,
    }));
  }
}

/** The public view (no internal sequence or reservation id). */
export function publicView(o: OrderRecord): OrderView {
  const { seq: _seq, reservationId: _reservation, ...view } = o;
  return view;
}
