import pRetry from 'p-retry';
import { setTimeout as sleep } from 'node:timers/promises';
import { ServiceError } from './service-error.js';
import { startSpan, tracingEnabled, withSpan, type TraceSpan } from '../tracing/tracing.js';

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

type WithRetryOptions = RetryOptions & { onFailedAttempt?: (failure: FailedAttempt) => void; signal?: AbortSignal;
  /** The span of what is retried (a notification, a token fetch): its waits go under it. */
  traceParent?: TraceSpan };

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
    await traceWait('retry backoff', 2, options.traceParent, () => sleep(backoffMs(options.baseMs, options.maxMs), undefined, { signal: options.signal }));
  }
  // p-retry waits its backoff itself: the wait is traced as the time from the failure
  // reported (after any Retry-After) to the next try.
  let failedAt: number | undefined;
  const tries = tracingEnabled()
    ? (attemptNumber: number) => {
      if (failedAt !== undefined) {
        startSpan('retry backoff', { parent: options.traceParent, startTime: failedAt, attributes: { 'sweep.retry.next_attempt': attemptNumber + 1 } }).end();
      }
      return attempt(attemptNumber + 1).catch((error: unknown) => {
        failedAt = Date.now();
        throw error;
      });
    }
    : (attemptNumber: number) => attempt(attemptNumber + 1);
  return pRetry(tries, {
    retries: options.retries - 1,
    factor: FACTOR,
    minTimeout: options.baseMs * FACTOR,
    maxTimeout: options.maxMs,
    randomize: true,
    signal: options.signal,
    shouldRetry: ({ error }) => isTransient(error),
    onFailedAttempt: async ({ error, attemptNumber, retriesLeft }) => {
      await reportFailure(error, attemptNumber + 1, isTransient(error) && retriesLeft > 0, options);
      if (failedAt !== undefined) failedAt = Date.now();
    },
  });
}

/** A wait between tries, as a span of its own when traced: a trace shows where a notification's time went. */
function traceWait(name: string, nextAttempt: number, parent: TraceSpan | undefined, wait: () => Promise<unknown>): Promise<unknown> {
  if (!tracingEnabled()) return wait();
  return withSpan(name, { parent, attributes: { 'sweep.retry.next_attempt': nextAttempt } }, wait);
}

/** Tells the caller of a failed try and waits out its Retry-After (capped) when a retry follows. */
async function reportFailure(error: unknown, attemptNumber: number, willRetry: boolean, options: WithRetryOptions): Promise<void> {
  // A request our own stop cut short is no failure of the service's.
  if (!(error instanceof ServiceError) || options.signal?.aborted) return;
  options.onFailedAttempt?.({ error, attemptNumber, willRetry });
  const retryAfterMs = error.details.retryAfterMs;
  if (willRetry && retryAfterMs !== undefined && retryAfterMs > 0) {
    await traceWait('Retry-After wait', attemptNumber + 1, options.traceParent, () => sleep(Math.min(retryAfterMs, options.maxMs), undefined, { signal: options.signal }));
  }
}

/** The first backoff, as p-retry computes it: baseMs randomized × 1 to 2, at most maxMs. */
function backoffMs(baseMs: number, maxMs: number): number {
  return Math.min(Math.round((Math.random() + 1) * baseMs), maxMs);
}
