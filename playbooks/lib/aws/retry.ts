// Retries for AWS calls, in one place. The SDK's own retry strategy cannot tell an idempotent call
// from one that is not, so the clients are built with maxAttempts 1 and every call goes through
// here: a throttled call was refused before AWS did anything, so it is always retried; a transient
// failure (5xx, timeout, reset connection) is retried only for calls marked idempotent (reads, and
// writes that carry a client token), because the first attempt may have taken effect.
import { isServerError, isThrottlingError, isTransientError } from '@smithy/core/retry';

export interface RetryPolicy {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 6, baseDelayMs: 300, maxDelayMs: 20_000 };

type SdkError = Parameters<typeof isThrottlingError>[0];

/** LimitExceededException is in the SDK's throttling list, but for CloudFormation and Secrets Manager it is a quota. */
export function isThrottled(err: unknown): boolean {
  if (!(err instanceof Error) || err.name === 'LimitExceededException') return false;
  return isThrottlingError(err as SdkError);
}

export function isTransient(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  return isTransientError(err as SdkError) || isServerError(err as SdkError);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal!.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export interface CallOptions {
  /** Safe to repeat after a transient failure (a read, or a write with a client token). */
  idempotent: boolean;
  signal?: AbortSignal | undefined;
  /** Told about each retry (progress: "throttled, retrying in 1.2s"). */
  onRetry?: ((what: string, attempt: number, delayMs: number, err: Error) => void) | undefined;
}

/** Calls fn, retrying throttling always and transient errors only when idempotent, with full-jitter backoff. */
export async function withRetry<T>(what: string, policy: RetryPolicy, opts: CallOptions, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const retryable = isThrottled(err) || (opts.idempotent && isTransient(err));
      if (!retryable || attempt >= policy.attempts) throw err;
      const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
      const delay = Math.round(cap / 2 + (Math.random() * cap) / 2);
      opts.onRetry?.(what, attempt, delay, err as Error);
      await sleep(delay, opts.signal);
    }
  }
}
