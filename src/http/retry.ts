import pRetry from 'p-retry';
import { setTimeout as sleep } from 'node:timers/promises';
import { ServiceError } from './service-error.js';

export interface RetryOptions {
  /** Retries after the first try. */
  retries: number;
  /** First backoff delay; doubles each retry and is randomized (x1 to x2) as jitter. */
  baseMs: number;
  /** Cap for one backoff delay and for an honoured Retry-After. */
  maxMs: number;
}

export interface FailedAttempt {
  error: ServiceError;
  attemptNumber: number;
  willRetry: boolean;
}

/**
 * Runs `attempt` until it succeeds, retrying only transient ServiceErrors; anything
 * else (a permanent refusal, a bug) ends at once. A Retry-After is waited out before
 * the backoff.
 */
export async function withRetry<T>(
  attempt: (attemptNumber: number) => Promise<T>,
  options: RetryOptions & { onFailedAttempt?: (failure: FailedAttempt) => void; signal?: AbortSignal },
): Promise<T> {
  const isTransient = (error: unknown) => error instanceof ServiceError && error.kind === 'transient';
  return pRetry(attempt, {
    retries: options.retries,
    factor: 2,
    minTimeout: options.baseMs,
    maxTimeout: options.maxMs,
    randomize: true,
    signal: options.signal,
    shouldRetry: ({ error }) => isTransient(error),
    onFailedAttempt: async ({ error, attemptNumber, retriesLeft }) => {
      // A request our own stop cut short is no failure of the service's.
      if (!(error instanceof ServiceError) || options.signal?.aborted) return;
      const willRetry = isTransient(error) && retriesLeft > 0;
      options.onFailedAttempt?.({ error, attemptNumber, willRetry });
      const retryAfterMs = error.details.retryAfterMs;
      if (willRetry && retryAfterMs !== undefined && retryAfterMs > 0) {
        await sleep(Math.min(retryAfterMs, options.maxMs), undefined, { signal: options.signal });
      }
    },
  });
}
