import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createCircuitBreaker, type CircuitBreakerOptions } from '../../src/http/circuit-breaker.js';

const F = false;
const S = true;

/** Records each result in turn and returns what record() answered for each. */
function recordAll(breaker: ReturnType<typeof createCircuitBreaker>, results: boolean[]): boolean[] {
  return results.map((succeeded) => breaker.record(succeeded));
}

function repeat(result: boolean, times: number): boolean[] {
  return Array.from({ length: times }, () => result);
}

describe('createCircuitBreaker', () => {
  it('trips on exactly the consecutiveFailures-th failure in a row, not one before', () => {
    const breaker = createCircuitBreaker({ consecutiveFailures: 3, window: 100 });

    expect(recordAll(breaker, [F, F])).toEqual([false, false]);
    expect(breaker.tripped).toBe(false);
    expect(breaker.reason).toBeUndefined();

    expect(breaker.record(F)).toBe(true);
    expect(breaker.tripped).toBe(true);
    expect(breaker.reason).toBe('3 requests in a row failed');
  });

  it('starts the run of failures again after a success', () => {
    const breaker = createCircuitBreaker({ consecutiveFailures: 3, window: 100 });

    expect(recordAll(breaker, [F, F, S, F, F])).toEqual([false, false, false, false, false]);
    expect(breaker.tripped).toBe(false);

    expect(breaker.record(F)).toBe(true);
    expect(breaker.reason).toBe('3 requests in a row failed');
  });

  it('trips on the failure ratio once the window is full, and not before', () => {
    const breaker = createCircuitBreaker({ consecutiveFailures: 100, window: 10, failureRatio: 0.8 });

    // 8 of 8 have failed, well over the ratio, but the window is not full yet.
    expect(recordAll(breaker, [F, F, F, F, S, F, F, F, F])).toEqual(repeat(false, 9));
    expect(breaker.tripped).toBe(false);

    expect(breaker.record(S)).toBe(true);
    expect(breaker.tripped).toBe(true);
    expect(breaker.reason).toBe('8 of the last 10 requests failed');
  });

  it('trips on the ratio with failures interleaved between successes', () => {
    const breaker = createCircuitBreaker({ consecutiveFailures: 100, window: 10, failureRatio: 0.8 });

    expect(recordAll(breaker, [F, F, F, S, F, F, F, S, F, F])).toEqual([...repeat(false, 9), true]);
    expect(breaker.reason).toBe('8 of the last 10 requests failed');
  });

  it('does not trip when a full window stays under the ratio', () => {
    const breaker = createCircuitBreaker({ consecutiveFailures: 100, window: 10, failureRatio: 0.8 });

    expect(recordAll(breaker, [F, F, F, S, F, F, F, S, F, S])).toEqual(repeat(false, 10));
    expect(breaker.tripped).toBe(false);
    expect(breaker.reason).toBeUndefined();
  });

  it('stays tripped once tripped, whatever is recorded next, and keeps its first reason', () => {
    const breaker = createCircuitBreaker({ consecutiveFailures: 2, window: 100 });
    recordAll(breaker, [F, F]);

    expect(recordAll(breaker, [S, S, S, F, S])).toEqual(repeat(true, 5));
    expect(breaker.tripped).toBe(true);
    expect(breaker.reason).toBe('2 requests in a row failed');
  });

  it('trips after 20 failures in a row by default', () => {
    const breaker = createCircuitBreaker();

    expect(recordAll(breaker, repeat(F, 19))).toEqual(repeat(false, 19));
    expect(breaker.tripped).toBe(false);

    expect(breaker.record(F)).toBe(true);
    expect(breaker.reason).toBe('20 requests in a row failed');
  });

  it('trips by default when 90% of the last 50 requests failed', () => {
    const breaker = createCircuitBreaker();
    // Never 20 in a row: 9 failures, then a success, five times over: 45 of 50 fail.
    const results = Array.from({ length: 5 }, () => [...repeat(F, 9), S]).flat();

    expect(recordAll(breaker, results)).toEqual([...repeat(false, 49), true]);
    expect(breaker.reason).toBe('45 of the last 50 requests failed');
  });

  it('does not trip by default when under 90% of the last 50 requests failed', () => {
    const breaker = createCircuitBreaker();
    // 44 of 50 fail (88%), never 20 in a row.
    const results = [...Array.from({ length: 4 }, () => [...repeat(F, 9), S]).flat(), ...repeat(F, 8), S, S];

    expect(recordAll(breaker, results)).toEqual(repeat(false, 50));
    expect(breaker.tripped).toBe(false);
  });

  it('lets failures older than the window slide out of it', () => {
    const breaker = createCircuitBreaker({ consecutiveFailures: 100, window: 10, failureRatio: 0.9 });

    // 16 failures in all, but never more than 8 of the last 10. (9 failures first would
    // trip at the 10th request: 9 of a full window of 10.)
    expect(recordAll(breaker, [...repeat(F, 8), ...repeat(S, 10), ...repeat(F, 8)])).toEqual(repeat(false, 26));
    expect(breaker.tripped).toBe(false);

    // One more makes 9 of the last 10.
    expect(breaker.record(F)).toBe(true);
    expect(breaker.reason).toBe('9 of the last 10 requests failed');
  });

  describe('against a reference model', () => {
    /** Which rule, if any, holds after `results` has been recorded (consecutive first). */
    function ruleAfter(results: boolean[], limit: number, window: number, ratio: number): 'consecutive' | 'ratio' | undefined {
      let inARow = 0;
      while (inARow < results.length && !results[results.length - 1 - inARow]) inARow += 1;
      if (inARow >= limit) return 'consecutive';
      const last = results.slice(-window);
      const failures = last.filter((succeeded) => !succeeded).length;
      if (last.length >= window && failures / last.length >= ratio) return 'ratio';
      return undefined;
    }

    it('trips at the first prefix where a rule holds, and only then', () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 8 }),
          fc.integer({ min: 1, max: 12 }),
          fc.integer({ min: 1, max: 10 }).map((tenths) => tenths / 10),
          fc.array(fc.boolean(), { maxLength: 60 }),
          (consecutiveFailures, window, failureRatio, results) => {
            const options: CircuitBreakerOptions = { consecutiveFailures, window, failureRatio };
            const breaker = createCircuitBreaker(options);
            let expectedRule: 'consecutive' | 'ratio' | undefined;
            results.forEach((succeeded, index) => {
              expectedRule ??= ruleAfter(results.slice(0, index + 1), consecutiveFailures, window, failureRatio);
              expect(breaker.record(succeeded)).toBe(expectedRule !== undefined);
              expect(breaker.tripped).toBe(expectedRule !== undefined);
            });
            if (expectedRule === undefined) expect(breaker.reason).toBeUndefined();
            else expect(breaker.reason).toMatch(expectedRule === 'consecutive' ? / in a row failed$/ : / of the last \d+ requests failed$/);
          },
        ),
      );
    });
  });
});
