import { describe, expect, inject, it } from 'vitest';
import { JOB_FIXTURES } from '../support/job-fixtures.js';
import { FAST_HTTP_ENV, runSweep } from '../support/run-sweep.js';
import { startSweepProcess, waitFor } from '../support/sweep-process.js';
import { withAdmin } from '../support/test-database-target.js';
import { useTestbed } from '../support/testbed.js';

describe.each(JOB_FIXTURES)('$job: when items or services fail', (fixture) => {
  const testbed = useTestbed();

  const sweep = (args: string[] = []) =>
    runSweep([fixture.job, ...fixture.args, ...args], { database: testbed.database, servicesUrl: testbed.mock.url });
  const deliveries = () => testbed.database.db('deliveries').select('*').orderBy('key');

  it('skips an item whose notification is refused, with its context, records it and sends the others', async () => {
    const expected = await fixture.seed(testbed.database.db, 3, 2);
    const refused = expected[1]!;
    testbed.mock.configure({ rules: [{ endpoint: 'notify', match: { key: refused.key }, status: 422, body: { error: 'unprocessable' } }] });

    const run = await sweep();

    expect(run.exitCode).toBe(0);
    expect(run.summary).toMatchObject({ sent: 2, failedPermanently: 1 });
    const skipLine = run.logs.find((line) => line.level === 'warn' && line.key === refused.key);
    expect(skipLine).toMatchObject({ workspaceId: refused.workspaceId, status: 422 });
    expect(skipLine!.msg).toMatch(/skipping it/);
    const rows = await deliveries();
    expect(rows.find((row) => row.key === refused.key)).toMatchObject({ status: 'failed', last_status: 422, attempts: 1 });
    expect(rows.filter((row) => row.status === 'sent')).toHaveLength(2);
    // Refused for good: the next run does not ask again.
    const requests = testbed.mock.stats().notificationRequests;
    expect((await sweep()).summary).toMatchObject({ found: 0, dueAgain: 0, sent: 0, ...(fixture.surveyed ? { previouslyFailed: 1 } : {}) });
    expect(testbed.mock.stats().notificationRequests).toBe(requests);
  });

  it('skips a workspace whose token is refused, with one log line, and sends the other workspaces', async () => {
    const expected = await fixture.seed(testbed.database.db, 6, 2);
    const refusedWorkspace = expected[0]!.workspaceId;
    const ofRefused = expected.filter((n) => n.workspaceId === refusedWorkspace);
    testbed.mock.configure({ rules: [{ endpoint: 'token', match: { workspaceId: refusedWorkspace }, status: 400, body: { error: 'invalid_scope' } }] });

    const run = await sweep();

    expect(run.exitCode).toBe(75);
    expect(run.summary).toMatchObject({ sent: 6 - ofRefused.length, skippedWithoutToken: ofRefused.length, workspacesWithoutToken: 1 });
    const workspaceLines = run.logs.filter((line) => line.workspaceId === refusedWorkspace && line.level === 'error');
    expect(workspaceLines).toHaveLength(1);
    expect(testbed.mock.journal().filter((entry) => entry.endpoint === 'token' && entry.workspaceId === refusedWorkspace)).toHaveLength(1);
    // Released without spending an attempt: the next run tries them at once.
    const released = (await deliveries()).filter((row) => row.workspace_id === refusedWorkspace);
    expect(released.map((row) => [row.status, row.attempts])).toEqual(ofRefused.map(() => ['retry', 0]));
    testbed.mock.configure({ rules: [] });
    const next = await sweep();
    expect(next.summary).toMatchObject({ sent: ofRefused.length, dueAgain: ofRefused.length, found: 0 });
  });

  it('stops sending after a run of failures, releases its claims without spending attempts and exits 75', async () => {
    await fixture.seed(testbed.database.db, 60, 3);
    testbed.mock.configure({ rules: [{ endpoint: 'notify', status: 503 }] });

    const run = await sweep(['--concurrency', '4', '--page-size', '20', '--retry-backoff-seconds', '0']);

    expect(run.exitCode).toBe(75);
    expect(testbed.mock.stats().notificationRequests).toBeLessThan(40);
    expect(run.logs.filter((line) => /the notify service looks down/.test(line.msg))).toHaveLength(1);
    const rows = await deliveries();
    expect(rows.filter((row) => row.status === 'pending')).toEqual([]);
    expect(rows.every((row) => row.status === 'retry')).toBe(true);
    // Only the few items whose retries ran out before the breaker tripped spent an attempt.
    const spent = rows.filter((row) => row.attempts > 0);
    expect(spent.length).toBeLessThanOrEqual(8);
    expect(run.summary).toMatchObject({ released: rows.length - spent.length, failedTransiently: spent.length });
    expect(rows.length - spent.length).toBeGreaterThan(10);

    testbed.mock.configure({ rules: [] });
    const next = await sweep();
    expect(next.exitCode).toBe(0);
    expect(testbed.mock.stats().accepted).toBe(60);
  });

  it.skipIf(inject('testDatabase').kind !== 'postgres')(
    'exits 1 with one line when the database is lost mid-run, and the next run completes with nothing sent twice', async () => {
      const expected = await fixture.seed(testbed.database.db, 30, 3);
      testbed.mock.configure({ latencyMs: 100 });
      const name = new URL(testbed.database.env.DATABASE_URL!).pathname.slice(1);
      const adminUrl = (inject('testDatabase') as { adminUrl: string }).adminUrl;
      const run = startSweepProcess([fixture.job, ...fixture.args, '--concurrency', '2', '--page-size', '5', '--lease-seconds', '1'],
        { ...testbed.database.env, ...FAST_HTTP_ENV, SERVICES_URL: testbed.mock.url });
      await waitFor(() => testbed.mock.stats().accepted >= 4, 20_000, 'the first notifications');

      await withAdmin(adminUrl, async (admin) => {
        await admin.raw(`alter database ${name} with allow_connections false`);
        await admin.raw('select pg_terminate_backend(pid) from pg_stat_activity where datname = ? and pid <> pg_backend_pid()', [name]);
      });
      const exitCode = await run.exited;
      await withAdmin(adminUrl, (admin) => admin.raw(`alter database ${name} with allow_connections true`));

      expect(exitCode).toBe(1);
      const errors = run.logs().filter((line) => line.level === 'error');
      expect(errors).toHaveLength(1);
      expect(errors[0]!.msg).toMatch(/cannot (read the |write the delivery ledger)/);

      testbed.mock.configure({ latencyMs: 0 });
      await new Promise((resolve) => setTimeout(resolve, 1100)); // the dead run's claims expire
      const rerun = await sweep();

      expect(rerun.exitCode).toBe(0);
      const accepted = testbed.mock.journal().filter((entry) => entry.outcome === 'accepted').map((entry) => entry.key);
      expect(accepted.sort()).toEqual(expected.map((n) => n.key));
      expect((await deliveries()).every((row) => row.status === 'sent')).toBe(true);
    });
});
