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

type WithRetryOptions = RetryOptions & { onFailedAttempt?: (failure: FailedAttempt) => void; signal?: AbortSignal };

const FACTOR = 2;

const isTransient = (error: unknown): error is ServiceError => error instanceof ServiceError && error.kind === 'transient';

/**
 * Runs `attempt` until it succeeds, retrying only transient ServiceErrors; anything
 * else (a permanent refusal, a bug) ends at once. A Retry-After is waited out before
 * the backoff.
 *
 * The first try runs on its own: almost every notification succeeds at once, and
 * p-retry's set-up per call (its options, checks and promises) was 5% of the sweep's CPU
 * (issue #19). Only a try that failed transiently hands the rest to p-retry, after the
 * first backoff, with the schedule it would have had: base × 2, × 4…, each randomized
 * (× 1 to 2) and capped at maxMs.
 */
export async function withRetry<T>(attempt: (attemptNumber: number) => Promise<T>, options: WithRetryOptions): Promise<T> {
  options.signal?.throwIfAborted();
  try {
    return await attempt(1);
  } catch (error) {
    const willRetry = isTransient(error) && options.retries > 0;
    await reportFailure(error, 1, willRetry, options);
    if (!willRetry || options.signal?.aborted) throw error;
    await sleep(backoffMs(options.baseMs, options.maxMs), undefined, { signal: options.signal });
  }
  return pRetry((attemptNumber) => attempt(attemptNumber + 1), {
    retries: options.retries - 1,
    factor: FACTOR,
    minTimeout: options.baseMs * FACTOR,
    maxTimeout: options.maxMs,
    randomize: true,
    signal: options.signal,
    shouldRetry: ({ error }) => isTransient(error),
    onFailedAttempt: ({ error, attemptNumber, retriesLeft }) =>
      reportFailure(error, attemptNumber + 1, isTransient(error) && retriesLeft > 0, options),
  });
}

/** Tells the caller of a failed try and waits out its Retry-After (capped) when a retry follows. */
async function reportFailure(error: unknown, attemptNumber: number, willRetry: boolean, options: WithRetryOptions): Promise<void> {
  // A request our own stop cut short is no failure of the service's.
  if (!(error instanceof ServiceError) || options.signal?.aborted) return;
  options.onFailedAttempt?.({ error, attemptNumber, willRetry });
  const retryAfterMs = error.details.retryAfterMs;
  if (willRetry && retryAfterMs !== undefined && retryAfterMs > 0) {
    await sleep(Math.min(retryAfterMs, options.maxMs), undefined, { signal: options.signal });
  }
}

/** The first backoff, as p-retry computes it: baseMs randomized × 1 to 2, at most maxMs. */
function backoffMs(baseMs: number, maxMs: number): number {
  return Math.min(Math.round((Math.random() + 1) * baseMs), maxMs);
}
