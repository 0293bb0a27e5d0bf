import { describe, expect, inject, it } from 'vitest';
import { JOB_FIXTURES } from '../support/job-fixtures.js';
import { FAST_HTTP_ENV, runSweep } from '../support/run-sweep.js';
import { startSweepProcess, waitFor } from '../support/sweep-process.js';
import { useTestbed } from '../support/testbed.js';

// A real child process and the test share the database: that needs a server.
describe.skipIf(inject('testDatabase').kind !== 'postgres').each(JOB_FIXTURES)('$job: signals stop a run cleanly', (fixture) => {
  const testbed = useTestbed();

  const env = () => ({ ...testbed.database.env, ...FAST_HTTP_ENV, SERVICES_URL: testbed.mock.url });
  const acceptedKeys = () => testbed.mock.journal().filter((entry) => entry.outcome === 'accepted').map((entry) => entry.key);
  const start = (args: string[]) => startSweepProcess([fixture.job, ...fixture.args, ...args], env());
  const rerun = () => runSweep([fixture.job, ...fixture.args], { database: testbed.database, servicesUrl: testbed.mock.url });

  it.each([
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const)('on %s: finishes the requests in flight, records them, releases the rest and exits %i', async (signal, code) => {
    const expected = await fixture.seed(testbed.database.db, 40, 4);
    testbed.mock.configure({ latencyMs: 300 });
    const run = start(['--concurrency', '2', '--page-size', '10']);
    await waitFor(() => acceptedKeys().length >= 2, 20_000, 'the first notifications');

    run.child.kill(signal);
    const exitCode = await run.exited;

    expect(exitCode).toBe(code);
    const rows = await testbed.database.db('deliveries').select('key', 'status', 'attempts');
    // Every request that reached the service was answered and recorded as sent.
    const sent = rows.filter((row) => row.status === 'sent').map((row) => row.key);
    expect(sent.sort()).toEqual(acceptedKeys().sort());
    // The rest are released at once, without spending an attempt: nothing left pending.
    expect(rows.filter((row) => row.status === 'pending')).toEqual([]);
    expect(rows.filter((row) => row.status === 'retry').every((row) => row.attempts === 0)).toBe(true);
    expect(await testbed.database.db('job_runs').first()).toMatchObject({ status: 'interrupted', error: `interrupted by ${signal}` });
    expect(run.logs().some((line) => line.level === 'warn' && /stopping: no new claims/.test(line.msg))).toBe(true);

    testbed.mock.configure({ latencyMs: 0 });
    const again = await rerun();
    expect(again.exitCode).toBe(0);
    const keys = testbed.mock.journal().filter((entry) => entry.endpoint === 'notify').map((entry) => entry.key);
    expect(keys.sort()).toEqual(expected.map((n) => n.key));
  });

  it('abandons requests still in flight when the grace period ends, and a rerun settles them by their key', async () => {
    const expected = await fixture.seed(testbed.database.db, 6, 2);
    testbed.mock.configure({ latencyMs: 3000 });
    const run = start(['--concurrency', '2', '--grace-seconds', '1']);
    await waitFor(() => testbed.mock.stats().notificationRequests >= 2, 20_000, 'requests in flight');

    const signalledAt = Date.now();
    run.child.kill('SIGTERM');
    const exitCode = await run.exited;

    expect(exitCode).toBe(143);
    expect(Date.now() - signalledAt).toBeLessThan(2500);
    const rows = await testbed.database.db('deliveries').select('status', 'attempts');
    expect(rows.map((row) => [row.status, row.attempts])).toEqual(Array(6).fill(['retry', 0]));
    expect(run.logs().filter((line) => /was answered: released for the next run/.test(line.msg))).toHaveLength(2);

    // Whether or not the service went on with an abandoned request, the Idempotency-Key
    // makes the rerun's second send harmless: each key is accepted once.
    testbed.mock.configure({ latencyMs: 0 });
    const again = await rerun();
    expect(again.summary).toMatchObject({ sent: 6 });
    expect(new Set(acceptedKeys())).toEqual(new Set(expected.map((n) => n.key)));
    expect(acceptedKeys()).toHaveLength(6);
  });

  it('exits at once on a second signal, leaving the unfinished claims to their lease', async () => {
    await fixture.seed(testbed.database.db, 10, 2);
    testbed.mock.configure({ latencyMs: 5000 });
    const run = start(['--concurrency', '2', '--grace-seconds', '60']);
    await waitFor(async () => Number((await testbed.database.db('deliveries').count({ n: '*' }).first())?.n) === 10, 20_000, 'the claims');
    await waitFor(() => testbed.mock.stats().notificationRequests >= 2, 20_000, 'requests in flight');

    run.child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const secondAt = Date.now();
    run.child.kill('SIGTERM');
    const exitCode = await run.exited;

    expect(exitCode).toBe(143);
    expect(Date.now() - secondAt).toBeLessThan(2000);
    expect(run.logs().length).toBeGreaterThan(0);
  });
});
