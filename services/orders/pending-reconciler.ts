// Settles orders whose checkout stopped half-way (the process died after writing the order, or
// inventory could not be reached to commit or release). Once such an order's reservation is past
// its expiry plus a grace period, its fate is read from inventory: a committed reservation means
// the stock was sold, so the order is confirmed; anything else is released (idempotent, and it
// forces an expired hold to free its units now) and the order is cancelled. Runs in every
// instance: the status updates are conditional, and release and confirm are idempotent.
import type { Logger } from '../kit/log.js';
import type { InventoryClient } from './inventory-client.js';
import type { OrderBook } from './order-book.js';

export interface ReconcilerOptions {
  intervalMs: number;
  graceSeconds: number;
  batch: number;
  log: Logger;
}

export interface Reconciler {
  /** One pass; resolves with the number of orders settled. */
  runOnce(): Promise<number>;
  stop(): Promise<void>;
}

export function startPendingReconciler(orders: OrderBook, inventory: InventoryClient, opts: ReconcilerOptions): Reconciler {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();

  const runOnce = async (): Promise<number> => {
    let settled = 0;
    for (const order of await orders.stalePending(opts.graceSeconds, opts.batch)) {
      const status = await inventory.status(order.reservationId);
      if (status === 'COMMITTED') {
        if (await orders.confirm(order.id)) settled += 1;
        continue;
      }
      if (status !== undefined) await inventory.release(order.reservationId);
      if (await orders.cancel(order.id, 'checkout did not complete before its reservation expired')) settled += 1;
    }
    if (settled > 0) opts.log.info({ settled }, 'settled orders left pending by an interrupted checkout');
    return settled;
  };

  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = runOnce()
        .catch((err: unknown) => opts.log.warn({ err: (err as Error).message }, 'pending-order reconciliation failed; trying again next interval'))
        .finally(schedule);
    }, opts.intervalMs * (0.75 + Math.random() * 0.5));
    timer.unref();
  };
  schedule();

  return {
    runOnce,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
