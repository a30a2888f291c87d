// Reservations by group commit. On sale day every buyer wants the same row: one transaction per
// reservation would serialise them all on that row's lock and pay one log flush each. Instead,
// reservations that arrive while a batch is in flight wait for the next batch (group commit), and
// a batch is one transaction that moves the units of all its granted reservations with one
// conditional UPDATE per batch, not per reservation. Each reservation is still all-or-nothing:
// a batch that the stock cannot cover whole is decided reservation by reservation, in arrival
// order, under the rows' locks. A deadlock or lock wait timeout retries the whole batch (kit
// db.transaction); any other failure fails the whole batch, with nothing written.
import { randomUUID } from 'node:crypto';
import type { Transaction } from 'sequelize';
import type { Database } from '../kit/db.js';
import { caseWhen, execute, selectRows, sqlDateTime } from '../kit/sql.js';

export interface Line {
  sku: string;
  qty: number;
}

export interface Shortage {
  sku: string;
  requested: number;
  available: number;
}

export interface HeldReservation {
  reservationId: string;
  status: 'HELD';
  expiresAt: Date;
  items: Line[];
}

export type ReserveOutcome = { ok: true; reservation: HeldReservation } | { ok: false; shortages: Shortage[] };

export interface BatcherOptions {
  /** Most reservations decided in one transaction. */
  maxBatch: number;
  /** Most lines (sku, qty pairs) in one transaction, to bound statement size. */
  maxLines: number;
  /** Batches in flight at once: a second one writes its rows while the first holds the sku's lock. */
  concurrency: number;
}

interface Pending {
  items: Line[];
  ttlSeconds: number;
  resolve(outcome: ReserveOutcome): void;
  reject(err: unknown): void;
}

export class ReservationBatcher {
  private queue: Pending[] = [];
  private inflight = 0;
  private scheduled = false;
  /** skus recently too short for a whole batch, until when. */
  private readonly shortUntil = new Map<string, number>();
  private readonly idle = new Set<() => void>();

  constructor(
    private readonly db: Database,
    private readonly opts: BatcherOptions,
  ) {}

  /** Reserves all lines or none; items must name each sku once. */
  reserve(items: Line[], ttlSeconds: number): Promise<ReserveOutcome> {
    return new Promise<ReserveOutcome>((resolve, reject) => {
      this.queue.push({ items, ttlSeconds, resolve, reject });
      this.pump();
    });
  }

  /** Resolves once no batch is queued or running (used at shutdown). */
  drained(): Promise<void> {
    if (this.inflight === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.add(resolve));
  }

