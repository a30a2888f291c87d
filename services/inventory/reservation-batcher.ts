// Reservations by group commit. On sale day every buyer wants the same row: one transaction per
// reservation would serialise them all on that row's lock and pay one log flush each. Instead,
// reservations that arrive while a batch is in flight wait for the next batch, and a batch is one
// transaction: lock its skus (one locking read, in sku order, so batches from several instances
// cannot deadlock), decide each reservation in arrival order all-or-nothing against what is left,
// move the granted units into `reserved` with one conditional UPDATE, and insert the granted
// reservations. A deadlock or lock wait timeout retries the whole batch (kit db.transaction);
// any other failure fails the whole batch, with nothing written.
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
  /** Batches in flight at once: a second one waits on the row locks, ready the moment the first commits. */
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

  private pump(): void {
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
      const outcomes = await this.db.transaction((t) => this.decide(batch, t));
      batch.forEach((p, i) => p.resolve(outcomes[i]!));
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
  }

  private async decide(batch: Pending[], t: Transaction): Promise<ReserveOutcome[]> {
    const sequelize = this.db.sequelize;
    const skus = [...new Set(batch.flatMap((p) => p.items.map((i) => i.sku)))].sort();
    const rows = await selectRows<{ sku: string; on_hand: number; reserved: number; now: Date }>(
      sequelize,
      'SELECT sku, on_hand, reserved, NOW(3) AS now FROM stock WHERE sku IN (?) ORDER BY sku FOR UPDATE',
      [skus],
      t,
    );
    const left = new Map(rows.map((r) => [r.sku, r.on_hand - r.reserved]));
    const now = rows[0]?.now;
    const granted = new Map<string, number>();

    const outcomes = batch.map((p): ReserveOutcome => {
      const short = p.items.filter((i) => (left.get(i.sku) ?? 0) < i.qty);
      if (short.length > 0 || now === undefined) {
        // (no stock rows at all means every line is short)
        return { ok: false, shortages: short.map((i) => ({ sku: i.sku, requested: i.qty, available: Math.max(0, left.get(i.sku) ?? 0) })) };
      }
      for (const i of p.items) {
        left.set(i.sku, left.get(i.sku)! - i.qty);
        granted.set(i.sku, (granted.get(i.sku) ?? 0) + i.qty);
      }
      const expiresAt = new Date(now.getTime() + p.ttlSeconds * 1000);
      return { ok: true, reservation: { reservationId: randomUUID(), status: 'HELD', expiresAt, items: p.items } };
    });
    if (granted.size === 0) return outcomes;

    // Under the row locks just taken the condition always holds; it stays as a second guard.
    const moves = [...granted].sort(([a], [b]) => (a < b ? -1 : 1));
    const amount = caseWhen('sku', moves);
    const grantedSkus = moves.map(([sku]) => sku);
    const updated = await execute(
      sequelize,
      `UPDATE stock SET reserved = reserved + ${amount.sql} WHERE sku IN (?) AND on_hand - reserved >= ${amount.sql}`,
      [...amount.params, grantedSkus, ...amount.params],
      t,
    );
    if (updated.affectedRows !== moves.length) throw new Error('stock changed under a row lock; the batch was rolled back');

    const held = outcomes.flatMap((o) => (o.ok ? [o.reservation] : []));
    const created = sqlDateTime(now!);
    await execute(sequelize, 'INSERT INTO reservations (id, status, expires_at, created_at) VALUES ?', [
      held.map((r) => [r.reservationId, 'HELD', sqlDateTime(r.expiresAt), created]),
    ], t);
    await execute(sequelize, 'INSERT INTO reservation_items (reservation_id, sku, qty) VALUES ?', [
      held.flatMap((r) => r.items.map((i) => [r.reservationId, i.sku, i.qty])),
    ], t);
    return outcomes;
  }
}
