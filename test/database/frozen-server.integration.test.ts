import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { startMockServer, type MockServer } from '../../mockserver/mock-server.js';
import { createDatabase, type Knex } from '../../src/database/database.js';
import { migratorConfig } from '../../src/database/migrations.js';
import { delayNotifications } from '../support/job-fixtures.js';
import { postgresBinDir, usePrivatePostgres } from '../support/private-postgres.js';
import { FAST_HTTP_ENV } from '../support/run-sweep.js';
import { startSweepProcess, waitFor, type SweepProcess } from '../support/sweep-process.js';

/**
 * A PostgreSQL server that stops answering mid-run, as a stalled volume, a paused VM or a
 * network path gone without a reset look to a client: the test's own cluster, frozen
 * with SIGSTOP on the postmaster and its backends while the run's statements are in
 * flight. The server's own timeouts cannot fire; the client's deadlines must.
 */
const LEASE_SECONDS = 3;

describe.skipIf(inject('testDatabase').kind !== 'postgres' || !postgresBinDir())('a frozen database server', () => {
  const cluster = usePrivatePostgres();
  let db: Knex;
  let mock: MockServer;

  beforeAll(async () => {
    db = createDatabase({ kind: 'postgres', url: cluster.server.url });
    await db.migrate.latest(migratorConfig);
    mock = await startMockServer({ port: 0 });
  }, 60_000);
  afterAll(async () => {
    await db?.destroy();
    await mock?.close();
  });
  beforeEach(async () => {
    cluster.server.thaw();
    for (const table of ['deliveries', 'job_runs', 'job_positions', 'todos']) await db(table).del();
    mock.reset();
  });

  const start = (args: string[], env: Record<string, string> = {}): SweepProcess => startSweepProcess(
    [delayNotifications.job, ...delayNotifications.args, '--concurrency', '4', '--page-size', '20', '--lease-seconds', String(LEASE_SECONDS), ...args],
    // Runs over a fresh database of up to 3,000 with no history: the brake's floor above it, as a harness sets it.
    { DATABASE_URL: cluster.server.url, ...FAST_HTTP_ENV, SERVICES_URL: mock.url, SWEEP_HOLD_MIN: '10000', ...env },
  );
  const accepted = () => mock.journal().filter((entry) => entry.outcome === 'accepted').map((entry) => entry.key);
  /**
   * After the server is back and the stopped run's lease has passed (what it could not
   * release is its claims still): a rerun completes the sweep, every key accepted once.
   */
  const expectEveryKeyOnceAfterRerun = async (expected: Array<{ key: string }>) => {
    cluster.server.thaw();
    mock.configure({ latencyMs: 0 });
    await new Promise((resolve) => setTimeout(resolve, LEASE_SECONDS * 1000 + 500));
    const rerun = start([]);
    expect(await rerun.exited).toBe(0);
    expect(accepted().sort()).toEqual(expected.map((n) => n.key).sort());
  };

  it.each([
    ['a claim or a read, the notify service answering at once', 0],
    ['the records of answers that come after the freeze', 800],
  ])('SIGTERM during %s: exits 143 within --grace-seconds + 1 s, naming the wait it abandoned', async (_, latencyMs) => {
    const expected = await delayNotifications.seed(db, 400, 4);
    mock.configure({ latencyMs: latencyMs || 30 });
    const run = start(['--grace-seconds', '2']);
    await waitFor(() => accepted().length >= 8, 30_000, 'the first notifications');

    cluster.server.freeze();
    await new Promise((resolve) => setTimeout(resolve, latencyMs + 500));
    const signalledAt = Date.now();
    run.child.kill('SIGTERM');
    const exitCode = await run.exited;
    const elapsed = Date.now() - signalledAt;

    expect(exitCode).toBe(143);
    // The bound is the grace plus 1 s; the rest is room for a loaded CI machine. Without
    // client-side bounds the run waits for the server to come back: forever.
    expect(elapsed).toBeLessThan(2000 + 1000 + 1500);
    const ending = run.logs().find((line) => /interrupted by SIGTERM while waiting for the database/.test(line.msg));
    expect(ending).toMatchObject({ abandoned: true, exitCode: 143, statement: expect.stringMatching(/^(a statement on|the statement|a connection)/) });
    expect(ending!.msg).toMatch(/abandoned .* no answer within the grace period/);

    await expectEveryKeyOnceAfterRerun(expected);
  });

  it('without a signal: gives up past its statement_timeout with exit 75, "the database stopped answering", never hanging', async () => {
    const expected = await delayNotifications.seed(db, 400, 4);
    mock.configure({ latencyMs: 30 });
    const run = start([], { SWEEP_STATEMENT_TIMEOUT_MS: '1500', SWEEP_LOCK_TIMEOUT_MS: '1000' });
    await waitFor(() => accepted().length >= 8, 30_000, 'the first notifications');

    const frozenAt = Date.now();
    cluster.server.freeze();
    const exitCode = await run.exited;
    const elapsed = Date.now() - frozenAt;

    expect(exitCode).toBe(75);
    // statement_timeout (1.5 s) + the client's margin (2 s), and room for a loaded machine.
    expect(elapsed).toBeLessThan(1500 + 2000 + 2500);
    const errors = run.logs().filter((line) => line.level === 'error');
    expect(errors.some((line) => /the database stopped answering: no answer to .* within \d+\.\d s, past its server-side bound/.test(line.msg)))
      .toBe(true);
    // Every error is one line without SQL text.
    for (const line of errors) expect(line.msg).not.toMatch(/\$\d|\bvalues\s*\(/i);

    await expectEveryKeyOnceAfterRerun(expected);
  });

  it('a server that dies mid-run: once the ledger cannot be written, no new request starts', async () => {
    const expected = await delayNotifications.seed(db, 3000, 10);
    mock.configure({ latencyMs: 5 });
    const run = start(['--concurrency', '8', '--page-size', '200', '--grace-seconds', '2']);
    await waitFor(() => accepted().length >= 200, 30_000, 'the first notifications');

    cluster.server.crash();
    const diedAt = Date.now();
    const exitCode = await run.exited;
    const notifyRequests = mock.journal().filter((entry) => entry.endpoint === 'notify');
    // Answered after the death: the requests in flight then, and those started before the run
    // learnt of it (its next write, at most the recorder's 250 ms later).
    const after = notifyRequests.filter((entry) => Date.parse(entry.at) > diedAt).length;
    // The first word of trouble from the database: the run knows from then on.
    const learnt = run.logs().find((line) => ['warn', 'error'].includes(line.level) && /database|ledger/.test(line.msg));
    const learntAt = Date.parse(String(learnt?.time));
    const startedAfterLearning = notifyRequests.filter((entry) => Date.parse(entry.at) > learntAt + 5 + 50).length;
    console.info(`requests answered after the database died: ${after}; after the run learnt it: ${startedAfterLearning}`);

    expect([1, 75]).toContain(exitCode);
    expect(learnt).toBeDefined();
    // Only the ones in flight when it learnt (at most --concurrency) may still be answered.
    expect(startedAfterLearning).toBeLessThanOrEqual(8);

    cluster.server.start();
    await expectEveryKeyOnceAfterRerun(expected);
  });

  it('a run started on a frozen server fails within its connect timeout, and SIGTERM ends even that wait', async () => {
    cluster.server.freeze();
    const run = start(['--grace-seconds', '1']);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const signalledAt = Date.now();
    run.child.kill('SIGTERM');
    const exitCode = await run.exited;

    expect(exitCode).toBe(143);
    expect(Date.now() - signalledAt).toBeLessThan(1000 + 1000 + 1500);
  });
});
