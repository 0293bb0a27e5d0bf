import { describe, expect, it } from 'vitest';
import type { JournalEntry } from '../../mockserver/mock-server.js';
import { JOB_FIXTURES } from '../support/job-fixtures.js';
import { runSweep, type SweepRun } from '../support/run-sweep.js';
import { useTestbed } from '../support/testbed.js';

/**
 * The fault suite: the notify service in a bad mood (about a third of the requests
 * faulted) over 1,000 items in 20 workspaces (a digest's item is a workspace: 1,000 of them), for every notification job. Reruns, as the scheduler would
 * run them, must converge on every key accepted exactly once, each with its own
 * workspace's token, with exit 75 until the last run and 0 on it.
 */

const ITEMS = 1000;
const WORKSPACES = 20;
const MAX_RUNS = 5;

/** Faults of the mock: 32% of the notifications, drawn from a seeded generator. */
const FAULTS = {
  error5xxRate: 0.2,
  rateLimitRate: 0.05,
  retryAfterSeconds: 1,
  dropRate: 0.05,
  slowRate: 0.02,
  slowMs: 1000,
  seed: 20220603,
};

/** Fast enough for `npm test`: a slow answer times out at 300 ms, no wait exceeds 100 ms (Retry-After: 1 included). */
const HTTP_ENV = {
  HTTP_TIMEOUT_MS: '300',
  HTTP_RETRY_BASE_MS: '5',
  HTTP_RETRY_MAX_MS: '100',
  HTTP_RETRIES: '2',
};

const testbed = useTestbed();

const sweep = (args: string[]) => runSweep(args, { database: testbed.database, servicesUrl: testbed.mock.url, env: HTTP_ENV });
const show = (entries: JournalEntry[]) => entries.map((entry) => JSON.stringify(entry)).join('\n');

describe.each(JOB_FIXTURES)('$job: the fault suite', (fixture) => {
  it('sends each of 1,000 notifications exactly once, with its own workspace\'s token, through 5xx, 429, drops and timeouts', async () => {
    const expected = await fixture.seed(testbed.database.db, ITEMS, WORKSPACES);
    const byKey = new Map(expected.map((n) => [n.key, n]));
    // A notification carrying another workspace's token is answered 403.
    testbed.mock.configure({ ...FAULTS, ...fixture.ownership(expected) });

    const runs: SweepRun[] = [];
    const startedAt = performance.now();
    while (runs.length < MAX_RUNS) {
      const run = await sweep([fixture.job, ...fixture.args, '--retry-backoff-seconds', '0']);
      runs.push(run);
      if (run.exitCode !== 75) break;
    }
    const seconds = (performance.now() - startedAt) / 1000;
    const exitCodes = runs.map((run) => run.exitCode);
    const timeouts = runs.flatMap((run) => run.logs.filter((line) => line.code === 'ETIMEDOUT' && /attempt failed/.test(line.msg)));
    console.info(`fault suite: ${runs.length} run(s) in ${seconds.toFixed(1)} s, exit codes ${exitCodes.join(', ')}; `
      + `${timeouts.length} client timeout(s) for ${testbed.mock.journal().filter((entry) => entry.status === 504).length} slow answer(s); `
      + `mock stats ${JSON.stringify(testbed.mock.stats())}; per run ${JSON.stringify(runs.map((run) => ({
        sent: run.summary?.sent, duplicates: run.summary?.duplicates, failedTransiently: run.summary?.failedTransiently,
        released: run.summary?.released, dead: run.summary?.dead })))}`);

    // Exit codes: 75 while some items failed transiently, then 0.
    expect(runs.at(-1)!.exitCode, `exit codes ${exitCodes.join(', ')}`).toBe(0);
    expect(exitCodes.slice(0, -1).every((code) => code === 75), `exit codes ${exitCodes.join(', ')}`).toBe(true);
    // The circuit breaker must not trip at a third of the requests failing.
    const breakerLines = runs.flatMap((run) => run.logs.filter((line) => /looks down/.test(line.msg)));
    expect(breakerLines, JSON.stringify(breakerLines)).toEqual([]);

    const journal = testbed.mock.journal();
    const notifications = journal.filter((entry) => entry.endpoint === 'notify');
    // The suite really exercised every kind of fault.
    const statuses = [...new Set(notifications.map((entry) => entry.status))];
    for (const status of [500, 502, 503, 429, 504, 'dropped'] as const) expect(statuses, `no ${status} was injected`).toContain(status);

    // Each key accepted exactly once, and exactly the delayed todos' keys.
    const accepted = notifications.filter((entry) => entry.outcome === 'accepted');
    const acceptedKeys = accepted.map((entry) => entry.key!);
    const twice = accepted.filter((entry, index) => acceptedKeys.indexOf(entry.key!) !== index);
    expect(twice, `keys accepted more than once:\n${show(notifications.filter((entry) =>
      twice.some((again) => again.key === entry.key)))}`).toEqual([]);
    expect(accepted).toHaveLength(ITEMS);
    expect(new Set(acceptedKeys)).toEqual(new Set(byKey.keys()));

    // No notification ever carried another workspace's token.
    const forbidden = journal.filter((entry) => entry.status === 403);
    expect(forbidden, show(forbidden)).toEqual([]);
    const misdirected = notifications.filter((entry) => entry.workspaceId !== byKey.get(entry.key!)?.workspaceId
      || entry.message !== byKey.get(entry.key!)?.message);
    expect(misdirected, show(misdirected)).toEqual([]);

    // The ledger: every delivery sent.
    const rows = await testbed.database.db('deliveries').select('key', 'status', 'attempts', 'last_status', 'last_error');
    expect(rows).toHaveLength(ITEMS);
    const notSent = rows.filter((row) => row.status !== 'sent');
    expect(notSent, JSON.stringify(notSent)).toEqual([]);
    expect(new Set(rows.map((row) => row.key))).toEqual(new Set(byKey.keys()));

    // The run history: one row per run, in order, 'partial' for each 75 and 'succeeded' for the 0.
    const jobRuns = await testbed.database.db('job_runs').where({ job: fixture.job }).select('id', 'status').orderBy('started_at');
    const runIds = runs.map((run) => run.summary?.runId);
    expect(jobRuns.map((row) => row.id)).toEqual(runIds);
    expect(jobRuns.map((row) => row.status)).toEqual(exitCodes.map((code) => (code === 0 ? 'succeeded' : 'partial')));
    expect(jobRuns.at(-1)!.status).toBe('succeeded');
  });
});