  /**
   * Starts batches while a slot is free. The batch is taken one event-loop turn later
   * (setImmediate), so that requests already read from other connections in this turn join it:
   * without that, the first request after a big batch's answers would go out alone.
   */
  private pump(): void {
    if (this.scheduled || this.inflight >= this.opts.concurrency || this.queue.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      while (this.inflight < this.opts.concurrency && this.queue.length > 0) {
        const batch = this.take();
        this.inflight += 1;
        void this.run(batch).finally(() => {
          this.inflight -= 1;
          this.pump();
          if (this.inflight === 0 && this.queue.length === 0) {
            for (const done of this.idle) done();
            this.idle.clear();
          }
        });
      }
    });
  }

  private take(): Pending[] {
    let lines = 0;
    let n = 0;
    while (n < this.queue.length && n < this.opts.maxBatch) {
      const next = this.queue[n]!.items.length;
      if (n > 0 && lines + next > this.opts.maxLines) break;
      lines += next;
      n += 1;
    }
    return this.queue.splice(0, n);
  }

  private async run(batch: Pending[]): Promise<void> {
    try {
      const outcomes = (await this.tryAllAtOnce(batch)) ?? (await this.db.transaction((t) => this.decideUnderLock(batch, t)));
      batch.forEach((p, i) => p.resolve(outcomes[i]!));
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
  }

  /**
   * The hot path: a batch that the stock covers whole (one flash-sale sku, or a sale's many skus)
   * is written first, without any lock, and then granted whole by one conditional UPDATE over its
   * skus (in sku order), so the row locks are held only for that UPDATE and the commit. If any sku
   * cannot cover its part the transaction is rolled back (undefined) and the batch is decided
   * reservation by reservation under the locks instead; its skus are then remembered as short for
   * a moment, so a sold-out product does not pay for writes it undoes.
   */
  private async tryAllAtOnce(batch: Pending[]): Promise<ReserveOutcome[] | undefined> {
    const totals = new Map<string, number>();
    for (const p of batch) for (const i of p.items) totals.set(i.sku, (totals.get(i.sku) ?? 0) + i.qty);
    const now = Date.now();
    for (const sku of totals.keys()) {
      const shortUntil = this.shortUntil.get(sku);
      if (shortUntil === undefined) continue;
      if (shortUntil > now) return undefined;
      this.shortUntil.delete(sku);
    }
    const moves = [...totals].sort(([a], [b]) => (a < b ? -1 : 1));
    const held = batch.map((p) => this.hold(p));
    try {
      await this.db.transaction(async (t) => {
        await this.insert(held, t);
        const updated =
          moves.length === 1
            ? await execute(this.db.sequelize, 'UPDATE stock SET reserved = reserved + ? WHERE sku = ? AND on_hand - reserved >= ?', [moves[0]![1], moves[0]![0], moves[0]![1]], t)
            : await (() => {
                const amount = caseWhen('sku', moves);
                return execute(
                  this.db.sequelize,
                  `UPDATE stock SET reserved = reserved + ${amount.sql} WHERE sku IN (?) AND on_hand - reserved >= ${amount.sql}`,
                  [...amount.params, moves.map(([sku]) => sku), ...amount.params],
                  t,
                );
              })();
        if (updated.affectedRows !== moves.length) throw new NotEnoughForAll();
      });
    } catch (err) {
      if (!(err instanceof NotEnoughForAll)) throw err;
      const until = Date.now() + SHORT_MEMORY_MS;
      for (const [sku] of moves) this.shortUntil.set(sku, until);
      return undefined;
    }
    return held.map((reservation) => ({ ok: true, reservation }));
  }

  /**
   * The general path: lock the batch's skus (one locking read, in sku order, so batches from
   * several instances cannot deadlock), decide each reservation in arrival order all-or-nothing
   * against what is left, move the granted units with one conditional UPDATE, insert the granted
   * reservations.
   */
  private async decideUnderLock(batch: Pending[], t: Transaction): Promise<ReserveOutcome[]> {
    const sequelize = this.db.sequelize;
    const skus = [...new Set(batch.flatMap((p) => p.items.map((i) => i.sku)))].sort();
    const rows = await selectRows<{ sku: string; on_hand: number; reserved: number }>(
      sequelize,
      'SELECT sku, on_hand, reserved FROM stock WHERE sku IN (?) ORDER BY sku FOR UPDATE',
      [skus],
      t,
    );
    const left = new Map(rows.map((r) => [r.sku, r.on_hand - r.reserved]));
    const granted = new Map<string, number>();

    const outcomes = batch.map((p): ReserveOutcome => {
      const short = p.items.filter((i) => (left.get(i.sku) ?? 0) < i.qty);
      if (short.length > 0) {
        return { ok: false, shortages: short.map((i) => ({ sku: i.sku, requested: i.qty, available: Math.max(0, left.get(i.sku) ?? 0) })) };
      }
      for (const i of p.items) {
        left.set(i.sku, left.get(i.sku)! - i.qty);
        granted.set(i.sku, (granted.get(i.sku) ?? 0) + i.qty);
      }
      return { ok: true, reservation: this.hold(p) };
    });
    if (granted.size === 0) return outcomes;

    // Under the row locks just taken the condition always holds; it stays as a second guard.
    const moves = [...granted].sort(([a], [b]) => (a < b ? -1 : 1));
    const amount = caseWhen('sku', moves);
    const updated = await execute(
      sequelize,
      `UPDATE stock SET reserved = reserved + ${amount.sql} WHERE sku IN (?) AND on_hand - reserved >= ${amount.sql}`,
      [...amount.params, moves.map(([sku]) => sku), ...amount.params],
      t,
    );
    if (updated.affectedRows !== moves.length) throw new Error('stock changed under a row lock; the batch was rolled back');
    await this.insert(outcomes.flatMap((o) => (o.ok ? [o.reservation] : [])), t);
    return outcomes;
  }

  /** A new reservation (the expiry is stamped from this clock; the sweeper compares it with the database's). */
  private hold(p: Pending): HeldReservation {
    return { reservationId: randomUUID(), status: 'HELD', expiresAt: new Date(Date.now() + p.ttlSeconds * 1000), items: p.items };
  }

  private async insert(held: HeldReservation[], t: Transaction): Promise<void> {
    const created = sqlDateTime(new Date());
    await execute(this.db.sequelize, 'INSERT INTO reservations (id, status, expires_at, created_at) VALUES ?', [
      held.map((r) => [r.reservationId, 'HELD', sqlDateTime(r.expiresAt), created]),
    ], t);
    await execute(this.db.sequelize, 'INSERT INTO reservation_items (reservation_id, sku, qty) VALUES ?', [
      held.flatMap((r) => r.items.map((i) => [r.reservationId, i.sku, i.qty])),
    ], t);
  }
}

/** Rolls the optimistic transaction back when the sku cannot cover the whole batch. */
class NotEnoughForAll extends Error {}

/** How long a sku that could not cover a whole batch skips the optimistic path. */
const SHORT_MEMORY_MS = 1000;
