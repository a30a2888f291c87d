// A background sweep that every instance of a service runs: one batch at a time, straight on while
// a batch comes back full, then an interval (with jitter, so instances spread out). What a sweep
// does must be safe to run from any number of instances at once (inventory's expired
// reservations, users' expired refresh tokens). A failed sweep is logged and tried again.
import type { Logger } from './log.js';

export interface BatchSweeperOptions {
  /** what one batch does: resolves with how many rows it handled (a full batch sweeps again at once) */
  sweep(batch: number): Promise<number>;
  intervalMs: number;
  batch: number;
  log: Logger;
  /** the log line for a batch that handled rows, e.g. 'expired reservations released' (the count is logged as `count`) */
  done: string;
  /** names the sweep in its failure line */
  what: string;
}

export interface Sweeper {
  /** Stops the loop; resolves when a sweep under way has finished. */
  stop(): Promise<void>;
}

export function startBatchSweeper(opts: BatchSweeperOptions): Sweeper {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();

  const sweep = async (): Promise<void> => {
    try {
      let count: number;
      do {
        count = await opts.sweep(opts.batch);
        if (count > 0) opts.log.info({ count }, opts.done);
      } while (count === opts.batch && !stopped);
    } catch (err) {
      opts.log.warn({ err: { name: (err as Error).name, message: (err as Error).message } }, `${opts.what} failed; trying again next interval`);
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
