import type { Knex } from 'knex';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { JOB_FIXTURES } from '../support/job-fixtures.js';
import { FAST_HTTP_ENV, runSweep } from '../support/run-sweep.js';
import { startSweepProcess, waitFor } from '../support/sweep-process.js';
import { useTestbed } from '../support/testbed.js';

const LOCK_TIMEOUT_MS = 1500;

/**
 * Another session holds a lock the run needs (a schema change, a stuck transaction):
 * the run waits a bounded time, says so, and stops with exit 75; a signal ends the wait
 * at once. Another connection holds the lock, so this needs a server.
 */
describe.skipIf(inject('testDatabase').kind !== 'postgres').each(JOB_FIXTURES)('$job: a lock held by another session', (fixture) => {
  const testbed = useTestbed();
  let holder: Knex.Transaction | undefined;

  afterEach(async () => {
    await holder?.rollback().catch(() => undefined);
    holder = undefined;
  });

  const lock = async (table: string) => {
    holder = await testbed.database.db.transaction();
    await holder.raw(`lock table ${table} in access exclusive mode`);
  };
  const sweep = (env: Record<string, string> = {}) => runSweep([fixture.job, ...fixture.args],
    { database: testbed.database, servicesUrl: testbed.mock.url, env });
  const notifiedKeys = () => testbed.mock.journal().filter((entry) => entry.endpoint === 'notify').map((entry) => entry.key);

  it.each(['todos', 'deliveries'])('on %s: ends within the lock timeout with exit 75 and one line; the next run sends every key once', async (table) => {
    const expected = await fixture.seed(testbed.database.db, 12, 3);
    await lock(table);

    const startedAt = Date.now();
    const run = await sweep({ SWEEP_LOCK_TIMEOUT_MS: String(LOCK_TIMEOUT_MS) });

    expect(run.exitCode).toBe(75);
    expect(Date.now() - startedAt).toBeLessThan(LOCK_TIMEOUT_MS + 4000);
    const errors = run.logs.filter((line) => line.level === 'error' || line.level === 'fatal');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.msg).toMatch(new RegExp(`lock_timeout \\(${LOCK_TIMEOUT_MS} ms\\).*a statement on [a-z_, ]*\\b${table}\\b`));
    expect(notifiedKeys()).toEqual([]);

    await holder!.rollback();
    holder = undefined;
    const again = await sweep();
    expect(again.exitCode).toBe(0);
    expect(notifiedKeys().sort()).toEqual(expected.map((n) => n.key));
  });

  it.each(['todos', 'deliveries'])('on %s: says it is waiting, and SIGTERM ends the wait within the grace period with exit 143', async (table) => {
    const expected = await fixture.seed(testbed.database.db, 12, 3);
    await lock(table);
    const run = startSweepProcess([fixture.job, ...fixture.args, '--grace-seconds', '3'], {
      ...testbed.database.env, ...FAST_HTTP_ENV, SERVICES_URL: testbed.mock.url,
      SWEEP_LOCK_TIMEOUT_MS: '60000', SWEEP_SLOW_STATEMENT_MS: '300',
    });
    await waitFor(() => run.logs().some((line) => line.level === 'warn' && /still waiting for the database/.test(line.msg)),
      30_000, 'the warning that the run waits');
    expect(run.logs().find((line) => /still waiting for the database/.test(line.msg))?.statement).toMatch(new RegExp(`\\b${table}\\b`));

    const signalledAt = Date.now();
    run.child.kill('SIGTERM');
    const exitCode = await run.exited;

    expect(exitCode).toBe(143);
    expect(Date.now() - signalledAt).toBeLessThan(3000);
    expect(await testbed.database.db('job_runs').first()).toMatchObject({ status: 'interrupted', error: 'interrupted by SIGTERM' });
    expect(notifiedKeys()).toEqual([]);

    await holder!.rollback();
    holder = undefined;
    const again = await sweep();
    expect(again.exitCode).toBe(0);
    expect(notifiedKeys().sort()).toEqual(expected.map((n) => n.key));
  });
});
