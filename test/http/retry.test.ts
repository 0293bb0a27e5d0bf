import { describe, expect, it } from 'vitest';
import { withRetry, type FailedAttempt, type RetryOptions } from '../../src/http/retry.js';
import { ServiceError } from '../../src/http/service-error.js';

const ENDPOINT = 'POST /notify/notifications';
const fast: RetryOptions = { retries: 3, baseMs: 1, maxMs: 5 };

const transient = (retryAfterMs?: number) =>
  new ServiceError(`${ENDPOINT} answered 503`, 'transient', { endpoint: ENDPOINT, status: 503, retryAfterMs });
const permanent = () => new ServiceError(`${ENDPOINT} answered 422`, 'permanent', { endpoint: ENDPOINT, status: 422 });

/** An attempt function that throws the given errors in turn, then returns 'sent'. */
function failing(...errors: Error[]) {
  const calls: number[] = [];
  const attempt = async (attemptNumber: number) => {
    calls.push(attemptNumber);
    const error = errors[calls.length - 1];
    if (error) throw error;
    return 'sent';
  };
  return { attempt, calls };
}

describe('withRetry', () => {
  it('returns the first success without retrying', async () => {
    const { attempt, calls } = failing();
    expect(await withRetry(attempt, fast)).toBe('sent');
    expect(calls).toEqual([1]);
  });

  it('retries a transient failure and returns the later success', async () => {
    const { attempt, calls } = failing(transient(), transient());
    expect(await withRetry(attempt, fast)).toBe('sent');
    expect(calls).toEqual([1, 2, 3]);
  });

  it('retries a transient failure `retries` times, then rejects with it', async () => {
    const error = transient();
    const { attempt, calls } = failing(error, error, error, error, error);

    await expect(withRetry(attempt, { ...fast, retries: 2 })).rejects.toBe(error);
    expect(calls).toEqual([1, 2, 3]);
  });

  it('tries once and rejects when retries is 0', async () => {
    const error = transient();
    const { attempt, calls } = failing(error);

    await expect(withRetry(attempt, { ...fast, retries: 0 })).rejects.toBe(error);
    expect(calls).toEqual([1]);
  });

  it('does not retry a permanent failure', async () => {
    const error = permanent();
    const { attempt, calls } = failing(error);

    await expect(withRetry(attempt, fast)).rejects.toBe(error);
    expect(calls).toEqual([1]);
  });

  it('does not retry an unauthorized failure', async () => {
    const error = new ServiceError(`${ENDPOINT} answered 401`, 'unauthorized', { endpoint: ENDPOINT, status: 401 });
    const { attempt, calls } = failing(error);

    await expect(withRetry(attempt, fast)).rejects.toBe(error);
    expect(calls).toEqual([1]);
  });

  it('does not retry an error that is not a ServiceError', async () => {
    const error = new RangeError('a bug');
    const { attempt, calls } = failing(error);

    await expect(withRetry(attempt, fast)).rejects.toBe(error);
    expect(calls).toEqual([1]);
  });

  it('waits at least the Retry-After before the next attempt', async () => {
    const { attempt, calls } = failing(transient(150));
    const started = performance.now();

    expect(await withRetry(attempt, { retries: 2, baseMs: 1, maxMs: 1_000 })).toBe('sent');

    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    expect(calls).toEqual([1, 2]);
  });

  it('caps a Retry-After at maxMs', async () => {
    const { attempt } = failing(transient(60_000));
    const started = performance.now();

    expect(await withRetry(attempt, { retries: 2, baseMs: 1, maxMs: 20 })).toBe('sent');

    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('does not wait out a Retry-After when no retry is left', async () => {
    const error = transient(60_000);
    const { attempt } = failing(error);
    const started = performance.now();

    await expect(withRetry(attempt, { retries: 0, baseMs: 1, maxMs: 60_000 })).rejects.toBe(error);

    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('tells onFailedAttempt whether a retry follows, for each failed attempt', async () => {
    const error = transient();
    const { attempt } = failing(error, error, error, error);
    const failures: FailedAttempt[] = [];

    await expect(withRetry(attempt, { ...fast, retries: 2, onFailedAttempt: (f) => failures.push(f) })).rejects.toBe(error);

    expect(failures).toEqual([
      { error, attemptNumber: 1, willRetry: true },
      { error, attemptNumber: 2, willRetry: true },
      { error, attemptNumber: 3, willRetry: false },
    ]);
  });

  it('tells onFailedAttempt that a permanent failure will not be retried', async () => {
    const error = permanent();
    const { attempt } = failing(error);
    const failures: FailedAttempt[] = [];

    await expect(withRetry(attempt, { ...fast, onFailedAttempt: (f) => failures.push(f) })).rejects.toBe(error);

    expect(failures).toEqual([{ error, attemptNumber: 1, willRetry: false }]);
  });

  it('reports only the failed attempts before a success', async () => {
    const error = transient();
    const { attempt } = failing(error);
    const failures: FailedAttempt[] = [];

    expect(await withRetry(attempt, { ...fast, onFailedAttempt: (f) => failures.push(f) })).toBe('sent');

    expect(failures).toEqual([{ error, attemptNumber: 1, willRetry: true }]);
  });
});

/** An attempt that fails transiently `failures` times, then succeeds, and when each try began. */
function failingTimes(failures: number) {
  const times: number[] = [];
  const attempt = async () => {
    times.push(performance.now());
    if (times.length <= failures) throw transient();
    return 'sent';
  };
  const gaps = () => times.slice(1).map((time, i) => time - (times[i] as number));
  return { attempt, gaps };
}

describe('withRetry: backoff', () => {
  it('waits base, then twice, then four times as long (each x1 to x2), before the retries', async () => {
    const { attempt, gaps: gapsBetweenTries } = failingTimes(3);

    expect(await withRetry(attempt, { retries: 3, baseMs: 40, maxMs: 10_000 })).toBe('sent');

    const gaps = gapsBetweenTries();
    expect(gaps).toHaveLength(3);
    // Lower bounds are exact (timers never fire early, but may round down by 1 ms); the
    // upper ones leave room for a loaded machine.
    expect(gaps[0]).toBeGreaterThanOrEqual(39);
    expect(gaps[1]).toBeGreaterThanOrEqual(79);
    expect(gaps[2]).toBeGreaterThanOrEqual(159);
    expect(gaps[0]).toBeLessThan(80 + 200);
    expect(gaps[1]).toBeLessThan(160 + 200);
  });

  it('caps each backoff at maxMs', async () => {
    const { attempt, gaps: gapsBetweenTries } = failingTimes(3);

    expect(await withRetry(attempt, { retries: 3, baseMs: 200, maxMs: 30 })).toBe('sent');

    const gaps = gapsBetweenTries();
    for (const gap of gaps) {
      expect(gap).toBeGreaterThanOrEqual(29);
      expect(gap).toBeLessThan(150);
    }
  });

  it('stops waiting and rejects with the signal\'s reason when it aborts during a backoff', async () => {
    const controller = new AbortController();
    const attempt = async () => {
      setTimeout(() => controller.abort(new Error('stopping')), 20);
      throw transient();
    };
    const started = performance.now();

    await expect(withRetry(attempt, { retries: 3, baseMs: 5_000, maxMs: 10_000, signal: controller.signal }))
      .rejects.toThrow();
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('does not try at all when the signal has already aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('stopped'));
    const { attempt, calls } = failing();

    await expect(withRetry(attempt, { ...fast, signal: controller.signal })).rejects.toThrow('stopped');
    expect(calls).toEqual([]);
  });
});
