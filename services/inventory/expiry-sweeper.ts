// Frees the stock of reservations nobody committed or released in time (a checkout that crashed
// between its steps). Runs in every instance; ReservationLedger.expireDue makes that safe. Sweeps
// in small batches, straight on while a batch comes back full, then waits an interval (with
// jitter, so instances spread out).
import type { Logger } from '../kit/log.js';
import type { ReservationLedger } from './reservation-ledger.js';

export interface SweeperOptions {
  intervalMs: number;
  batch: number;
  log: Logger;
}

export interface Sweeper {
  /** Stops the loop; resolves when a sweep under way has finished. */
  stop(): Promise<void>;
}

export function startExpirySweeper(ledger: ReservationLedger, opts: SweeperOptions): Sweeper {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();

  const sweep = async (): Promise<void> => {
    try {
      let expired: number;
      do {
        expired = await ledger.expireDue(opts.batch);
        if (expired > 0) opts.log.info({ expired }, 'expired reservations released');
      } while (expired === opts.batch && !stopped);
    } catch (err) {
      opts.log.warn({ err: { name: (err as Error).name, message: (err as Error).message } }, 'expiry sweep failed; trying again next interval');
    }
  };
  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = sweep().finally(schedule);
    }, opts.intervalMs * (0.75 + Math.random() * 0.5));
    timer.unref();
  };
  schedule();

  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
