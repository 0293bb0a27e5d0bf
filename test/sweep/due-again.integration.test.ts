import { describe, expect, it } from 'vitest';
import { dueSoonReminders, RUN_DATE, workspaceDigests } from '../support/job-fixtures.js';
import { buildDelayedTodos, insertTodos } from '../support/fixtures.js';
import { runSweep } from '../support/run-sweep.js';
import { useTestbed } from '../support/testbed.js';

const NEXT_DAY = '2022-06-04';

/**
 * Which items a run scans is the job's (tomorrow's todos, today's digests); what the
 * ledger owes is sent by the job's next run whatever that run's scan covers.
 */
describe('deliveries due again are sent by the next run, whatever its scan covers', () => {
  const testbed = useTestbed();
  const sweep = (args: string[]) => runSweep(args, { database: testbed.database, servicesUrl: testbed.mock.url });
  const accepted = () => testbed.mock.journal().filter((entry) => entry.outcome === 'accepted');

  it('sends yesterday\'s reminders left to retry with today\'s, each key accepted once', async () => {
    const yesterdays = await dueSoonReminders.seed(testbed.database.db, 5, 2);
    testbed.mock.configure({ rules: [{ endpoint: 'notify', status: 502 }] });
    const faulty = await sweep(['send-due-soon-reminders', '--date', RUN_DATE, '--retry-backoff-seconds', '0']);
    expect(faulty.exitCode).toBe(75);
    expect(faulty.summary).toMatchObject({ found: 5, failedTransiently: 5 });

    testbed.mock.configure({ rules: [] });
    const todays = await insertTodos(testbed.database.db, buildDelayedTodos(3, 2, '2022-06-05'));
    const next = await sweep(['send-due-soon-reminders', '--date', NEXT_DAY]);

    expect(next.exitCode).toBe(0);
    expect(next.summary).toMatchObject({ dueAgain: 5, found: 3, sent: 8 });
    const keys = accepted().map((entry) => entry.key).sort();
    expect(keys).toEqual([...yesterdays.map((n) => n.key),
      ...todays.map((todo) => `send-due-soon-reminders:${todo.id}:2022-06-05`)].sort());
    // Each one the reminder it was first meant to be: its own due date.
    for (const reminder of yesterdays) expect(accepted().find((entry) => entry.key === reminder.key)?.message).toBe(reminder.message);
    const again = await sweep(['send-due-soon-reminders', '--date', NEXT_DAY]);
    expect(again.summary).toMatchObject({ dueAgain: 0, found: 0, sent: 0 });
  });

  it('supersedes yesterday\'s digests left to retry once their day has ended, and sends today\'s with today\'s counts', async () => {
    const yesterdays = await workspaceDigests.seed(testbed.database.db, 4, 0);
    testbed.mock.configure({ rules: [{ endpoint: 'notify', status: 503 }] });
    await sweep(['send-workspace-digests', '--date', RUN_DATE, '--retry-backoff-seconds', '0']);
    // A day later each workspace has one more delayed todo (due on RUN_DATE, delayed as of NEXT_DAY).

    testbed.mock.configure({ rules: [] });
    const next = await sweep(['send-workspace-digests', '--date', NEXT_DAY]);

    expect(next.exitCode).toBe(0);
    expect(next.summary).toMatchObject({ dueAgain: 4, superseded: 4, found: 4, sent: 4 });
    for (const digest of yesterdays) {
      expect(accepted().filter((entry) => entry.key === digest.key)).toEqual([]);
      const count = Number(/has (\d+) delayed/.exec(digest.message)![1]);
      expect(accepted().find((entry) => entry.key === `send-workspace-digests:${digest.workspaceId}:${NEXT_DAY}`)?.message)
        .toBe(`Workspace ${digest.workspaceId} has ${count + 1} delayed todos`);
    }
  });

  it('sends a refused reminder an operator re-armed with `deliveries retry`, on the next day\'s run', async () => {
    const [refused, other] = await dueSoonReminders.seed(testbed.database.db, 2, 2);
    testbed.mock.configure({ rules: [{ endpoint: 'notify', match: { key: refused!.key }, status: 422, times: 1 }] });
    expect((await sweep(['send-due-soon-reminders', '--date', RUN_DATE])).summary).toMatchObject({ sent: 1, failedPermanently: 1 });
    // Refused for good: the next day's run leaves it alone until an operator re-arms it.
    expect((await sweep(['send-due-soon-reminders', '--date', NEXT_DAY])).summary).toMatchObject({ dueAgain: 0, sent: 0 });

    const rearm = await sweep(['deliveries', 'retry', '--key', refused!.key]);
    expect(rearm.exitCode).toBe(0);
    const next = await sweep(['send-due-soon-reminders', '--date', NEXT_DAY]);

    expect(next.summary).toMatchObject({ dueAgain: 1, sent: 1 });
    expect(accepted().map((entry) => entry.key).sort()).toEqual([refused!.key, other!.key].sort());
  });
});
