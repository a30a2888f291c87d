// What happens to a reservation after it is held: commit (the units are sold and leave on_hand),
// release (the units are free again; after a commit, they return to on_hand), expiry (the sweeper
// or a late commit finds it past its time). Every path locks the reservation row first and then
// its stock rows in sku order, so these transactions and the reservation batches cannot deadlock
// each other. Each transition is conditional on the current status, which makes commit and
// release idempotent and lets any number of instances sweep at once.
import type { Transaction } from 'sequelize';
import type { Database } from '../kit/db.js';
import { caseWhen, execute, selectOne, selectRows, sqlDateTime } from '../kit/sql.js';
import type { Line } from './reservation-batcher.js';

export type ReservationStatus = 'HELD' | 'COMMITTED' | 'RELEASED' | 'EXPIRED';

export interface ReservationView {
  reservationId: string;
  status: ReservationStatus;
  expiresAt: string;
  createdAt: string;
  settledAt: string | null;
  items: Line[];
}

export type CommitResult =
  | { committed: true; reservation: ReservationView }
  /** RELEASED or EXPIRED: the units are no longer held and cannot be sold through this reservation. */
  | { committed: false; reservation: ReservationView };

interface Row {
  id: string;
  status: ReservationStatus;
  expires_at: Date;
  created_at: Date;
  settled_at: Date | null;
  expired: number;
  now: Date;
}

type Movement = 'unreserve' | 'sell' | 'return';

export class ReservationLedger {
  constructor(private readonly db: Database) {}

  async get(id: string): Promise<ReservationView | undefined> {
    const row = await selectOne<Row>(this.db.sequelize, 'SELECT id, status, expires_at, created_at, settled_at, 0 AS expired, NOW(3) AS now FROM reservations WHERE id = ?', [id]);
    return row ? view(row, await this.items(id)) : undefined;
  }

  /** Sells the held units. Repeating a commit answers the same; a released or expired reservation is refused. */
  async commit(id: string): Promise<CommitResult | undefined> {
    return this.db.transaction(async (t) => {
      const row = await this.lock(id, t);
      if (!row) return undefined;
      const items = await this.items(id, t);
      if (row.status === 'HELD' && row.expired) {
        await this.settle(row, items, 'EXPIRED', 'unreserve', t);
        return { committed: false, reservation: view({ ...row, status: 'EXPIRED' }, items) };
      }
      if (row.status === 'HELD') {
        await this.settle(row, items, 'COMMITTED', 'sell', t);
        return { committed: true, reservation: view({ ...row, status: 'COMMITTED' }, items) };
      }
      return { committed: row.status === 'COMMITTED', reservation: view(row, items) };
    });
  }

