import { describe, expect, inject, it } from 'vitest';
import { JOB_FIXTURES, type ExpectedNotification } from '../support/job-fixtures.js';
import { FAST_HTTP_ENV, runSweep } from '../support/run-sweep.js';
import { startSweepProcess, waitFor } from '../support/sweep-process.js';
import { useTestbed } from '../support/testbed.js';

const LEASE_SECONDS = 1;

// Real processes killed with SIGKILL, beside the test on one database: that needs a server.
describe.skipIf(inject('testDatabase').kind !== 'postgres').each(JOB_FIXTURES)('$job: crashes and overlapping processes', (fixture) => {
  const testbed = useTestbed();

  const env = () => ({ ...testbed.database.env, ...FAST_HTTP_ENV, SERVICES_URL: testbed.mock.url, LOG_LEVEL: 'info' });
  const notifyRequests = () => testbed.mock.journal().filter((entry) => entry.endpoint === 'notify');
  const keysOf = (expected: ExpectedNotification[]) => expected.map((n) => n.key);

  /** Every key accepted exactly once; keys requested twice were all claimed, unrecorded, by the killed run. */
  async function expectExactlyOnceAfterRerun(expected: ExpectedNotification[], pendingAtKill: Set<string>) {
    await new Promise((resolve) => setTimeout(resolve, LEASE_SECONDS * 1000 + 100));
    testbed.mock.configure({ latencyMs: 0, tokenLatencyMs: 0 });
    const rerun = await runSweep([fixture.job, ...fixture.args], { database: testbed.database, servicesUrl: testbed.mock.url });
    expect(rerun.exitCode).toBe(0);

    const accepted = notifyRequests().filter((entry) => entry.outcome === 'accepted').map((entry) => entry.key!);
    expect(accepted.sort()).toEqual(keysOf(expected));
    const requestsPerKey = new Map<string, number>();
    for (const entry of notifyRequests()) requestsPerKey.set(entry.key!, (requestsPerKey.get(entry.key!) ?? 0) + 1);
    const requestedTwice = [...requestsPerKey].filter(([, count]) => count > 1).map(([key]) => key);
    for (const key of requestedTwice) expect(pendingAtKill.has(key)).toBe(true);
    const statuses = await testbed.database.db('deliveries').select('status');
    expect(statuses.every((row) => row.status === 'sent')).toBe(true);
    return { rerun, requestedTwice };
  }

  async function killAndReadPending(run: ReturnType<typeof startSweepProcess>): Promise<Set<string>> {
    run.child.kill('SIGKILL');
    expect(await run.exited).toBe(137);
    const pending = await testbed.database.db('deliveries').where({ status: 'pending' }).pluck('key');
    return new Set(pending as string[]);
  }

  const start = (args: string[], extraEnv: Record<string, string> = {}) =>
    startSweepProcess([fixture.job, ...fixture.args, ...args], { ...env(), ...extraEnv });

  it('recovers a run killed before its first send', async () => {
    const expected = await fixture.seed(testbed.database.db, 12, 3);
    testbed.mock.configure({ tokenLatencyMs: 5000 });
    const run = start(['--lease-seconds', String(LEASE_SECONDS)]);
    await waitFor(() => testbed.mock.stats().tokenRequests >= 1, 20_000, 'a token request');

    const pending = await killAndReadPending(run);

    expect(pending.size).toBe(12);
    expect(notifyRequests()).toHaveLength(0);
    const { rerun, requestedTwice } = await expectExactlyOnceAfterRerun(expected, pending);
    expect(requestedTwice).toEqual([]);
    // The killed run's claims are counted once, as due again: not also as held by another run.
    expect(rerun.summary).toMatchObject({ dueAgain: 12, claimedElsewhere: 0, sent: 12 });
    expect(rerun.logs.find((line) => line.abandonedRuns !== undefined)).toMatchObject({ level: 'warn', abandonedRuns: 1 });
    // Its row still says running (no process recorded an end), and is shown abandoned.
    const killedId = (await testbed.database.db('job_runs').where({ status: 'running' }).pluck('id'))[0];
    const listed = await runSweep(['runs', '--json', '--status', 'abandoned'], { database: testbed.database });
    const shown = listed.output.split('\n').filter((line) => line.startsWith('{"id"')).map((line) => JSON.parse(line) as { id: string; status: string });
    expect(shown).toEqual([expect.objectContaining({ id: killedId, status: 'abandoned' })]);
  });

  it('recovers a run killed mid-page', async () => {
    const expected = await fixture.seed(testbed.database.db, 30, 3);
    testbed.mock.configure({ latencyMs: 150 });
    const run = start(['--concurrency', '3', '--page-size', '10', '--lease-seconds', String(LEASE_SECONDS)]);
    await waitFor(() => testbed.mock.stats().accepted >= 5, 20_000, 'some notifications');

    const pending = await killAndReadPending(run);

    expect(pending.size).toBeGreaterThan(0);
    await expectExactlyOnceAfterRerun(expected, pending);
  });

  it('recovers a run killed between sending and recording: the lost answers come back as 409', async () => {
    const expected = await fixture.seed(testbed.database.db, 40, 2);
    // The first ten (in scan order) are answered at once; the rest hold every request slot.
    testbed.mock.configure({ rules: expected.slice(10).map((n) => ({ endpoint: 'notify' as const, match: { key: n.key }, delayMs: 5000 })) });
    const run = start(['--concurrency', '8', '--page-size', '40', '--lease-seconds', String(LEASE_SECONDS)]);
    // Outcomes are flushed 250 ms after the first one: kill inside that window.
    await waitFor(() => testbed.mock.stats().accepted >= 10, 20_000, 'the fast notifications');

    const pending = await killAndReadPending(run);
    const acceptedAtKill = notifyRequests().filter((entry) => entry.outcome === 'accepted').map((entry) => entry.key!);
    const unrecorded = acceptedAtKill.filter((key) => pending.has(key));

    expect(unrecorded.length).toBeGreaterThan(0);
    testbed.mock.configure({ rules: [] });
    const { rerun, requestedTwice } = await expectExactlyOnceAfterRerun(expected, pending);
    expect(requestedTwice.sort()).toEqual(unrecorded.sort());
    expect(rerun.summary).toMatchObject({ duplicates: unrecorded.length });
  });

  it('shares 2,000 items between four processes started together, one request per key', async () => {
    const expected = await fixture.seed(testbed.database.db, 2000, 20);
    // A token of another workspace would be answered 403 and show in the journal.
    testbed.mock.configure({ latencyMs: 2, ...fixture.ownership(expected) });

    // A generous timeout: on a loaded machine a retry after a timeout would be a second request (a 409) of one run.
    // A first run over a fresh database of 2,000, with no history: the brake's floor above it, as a harness sets it.
    const runs = [1, 2, 3, 4].map(() => start(['--page-size', '100'], { HTTP_TIMEOUT_MS: '30000', SWEEP_HOLD_MIN: '2000' }));
    const exitCodes = await Promise.all(runs.map((run) => run.exited));

    expect(exitCodes).toEqual([0, 0, 0, 0]);
    const requests = notifyRequests();
    expect(requests).toHaveLength(2000);
    expect(requests.map((entry) => entry.key).sort()).toEqual(keysOf(expected));
    expect(requests.every((entry) => entry.status === 201)).toBe(true);
    const byKey = new Map(expected.map((n) => [n.key, n]));
    expect(requests.every((entry) => entry.workspaceId === byKey.get(entry.key!)?.workspaceId
      && entry.message === byKey.get(entry.key!)?.message)).toBe(true);
    const sent = await testbed.database.db('deliveries').where({ status: 'sent' }).count({ n: '*' }).first();
    expect(Number(sent?.n)).toBe(2000);
    const summaries = runs.map((run) => run.logs().find((line) => line.summary === true));
    expect(summaries.reduce((sum, line) => sum + Number(line?.sent), 0)).toBe(2000);
  });
});
