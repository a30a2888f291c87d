// The counters the users service throttles with (rate-limiter-flexible): in the shared store when
// there is one (RateLimiterRedis, so every instance, a new one included, sees the same counts),
// with a per-instance counter as insurance that takes over while the store is unreachable (the
// gate narrows to a per-instance limit, it never opens); per instance only without a store.
import { createHash } from 'node:crypto';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { tooManyRequests, type ApiError } from '../kit/errors.js';
import type { SharedStore } from '../kit/shared-store.js';

export interface LimitOptions {
  /** Part of every key: what is counted (e.g. `login:client`). */
  name: string;
  points: number;
  windowSeconds: number;
}

export function counter(store: SharedStore | undefined, opts: LimitOptions): RateLimiterAbstract {
  const memory = new RateLimiterMemory({ keyPrefix: opts.name, points: opts.points, duration: opts.windowSeconds });
  if (!store) return memory;
  return new RateLimiterRedis({
    storeClient: store.client,
    keyPrefix: `${store.keyPrefix}${opts.name}`,
    points: opts.points,
    duration: opts.windowSeconds,
    // Not connected: straight to the insurance counter, no waiting on a dead socket.
    rejectIfRedisNotReady: true,
    insuranceLimiter: memory,
  });
}

/** A key that does not keep an email address (or any caller-chosen text) in the store. */
export function hashedKey(value: string): string {
  return createHash('sha256').update(value).digest('base64url').slice(0, 22);
}

/** The limiter said no: the answer is 429 with Retry-After. Anything else is rethrown. */
export function limited(err: unknown, message: string): ApiError {
  if (err instanceof RateLimiterRes) return tooManyRequests(retryAfterSeconds(err), message);
  throw err;
}

export function retryAfterSeconds(res: RateLimiterRes): number {
  return Math.max(1, Math.ceil(res.msBeforeNext / 1000));
}
