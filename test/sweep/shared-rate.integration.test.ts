import { describe, expect, inject, it } from 'vitest';
import { delayNotifications } from '../support/job-fixtures.js';
import { FAST_HTTP_ENV } from '../support/run-sweep.js';
import { startSweepProcess } from '../support/sweep-process.js';
import { useTestbed } from '../support/testbed.js';

/** --max-rate is the job's limit: its live runners share it, and one that ends leaves its share to the others. */
describe.skipIf(inject('testDatabase').kind !== 'postgres')('one rate limit for the job', () => {
  const testbed = useTestbed();

  it('keeps three runners given --max-rate 100 to about 100 requests a second together, not 300', async () => {
    await delayNotifications.seed(testbed.database.db, 1200, 12);
    // A first run over a fresh database of 1,200: the brake's floor above it, as a harness sets it.
    const env = { ...testbed.database.env, ...FAST_HTTP_ENV, SERVICES_URL: testbed.mock.url, LOG_LEVEL: 'info', SWEEP_HOLD_MIN: '2000' };
    const runners = [1, 2, 3].map(() => startSweepProcess([delayNotifications.job, ...delayNotifications.args,
      '--max-rate', '100', '--concurrency', '8', '--page-size', '50'], env));

    expect(await Promise.all(runners.map((runner) => runner.exited))).toEqual([0, 0, 0]);

    const times = testbed.mock.journal().filter((entry) => entry.endpoint === 'notify').map((entry) => Date.parse(entry.at)).sort((a, b) => a - b);
    expect(times).toHaveLength(1200);
    const seconds = (times.at(-1)! - times[0]!) / 1000;
    const rate = 1200 / seconds;
    // Each second after the first, in which the runners learn of each other (a second at most).
    const busiest = Math.max(...times.filter((at) => at >= times[0]! + 1500).map((start) => times.filter((at) => at >= start && at < start + 1000).length));
    console.info(`shared rate: 1200 requests in ${seconds.toFixed(1)} s (${rate.toFixed(0)}/s together); busiest later second ${busiest}`);
    expect(rate).toBeGreaterThan(80);
    expect(rate).toBeLessThan(125);
    expect(busiest).toBeLessThanOrEqual(125);
    // Each runner said what its share was.
    for (const runner of runners) expect(runner.logs().some((line) => line.liveRunners !== undefined && typeof line.share === 'number')).toBe(true);
  }, 60_000);
});
