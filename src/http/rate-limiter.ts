import { setTimeout as sleep } from 'node:timers/promises';

export interface RateLimiter {
  /** Resolves when the caller may send one request. */
  take(signal?: AbortSignal): Promise<void>;
}

/**
 * Spaces requests evenly at `perSecond` (a token bucket that holds one token, so there
 * is no burst above the rate): the notify service sees at most that many requests in
 * any second, retries included. Per process: several runners each get their own.
 */
export function createRateLimiter(perSecond: number, now: () => number = () => performance.now()): RateLimiter {
  if (!(perSecond > 0)) throw new RangeError('rate limiter: perSecond must be above 0');
  const intervalMs = 1000 / perSecond;
  let nextFreeAt = 0;
  return {
    async take(signal) {
      const at = Math.max(now(), nextFreeAt);
      nextFreeAt = at + intervalMs;
      const waitMs = at - now();
      if (waitMs > 0) await sleep(waitMs, undefined, { signal });
    },
  };
}
