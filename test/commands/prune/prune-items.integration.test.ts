import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildTodo, insertTodos } from '../../support/fixtures.js';
import { runSweep } from '../../support/run-sweep.js';
import { useTestbed } from '../../support/testbed.js';

/** Each job tells prune when its item is gone; a delivery goes only then, so no run sends it again. */
describe('prune knows when each job\'s item is gone', () => {
  const testbed = useTestbed();
  const sweep = (args: string[]) => runSweep(args, { database: testbed.database, servicesUrl: testbed.mock.url });
  const today = () => new Date().toISOString().slice(0, 10);
  const dayOffset = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

  const oldSent = (job: string, itemId: string, itemDate: string, workspaceId: string = randomUUID()) => ({
    key: `${job}:${itemId}:${itemDate}`, job, workspace_id: workspaceId, item_id: itemId, item_date: itemDate, message: 'm',
    status: 'sent', attempts: 1, updated_at: testbed.database.db.raw(`now() - interval '100 days'`),
  });
  const left = async () => (await testbed.database.db('deliveries').pluck('key')).sort();

  it('a reminder: once its todo is gone, moved, or its due date has come; never while a run could still ask for it', async () => {
    const [upcoming] = await insertTodos(testbed.database.db, [buildTodo({ due_date: dayOffset(1) })]);
    const [moved] = await insertTodos(testbed.database.db, [buildTodo({ due_date: dayOffset(5) })]);
    const past = oldSent('send-due-soon-reminders', randomUUID(), dayOffset(-3));
    const kept = oldSent('send-due-soon-reminders', upcoming!.id, upcoming!.due_date, upcoming!.workspace_id);
    const movedAway = oldSent('send-due-soon-reminders', moved!.id, dayOffset(2), moved!.workspace_id);
    await testbed.database.db('deliveries').insert([past, kept, movedAway]);

    const run = await sweep(['prune', '--older-than', '90d']);

    expect(run.exitCode).toBe(0);
    expect(run.summary).toMatchObject({ deliveriesDeleted: 2, deliveriesKept: 1 });
    expect(await left()).toEqual([kept.key]);
    // Today's run of the job finds the kept reminder sent: nothing goes out twice.
    const reminders = await sweep(['send-due-soon-reminders', '--date', today()]);
    expect(reminders.summary).toMatchObject({ inScope: 1, alreadySent: 1, sent: 0 });
  });

  it('a digest: once its day has ended in every zone on earth, never one a zone is still living', async () => {
    // UTC-12 is the zone furthest behind: its date is the last that some workspace may still be living.
    const lastLived = new Date(Date.now() - 12 * 3_600_000).toISOString().slice(0, 10);
    const endedEverywhere = new Date(Date.parse(lastLived) - 86_400_000).toISOString().slice(0, 10);
    const workspaceId = randomUUID();
    await insertTodos(testbed.database.db, [buildTodo({ workspace_id: workspaceId, due_date: '2020-01-01' })]);
    const ended = oldSent('send-workspace-digests', workspaceId, endedEverywhere, workspaceId);
    const lived = oldSent('send-workspace-digests', workspaceId, lastLived, workspaceId);
    await testbed.database.db('deliveries').insert([ended, lived]);

    const run = await sweep(['prune', '--older-than', '90d']);

    expect(run.summary).toMatchObject({ deliveriesDeleted: 1, deliveriesKept: 1 });
    expect(await left()).toEqual([lived.key]);
    // A backfill of that day finds its digest sent: nothing goes out twice.
    expect((await sweep(['send-workspace-digests', '--date', lastLived])).summary).toMatchObject({ alreadySent: 1, sent: 0 });
  });

  it('a delay notification: once settled behind the job\'s position, though its todo is still delayed; never one ahead of it', async () => {
    const settledTodos = await insertTodos(testbed.database.db, [1, 2, 3].map(() => buildTodo({ due_date: '2020-01-01' })));
    expect((await sweep(['send-delay-notifications', '--date', '2020-06-01'])).summary).toMatchObject({ sent: 3 });
    // Ahead of the position the first run settled: delivered (by hand here), but a scan from the position still reads it.
    const [ahead] = await insertTodos(testbed.database.db, [buildTodo({ due_date: '2021-01-01' })]);
    await testbed.database.db('deliveries').insert(oldSent('send-delay-notifications', ahead!.id, ahead!.due_date, ahead!.workspace_id));
    await testbed.database.db('deliveries').update({ updated_at: testbed.database.db.raw(`now() - interval '100 days'`) });
    await testbed.database.db('todos').update({ changed_at: testbed.database.db.raw(`now() - interval '100 days'`) });

    const run = await sweep(['prune', '--older-than', '90d']);

    expect(run.summary).toMatchObject({ deliveriesDeleted: 3, deliveriesKept: 1 });
    expect(await left()).toEqual([`send-delay-notifications:${ahead!.id}:${ahead!.due_date}`]);
    // The todos are still delayed, their deliveries gone: the next run sends nothing again.
    const next = await sweep(['send-delay-notifications', '--date', '2022-06-03']);
    expect(next.summary).toMatchObject({ found: 0, dueAgain: 0, sent: 0 });
    expect(testbed.mock.stats().accepted).toBe(settledTodos.length);
  });
});
