import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { JOB_FIXTURES, type ExpectedNotification } from '../support/job-fixtures.js';
import { runSweep } from '../support/run-sweep.js';
import { useTestbed } from '../support/testbed.js';

describe.each(JOB_FIXTURES)('$job: claims, leases and overlapping runs', (fixture) => {
  const testbed = useTestbed();

  const sweep = (args: string[] = []) =>
    runSweep([fixture.job, ...fixture.args, ...args], { database: testbed.database, servicesUrl: testbed.mock.url });
  const notifiedKeys = () => testbed.mock.journal().filter((entry) => entry.endpoint === 'notify').map((entry) => entry.key);
  const keysOf = (expected: ExpectedNotification[]) => expected.map((n) => n.key);

  it('takes over the claims of a run that died once their lease has expired, and leaves live claims alone', async () => {
    const [orphaned, live] = await fixture.seed(testbed.database.db, 2, 1);
    const claim = (notification: ExpectedNotification, leaseExpiresAt: string) => ({
      key: notification.key, job: fixture.job, workspace_id: notification.workspaceId, item_id: notification.key.split(':')[1],
      item_date: notification.key.split(':')[2], message: notification.message, status: 'pending', run_id: randomUUID(),
      lease_expires_at: testbed.database.db.raw(`now() + interval '${leaseExpiresAt}'`),
    });
    await testbed.database.db('deliveries').insert([claim(orphaned!, '-1 minute'), claim(live!, '1 hour')]);

    const run = await sweep();

    expect(run.exitCode).toBe(0);
    expect(notifiedKeys()).toEqual([orphaned!.key]);
    // The dead run's claim is due again (the ledger's own work); the live one is neither due nor new.
    expect(run.summary).toMatchObject({ dueAgain: 1, found: 0, claimed: 1, sent: 1 });
    const rows = await testbed.database.db('deliveries').select('key', 'status').orderBy('key');
    expect(Object.fromEntries(rows.map((row) => [row.key, row.status]))).toEqual({ [orphaned!.key]: 'sent', [live!.key]: 'pending' });
  });

  it('sends every item once on a first run and nothing on a rerun of the same data', async () => {
    const expected = await fixture.seed(testbed.database.db, 25, 4);
    testbed.mock.configure(fixture.ownership(expected));

    const first = await sweep(['--page-size', '7']);
    const rerun = await sweep(['--page-size', '7']);

    expect([first.exitCode, rerun.exitCode]).toEqual([0, 0]);
    const requests = testbed.mock.journal().filter((entry) => entry.endpoint === 'notify');
    expect(requests.map((entry) => [entry.key, entry.message, entry.workspaceId, entry.status]).sort())
      .toEqual(expected.map((n) => [n.key, n.message, n.workspaceId, 201]));
    expect(first.summary).toMatchObject({ found: 25, sent: 25, ...(fixture.surveyed ? { inScope: 25 } : {}) });
    expect(rerun.summary).toMatchObject({ found: 0, dueAgain: 0, sent: 0, ...(fixture.surveyed ? { inScope: 25, alreadySent: 25 } : {}) });
  });

  describe.skipIf(inject('testDatabase').kind !== 'postgres')('overlapping runs (needs a PostgreSQL server)', () => {
    it('shares the work between three runs started together: every key sent exactly once', async () => {
      const expected = await fixture.seed(testbed.database.db, 300, 10);
      testbed.mock.configure({ latencyMs: 5 });

      const runs = await Promise.all([1, 2, 3].map(() => sweep(['--page-size', '20', '--concurrency', '8'])));

      expect(runs.map((run) => run.exitCode)).toEqual([0, 0, 0]);
      const keys = notifiedKeys();
      expect(keys).toHaveLength(300);
      expect(keys.sort()).toEqual(keysOf(expected));
      expect(runs.reduce((sum, run) => sum + Number(run.summary!.sent), 0)).toBe(300);
      const sent = await testbed.database.db('deliveries').where({ status: 'sent' }).count({ n: '*' }).first();
      expect(Number(sent?.n)).toBe(300);
    });

    it('keeps a live run\'s claims past their lease: a run started after the lease has passed sends none of them', async () => {
      const expected = await fixture.seed(testbed.database.db, 6, 2);
      // One request at a time, 400 ms each: the first run needs ~2.4 s for claims leased for 1 s.
      testbed.mock.configure({ latencyMs: 400 });
      const slow = sweep(['--concurrency', '1', '--lease-seconds', '1']);
      await new Promise((resolve) => setTimeout(resolve, 1500));

      const late = await sweep(['--lease-seconds', '1']);
      const first = await slow;

      expect(late.summary).toMatchObject({ sent: 0, claimed: 0 });
      expect(first.summary).toMatchObject({ sent: 6 });
      expect(notifiedKeys().sort()).toEqual(keysOf(expected));
    });
  });
});
