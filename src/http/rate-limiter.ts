import { setTimeout as sleep } from 'node:timers/promises';

export interface RateLimiter {
  /** Resolves when the caller may send one request. */
  take(signal?: AbortSignal): Promise<void>;
  /** Changes the rate from the next request on (a runner's share of its job's limit). */
  setRate(perSecond: number): void;
  readonly perSecond: number;
}

/**
 * Spaces requests evenly at `perSecond` (a token bucket that holds one token, so there
 * is no burst above the rate): the notify service sees at most that many requests in
 * any second, retries included. Per process: runners share a job's limit by setting
 * each one's rate to its share (run-coordination.ts).
 */
export function createRateLimiter(perSecond: number, now: () => number = () => performance.now()): RateLimiter {
  const check = (rate: number) => {
    if (!(rate > 0)) throw new RangeError('rate limiter: perSecond must be above 0');
    return rate;
  };
  let rate = check(perSecond);
  let intervalMs = 1000 / rate;
  let nextFreeAt = 0;
  return {
    setRate(next) {
      rate = check(next);
      intervalMs = 1000 / rate;
    },
    get perSecond() {
      return rate;
    },
    async take(signal) {
      const at = Math.max(now(), nextFreeAt);
      nextFreeAt = at + intervalMs;
      const waitMs = at - now();
      if (waitMs > 0) await sleep(waitMs, undefined, { signal });
    },
  };
}
