// Refresh throttling: a client that presents unknown, spent or expired refresh tokens is guessing
// (or replaying); its failures count, fleet-wide with a shared store (limits.ts), and at the limit
// its refreshes answer 429 with Retry-After. Successful refreshes do not count: a load generator or
// a NAT with many honest sessions behind one address refreshes freely.
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import type { SharedStore } from '../kit/shared-store.js';
import { tooManyRequests } from '../kit/errors.js';
import { counter, retryAfterSeconds } from './limits.js';

export interface RefreshThrottleOptions {
  maxFailuresPerClient: number;
  windowSeconds: number;
  store?: SharedStore | undefined;
}

export class RefreshThrottle {
  private readonly failures: RateLimiterAbstract;

  constructor(private readonly opts: RefreshThrottleOptions) {
    this.failures = counter(opts.store, { name: 'refresh:client', points: opts.maxFailuresPerClient, windowSeconds: opts.windowSeconds });
  }

  /** Throws 429 when the client has failed too often. */
  async check(client: string): Promise<void> {
    const res = await this.failures.get(client);
    if (res !== null && res.consumedPoints >= this.opts.maxFailuresPerClient) {
      throw tooManyRequests(retryAfterSeconds(res), 'too many failed refreshes: wait, or log in again');
    }
  }

  async failed(client: string): Promise<void> {
    await this.failures.penalty(client);
  }
}
