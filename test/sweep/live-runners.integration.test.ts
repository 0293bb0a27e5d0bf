import { describe, expect, inject, it } from 'vitest';
import { delayNotifications } from '../support/job-fixtures.js';
import { startSweepProcess } from '../support/sweep-process.js';
import { useTestbed } from '../support/testbed.js';

const ROUNDS = Number(process.env.LIVE_RUNNER_ROUNDS ?? 2);

/**
 * Live runners sharing a sweep under stress, as an operator tried it: four runners with a
 * 1 s lease, started 1.5 s apart, over 2,000 todos in 20 workspaces, against a service
 * that answers in 30 ms and fails 10% with 500, 3% with 429 (Retry-After: 1) and resets
 * 3% of connections, all before accepting anything. No process is killed and no answer
 * is lost, so no key may be requested again once it was accepted: a 409 here means a
 * live run lost a claim it still held.
 */
describe.skipIf(inject('testDatabase').kind !== 'postgres')('live runners sharing a sweep', () => {
  const testbed = useTestbed();

  it(`never repeat a request among themselves, in ${ROUNDS} rounds`, async () => {
    const repeats: number[] = [];
    for (let round = 1; round <= ROUNDS; round += 1) {
      for (const table of ['deliveries', 'job_runs', 'job_positions', 'todos']) await testbed.database.db(table).del();
      testbed.mock.reset();
      const expected = await delayNotifications.seed(testbed.database.db, 2000, 20);
      testbed.mock.configure({ latencyMs: 30, error5xxRate: 0.1, rateLimitRate: 0.03, retryAfterSeconds: 1, dropRate: 0.03,
        seed: round, journal: true });
      // Runs over a fresh database of 2,000 each round: the brake's floor above it, as a harness sets it.
      const env = { ...testbed.database.env, SERVICES_URL: testbed.mock.url, LOG_LEVEL: 'info', SWEEP_HOLD_MIN: '4000' };
      const runners = [];
      for (let i = 0; i < 4; i += 1) {
        if (i > 0) await new Promise((resolve) => setTimeout(resolve, 1500));
        runners.push(startSweepProcess([delayNotifications.job, ...delayNotifications.args, '--lease-seconds', '1',
          '--retry-backoff-seconds', '0', '--concurrency', '8'], env));
      }
      const exitCodes = await Promise.all(runners.map((runner) => runner.exited));
      // Whatever is left to retry, the scheduler's next runs would take: here, one more.
      const finish = startSweepProcess([delayNotifications.job, ...delayNotifications.args, '--retry-backoff-seconds', '0'], env);
      await finish.exited;

      const notifications = testbed.mock.journal().filter((entry) => entry.endpoint === 'notify');
      const accepted = notifications.filter((entry) => entry.outcome === 'accepted').map((entry) => entry.key);
      expect(new Set(accepted).size, `round ${round}: exit codes ${exitCodes.join(', ')}`).toBe(accepted.length);
      expect(accepted.length + (await testbed.database.db('deliveries').whereNot({ status: 'sent' }).count({ n: '*' }).first()
        .then((row) => Number(row?.n))), `round ${round}`).toBe(expected.length);
      repeats.push(notifications.filter((entry) => entry.status === 409).length);
    }
    console.info(`live runners: requests for keys already accepted (409) per round: ${repeats.join(', ')}`);
    expect(repeats).toEqual(repeats.map(() => 0));
  }, 600_000);
});