  /**
   * Commits several reservations in one transaction (group commit): for each id the answer
   * commit() would give (undefined: no such reservation), with one locking read, one stock UPDATE
   * and one log flush for the lot. Rows are locked in id order and stock in sku order, as
   * everywhere else, so batches cannot deadlock each other or the other paths.
   */
  async commitMany(ids: readonly string[]): Promise<Array<CommitResult | undefined>> {
    if (ids.length === 1) return [await this.commit(ids[0]!)];
    const sequelize = this.db.sequelize;
    const answers = await this.db.transaction(async (t) => {
      const rows = await selectRows<Row>(
        sequelize,
        'SELECT id, status, expires_at, created_at, settled_at, expires_at <= NOW(3) AS expired, NOW(3) AS now FROM reservations WHERE id IN (?) ORDER BY id FOR UPDATE',
        [[...new Set(ids)].sort()],
        t,
      );
      const out = new Map<string, CommitResult>();
      if (rows.length === 0) return out;
      const itemsOf = new Map<string, Line[]>();
      for (const i of await selectRows<Line & { reservation_id: string }>(
        sequelize,
        'SELECT reservation_id, sku, qty FROM reservation_items WHERE reservation_id IN (?) ORDER BY reservation_id, sku',
        [rows.map((r) => r.id)],
        t,
      )) {
        const list = itemsOf.get(i.reservation_id) ?? [];
        list.push({ sku: i.sku, qty: Number(i.qty) });
        itemsOf.set(i.reservation_id, list);
      }
      const sold: Row[] = [];
      const expired: Row[] = [];
      const sell = new Map<string, number>();
      const unreserve = new Map<string, number>();
      for (const row of rows) {
        const items = itemsOf.get(row.id) ?? [];
        if (row.status !== 'HELD') {
          out.set(row.id, { committed: row.status === 'COMMITTED', reservation: view(row, items) });
          continue;
        }
        const status = row.expired ? 'EXPIRED' : 'COMMITTED';
        (row.expired ? expired : sold).push(row);
        const totals = row.expired ? unreserve : sell;
        for (const i of items) totals.set(i.sku, (totals.get(i.sku) ?? 0) + i.qty);
        // settled_at is the time read under the lock, so a repeated call answers exactly the same.
        row.settled_at = row.now;
        out.set(row.id, { committed: status === 'COMMITTED', reservation: view({ ...row, status }, items) });
      }
      await this.move([...sell], 'sell', t);
      await this.move([...unreserve], 'unreserve', t);
      if (sold.length > 0) {
        // One audit row per line sold, each with on_hand after it: walked back from the final on_hand
        // (several reservations of the batch may sell the same sku).
        const after = new Map(
          (await selectRows<{ sku: string; on_hand: number }>(sequelize, 'SELECT sku, on_hand FROM stock WHERE sku IN (?)', [[...sell.keys()]], t)).map((r) => [
            r.sku,
            Number(r.on_hand) + sell.get(r.sku)!,
          ]),
        );
        const audit = sold.flatMap((row) =>
          (itemsOf.get(row.id) ?? []).map((i) => {
            const onHand = after.get(i.sku)! - i.qty;
            after.set(i.sku, onHand);
            return [i.sku, -i.qty, onHand, 'sold: reservation committed', `reservation:${row.id}`, row.id];
          }),
        );
        await execute(sequelize, 'INSERT INTO stock_audit (sku, delta, on_hand_after, reason, actor, reservation_id) VALUES ?', [audit], t);
      }
      for (const [status, settled] of [['COMMITTED', sold], ['EXPIRED', expired]] as const) {
        if (settled.length === 0) continue;
        await execute(sequelize, 'UPDATE reservations SET status = ?, settled_at = ? WHERE id IN (?)', [status, sqlDateTime(settled[0]!.now), settled.map((r) => r.id)], t);
      }
      return out;
    });
    return ids.map((id) => answers.get(id));
  }

  /**
   * Frees the units: a held reservation gives them back to `available`; a committed one (an order
   * cancelled before fulfilment) returns them to on_hand. Repeating a release answers the same.
   */
  async release(id: string): Promise<ReservationView | undefined> {
    return this.db.transaction(async (t) => {
      const row = await this.lock(id, t);
      if (!row) return undefined;
      const items = await this.items(id, t);
      if (row.status === 'HELD') {
        const status = row.expired ? 'EXPIRED' : 'RELEASED';
        await this.settle(row, items, status, 'unreserve', t);
        return view({ ...row, status }, items);
      }
      if (row.status === 'COMMITTED') {
        await this.settle(row, items, 'RELEASED', 'return', t);
        return view({ ...row, status: 'RELEASED' }, items);
      }
      return view(row, items);
    });
  }

  /**
   * Expires up to `limit` held reservations past their time; returns how many. Safe in every
   * instance at once: candidates are found without locks, then locked by primary key with SKIP
   * LOCKED (no gap locks, and a row another sweeper or a commit holds is left to it).
   */
  async expireDue(limit: number): Promise<number> {
    const sequelize = this.db.sequelize;
    const candidates = await selectRows<{ id: string }>(
      sequelize,
      "SELECT id FROM reservations WHERE status = 'HELD' AND expires_at <= NOW(3) ORDER BY expires_at LIMIT ?",
      [limit],
    );
    if (candidates.length === 0) return 0;
    return this.db.transaction(async (t) => {
      const due = await selectRows<{ id: string }>(
        sequelize,
        "SELECT id FROM reservations WHERE id IN (?) AND status = 'HELD' AND expires_at <= NOW(3) ORDER BY id FOR UPDATE SKIP LOCKED",
        [candidates.map((c) => c.id)],
        t,
      );
      if (due.length === 0) return 0;
      const ids = due.map((d) => d.id);
      const totals = await selectRows<{ sku: string; qty: number | string }>(
        sequelize,
        'SELECT sku, SUM(qty) AS qty FROM reservation_items WHERE reservation_id IN (?) GROUP BY sku ORDER BY sku',
        [ids],
        t,
      );
      await this.move(totals.map((r) => [r.sku, Number(r.qty)] as const), 'unreserve', t);
      await execute(sequelize, "UPDATE reservations SET status = 'EXPIRED', settled_at = NOW(3) WHERE id IN (?) AND status = 'HELD'", [ids], t);
      return ids.length;
    });
  }

