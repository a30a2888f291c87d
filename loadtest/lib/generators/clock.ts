// Time for the AWS launcher and the generator tasks' start wait: the real clock, or one a test
// drives (sleeping advances it at once, so polling loops run without waiting).
import { setTimeout as delay } from 'node:timers/promises';

export interface Clock {
  now(): number;
  /** resolves after ms, or early when the signal aborts (never rejects) */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => delay(ms, undefined, signal ? { signal } : {}).catch(() => undefined),
};
