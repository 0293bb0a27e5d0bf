import type { Knex } from 'knex';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { delayNotifications } from '../support/job-fixtures.js';
import { FAST_HTTP_ENV, runSweep } from '../support/run-sweep.js';
import { startSweepProcess, waitFor } from '../support/sweep-process.js';
import { useTestbed } from '../support/testbed.js';

/**
 * A connection the database ends mid-statement (pg_terminate_backend: an administrator,
 * a failover): the run stops with one line that says what the statement was (its
 * operation and tables), never its SQL, and the next run sends every key once.
 */
describe.skipIf(inject('testDatabase').kind !== 'postgres')('a connection killed mid-statement', () => {
  const testbed = useTestbed();
  let holder: Knex.Transaction | undefined;
  afterEach(async () => {
    await holder?.rollback().catch(() => undefined);
    holder = undefined;
  });

  it('ends the run with one line naming the operation, without the SQL; the next run sends every key once', async () => {
    const expected = await delayNotifications.seed(testbed.database.db, 12, 3);
    holder = await testbed.database.db.transaction();
    await holder.raw('lock table deliveries in access exclusive mode');
    const run = startSweepProcess([delayNotifications.job, ...delayNotifications.args], {
      ...testbed.database.env, ...FAST_HTTP_ENV, SERVICES_URL: testbed.mock.url, SWEEP_SLOW_STATEMENT_MS: '300',
    });
    await waitFor(() => run.logs().some((line) => /still waiting for the database/.test(line.msg)), 20_000, 'the wait');

    const killed = await testbed.database.db.raw<{ rows: unknown[] }>(`select pg_terminate_backend(pid) from pg_stat_activity
      where datname = current_database() and wait_event_type = 'Lock' and pid <> pg_backend_pid()`);
    expect(killed.rows).toHaveLength(1);
    const exitCode = await run.exited;

    expect(exitCode).toBe(1);
    const errors = run.logs().filter((line) => line.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.msg).toMatch(/^run aborted by a database error: terminating connection due to administrator command \(in (insert|select) on [a-z_, ]*\bdeliveries\b[a-z_, ]*\) \[57P01\]$/);
    // Not the statement's text: no SQL keywords past its operation, no placeholders, no values.
    expect(errors[0]!.msg).not.toMatch(/\bvalues\b|\?|\$\d|on conflict|unnest|"deliveries"/i);
    expect(errors[0]!.msg).not.toContain('\n');

    await holder.rollback();
    holder = undefined;
    await new Promise((resolve) => setTimeout(resolve, 100));
    const again = await runSweep([delayNotifications.job, ...delayNotifications.args, '--lease-seconds', '1'],
      { database: testbed.database, servicesUrl: testbed.mock.url });
    expect(again.exitCode).toBe(0);
    expect(testbed.mock.journal().filter((entry) => entry.outcome === 'accepted').map((entry) => entry.key).sort())
      .toEqual(expected.map((n) => n.key));
  });
});