  private async lock(id: string, t: Transaction): Promise<Row | undefined> {
    return selectOne<Row>(
      this.db.sequelize,
      'SELECT id, status, expires_at, created_at, settled_at, expires_at <= NOW(3) AS expired, NOW(3) AS now FROM reservations WHERE id = ? FOR UPDATE',
      [id],
      t,
    );
  }

  private items(id: string, t?: Transaction): Promise<Line[]> {
    return selectRows<Line>(this.db.sequelize, 'SELECT sku, qty FROM reservation_items WHERE reservation_id = ? ORDER BY sku', [id], t);
  }

  private async settle(row: Row, items: Line[], status: ReservationStatus, movement: Movement, t: Transaction): Promise<void> {
    await this.move(items.map((i) => [i.sku, i.qty] as const), movement, t);
    if (movement !== 'unreserve') {
      // One audit row per on_hand change, written from the rows just updated.
      await execute(
        this.db.sequelize,
        `INSERT INTO stock_audit (sku, delta, on_hand_after, reason, actor, reservation_id)
         SELECT s.sku, ${movement === 'sell' ? '-ri.qty' : 'ri.qty'}, s.on_hand, ?, ?, ri.reservation_id
         FROM reservation_items ri JOIN stock s ON s.sku = ri.sku WHERE ri.reservation_id = ? ORDER BY ri.sku`,
        [movement === 'sell' ? 'sold: reservation committed' : 'returned: committed reservation released', `reservation:${row.id}`, row.id],
        t,
      );
    }
    // settled_at is the time read under the lock, so a repeated call answers exactly the same.
    await execute(this.db.sequelize, 'UPDATE reservations SET status = ?, settled_at = ? WHERE id = ?', [status, sqlDateTime(row.now), row.id], t);
    row.settled_at = row.now;
  }

  /** One conditional UPDATE over the skus (sorted), which must all match: the counters can never go negative. */
  private async move(totals: ReadonlyArray<readonly [string, number]>, movement: Movement, t: Transaction): Promise<void> {
    if (totals.length === 0) return;
    const sorted = [...totals].sort(([a], [b]) => (a < b ? -1 : 1));
    const qty = caseWhen('sku', sorted);
    const skus = sorted.map(([sku]) => sku);
    const [set, guard] =
      movement === 'unreserve'
        ? [`reserved = reserved - ${qty.sql}`, `reserved >= ${qty.sql}`]
        : movement === 'sell'
          ? [`on_hand = on_hand - ${qty.sql}, reserved = reserved - ${qty.sql}`, `reserved >= ${qty.sql}`]
          : [`on_hand = on_hand + ${qty.sql}`, '1 = 1'];
    const setParams = movement === 'sell' ? [...qty.params, ...qty.params] : qty.params;
    const guardParams = movement === 'return' ? [] : qty.params;
    const result = await execute(this.db.sequelize, `UPDATE stock SET ${set} WHERE sku IN (?) AND ${guard}`, [...setParams, skus, ...guardParams], t);
    if (result.affectedRows !== sorted.length) throw new Error(`stock accounting refused a ${movement}; rolled back`);
  }
}

function view(row: Row, items: Line[]): ReservationView {
  return {
    reservationId: row.id,
    status: row.status,
    expiresAt: row.expires_at.toISOString(),
    createdAt: row.created_at.toISOString(),
    settledAt: row.settled_at ? row.settled_at.toISOString() : null,
    items: items.map((i) => ({ sku: i.sku, qty: Number(i.qty) })),
  };
}
