import { describe, expect, it } from 'vitest';
import { createRateLimiter } from '../../src/http/rate-limiter.js';

describe('createRateLimiter', () => {
  it('lets a caller through at once when the interval has passed, and makes the next one wait it out', async () => {
    let clock = 0;
    const limiter = createRateLimiter(10, () => clock);
    await limiter.take();
    clock = 1000;
    const first = performance.now();
    await limiter.take();
    expect(performance.now() - first).toBeLessThan(50);
    // Same instant on the limiter's clock: the next slot is 100 ms later.
    const second = performance.now();
    await limiter.take();
    expect(performance.now() - second).toBeGreaterThanOrEqual(90);
  });

  it('holds a burst of takes to the rate in real time', async () => {
    const limiter = createRateLimiter(50);
    const start = performance.now();
    await Promise.all(Array.from({ length: 11 }, () => limiter.take()));
    const elapsed = performance.now() - start;
    // Eleven requests at 50/s: the first at once, the last 10 x 20 ms later.
    expect(elapsed).toBeGreaterThanOrEqual(190);
    expect(elapsed).toBeLessThan(600);
  });

  it('lets a waiting caller give up through its signal', async () => {
    const limiter = createRateLimiter(1);
    await limiter.take();
    const controller = new AbortController();
    const waiting = limiter.take(controller.signal);
    controller.abort(new Error('stopping'));
    await expect(waiting).rejects.toThrow(/aborted/);
  });

  it('refuses a rate that is not above zero', () => {
    expect(() => createRateLimiter(0)).toThrow(RangeError);
    expect(() => createRateLimiter(Number.NaN)).toThrow(RangeError);
    expect(() => createRateLimiter(5).setRate(0)).toThrow(RangeError);
  });

  it('spaces the requests after a change of rate by the new rate: a runner\'s share as runners come and go', async () => {
    let clock = 0;
    const limiter = createRateLimiter(100, () => clock);
    await limiter.take();
    limiter.setRate(10);
    expect(limiter.perSecond).toBe(10);
    clock = 10;
    // The slot after the first was 10 ms later at 100/s; the one after it is 100 ms on at 10/s.
    await limiter.take();
    const waited = performance.now();
    await limiter.take();
    expect(performance.now() - waited).toBeGreaterThanOrEqual(90);
  });
});
