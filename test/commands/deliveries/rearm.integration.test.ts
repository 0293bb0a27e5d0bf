import { describe, expect, it } from 'vitest';
import { buildDelayedTodos, insertTodos, keyOf } from '../../support/fixtures.js';
import { runSweep } from '../../support/run-sweep.js';
import { useTestbed } from '../../support/testbed.js';

const SEND = 'send-delay-notifications';
const DATE = '2022-06-03';

/** `deliveries retry` re-arms only what would still be true when sent, unless the operator forces it. */
describe('deliveries retry of a delivery whose item no longer stands', () => {
  const testbed = useTestbed();
  const db = () => testbed.database.db;
  const sweep = (args: string[]) => runSweep(args, { database: testbed.database, servicesUrl: testbed.mock.url });
  const delivery = (key: string) => db()('deliveries').where({ key }).first();
  const acceptedKeys = () => testbed.mock.journal().filter((entry) => entry.outcome === 'accepted').map((entry) => entry.key);

  it('says why a dead one whose todo is gone is not re-armed and leaves it; with --force it is, and the next run sends it', async () => {
    const [gone, kept] = await insertTodos(db(), buildDelayedTodos(2, 1));
    testbed.mock.configure({ rules: [{ endpoint: 'notify', status: 500 }] });
    await sweep([SEND, '--date', DATE, '--max-attempts', '1']);
    testbed.mock.configure({ rules: [] });
    expect(await delivery(keyOf(gone!))).toMatchObject({ status: 'dead' });
    await db()('todos').where({ id: gone!.id }).del();

    const retry = await sweep(['deliveries', 'retry', '--status', 'dead']);

    expect(retry.exitCode).toBe(0);
    expect(retry.output).toContain(`not re-armed: ${keyOf(gone!)}: the todo is gone, so it would not be true now (--force re-arms it anyway)\n`);
    expect(retry.output).toContain('re-armed 1 delivery(ies); the next run of their job sends them\n');
    expect(await delivery(keyOf(gone!))).toMatchObject({ status: 'dead', attempts: 1 });
    expect(await delivery(keyOf(kept!))).toMatchObject({ status: 'retry', attempts: 0 });
    const next = await sweep([SEND, '--date', DATE]);
    expect(next.summary).toMatchObject({ dueAgain: 1, sent: 1, superseded: 0 });
    expect(acceptedKeys()).toEqual([keyOf(kept!)]);

    const forced = await sweep(['deliveries', 'retry', '--key', keyOf(gone!), '--force']);

    expect(forced.output).toContain(`re-armed anyway (--force): ${keyOf(gone!)}: the todo is gone\n`);
    expect(forced.output).toContain('re-armed 1 delivery(ies)');
    expect(await delivery(keyOf(gone!))).toMatchObject({ status: 'retry', attempts: 0, forced: true });
    const sent = await sweep([SEND, '--date', DATE]);
    expect(sent.summary).toMatchObject({ dueAgain: 1, sent: 1, superseded: 0 });
    expect(acceptedKeys()).toEqual([keyOf(kept!), keyOf(gone!)]);
    const journalEntry = testbed.mock.journal().find((entry) => entry.key === keyOf(gone!) && entry.outcome === 'accepted');
    expect(journalEntry).toMatchObject({ workspaceId: gone!.workspace_id, message: `Todo ${gone!.id} is delayed` });
    // Settled: the marker goes with it.
    expect(await delivery(keyOf(gone!))).toMatchObject({ status: 'sent', forced: null });
  });

  it('leaves a superseded one while its todo is gone, and re-arms it once the todo stands again', async () => {
    const [todo] = await insertTodos(db(), buildDelayedTodos(1, 1));
    testbed.mock.configure({ rules: [{ endpoint: 'notify', status: 503 }] });
    await sweep([SEND, '--date', DATE, '--retry-backoff-seconds', '0']);
    testbed.mock.configure({ rules: [] });
    await db()('todos').where({ id: todo!.id }).del();
    expect((await sweep([SEND, '--date', DATE])).summary).toMatchObject({ superseded: 1, sent: 0 });

    const refused = await sweep(['deliveries', 'retry', '--status', 'superseded']);
    expect(refused.output).toContain(`not re-armed: ${keyOf(todo!)}: the todo is gone`);
    expect(refused.output).toContain('re-armed 0 delivery(ies)');
    expect(await delivery(keyOf(todo!))).toMatchObject({ status: 'superseded' });

    await insertTodos(db(), [todo!]);
    const rearmed = await sweep(['deliveries', 'retry', '--status', 'superseded']);
    expect(rearmed.output).toBe('re-armed 1 delivery(ies); the next run of their job sends them\n');
    await sweep([SEND, '--date', DATE]);
    expect(acceptedKeys()).toEqual([keyOf(todo!)]);
    expect(await delivery(keyOf(todo!))).toMatchObject({ status: 'sent' });
  });

  it('lists superseded deliveries by status', async () => {
    const [todo] = await insertTodos(db(), buildDelayedTodos(1, 1));
    testbed.mock.configure({ rules: [{ endpoint: 'notify', status: 503 }] });
    await sweep([SEND, '--date', DATE, '--retry-backoff-seconds', '0']);
    testbed.mock.configure({ rules: [] });
    await db()('todos').where({ id: todo!.id }).del();
    await sweep([SEND, '--date', DATE]);

    const listed = await sweep(['deliveries', '--status', 'superseded']);

    expect(listed.exitCode).toBe(0);
    expect(listed.output).toMatch(/^pending 0 · sent 0 · retry 0 · failed 0 · dead 0 · superseded 1\n/);
    expect(listed.output).toMatch(new RegExp(`superseded\\s+1\\s+503\\s+.*${keyOf(todo!)}\\s+the todo is gone`));
  });
});
