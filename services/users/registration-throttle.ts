// Registration throttling: every registration a client attempts counts (a 409 EMAIL_TAKEN too: it
// tells whether an account exists), fleet-wide with a shared store (limits.ts). Counted before the
// password is hashed, so a flood costs no CPU; at the limit, 429 with Retry-After.
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import type { SharedStore } from '../kit/shared-store.js';
import { counter, limited } from './limits.js';

export interface RegistrationThrottleOptions {
  maxPerClient: number;
  windowSeconds: number;
  store?: SharedStore | undefined;
}

export class RegistrationThrottle {
  private readonly byClient: RateLimiterAbstract;

  constructor(opts: RegistrationThrottleOptions) {
    this.byClient = counter(opts.store, { name: 'register:client', points: opts.maxPerClient, windowSeconds: opts.windowSeconds });
  }

  async attempt(client: string): Promise<void> {
    await this.byClient.consume(client).catch((err: unknown) => {
      throw limited(err, 'too many registrations from this client: wait before trying again');
    });
  }
}
