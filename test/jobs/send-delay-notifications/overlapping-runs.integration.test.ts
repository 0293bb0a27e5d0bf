import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { buildDelayedTodos, insertTodos, keyOf } from '../../support/fixtures.js';
import { runSweep } from '../../support/run-sweep.js';
import { useTestbed } from '../../support/testbed.js';

const SEND = 'send-delay-notifications';

const testbed = useTestbed();

const sweep = (args: string[]) => runSweep(args, { database: testbed.database, servicesUrl: testbed.mock.url });
const notifiedKeys = () => testbed.mock.journal().filter((entry) => entry.endpoint === 'notify').map((entry) => entry.key);

describe('claims and leases', () => {
  it('takes over the claims of a run that died once their lease has expired, and leaves live claims alone', async () => {
    const [orphaned, live] = await insertTodos(testbed.database.db, buildDelayedTodos(2, 1));
    const claim = (todo: typeof orphaned, leaseExpiresAt: string) => ({
      key: keyOf(todo!), job: SEND, workspace_id: todo!.workspace_id, item_id: todo!.id, item_date: todo!.due_date, message: `Todo ${todo!.id} is delayed`,
      status: 'pending', run_id: randomUUID(), lease_expires_at: testbed.database.db.raw(`now() + interval '${leaseExpiresAt}'`),
    });
    await testbed.database.db('deliveries').insert([claim(orphaned, '-1 minute'), claim(live, '1 hour')]);

    const run = await sweep([SEND, '--date', '2022-06-03']);

    expect(run.exitCode).toBe(0);
    expect(notifiedKeys()).toEqual([keyOf(orphaned!)]);
    // The dead run's claim is due again (the ledger's own work); the live one is neither due nor new.
    expect(run.summary).toMatchObject({ dueAgain: 1, found: 0, claimed: 1, sent: 1 });
    const rows = await testbed.database.db('deliveries').select('key', 'status').orderBy('key');
    expect(Object.fromEntries(rows.map((row) => [row.key, row.status])))
      .toEqual({ [keyOf(orphaned!)]: 'sent', [keyOf(live!)]: 'pending' });
  });
});

describe.skipIf(inject('testDatabase').kind !== 'postgres')('overlapping runs (needs a PostgreSQL server)', () => {
  it('shares the work between three runs started together: every key sent exactly once', async () => {
    const todos = await insertTodos(testbed.database.db, buildDelayedTodos(300, 10));
    testbed.mock.configure({ latencyMs: 5 });

    const runs = await Promise.all([1, 2, 3].map(() => sweep([SEND, '--date', '2022-06-03', '--page-size', '20', '--concurrency', '8'])));

    expect(runs.map((run) => run.exitCode)).toEqual([0, 0, 0]);
    const keys = notifiedKeys();
    expect(keys).toHaveLength(300);
    expect(new Set(keys)).toEqual(new Set(todos.map(keyOf)));
    expect(runs.reduce((sum, run) => sum + Number(run.summary!.sent), 0)).toBe(300);
    const sent = await testbed.database.db('deliveries').where({ status: 'sent' }).count({ n: '*' }).first();
    expect(Number(sent?.n)).toBe(300);
  });

  it('keeps a live run\'s claims past their lease: a run started after the lease has passed sends none of them', async () => {
    const todos = await insertTodos(testbed.database.db, buildDelayedTodos(6, 2));
    // One request at a time, 400 ms each: the first run needs ~2.4 s for claims leased for 1 s.
    testbed.mock.configure({ latencyMs: 400 });
    const slow = sweep([SEND, '--date', '2022-06-03', '--concurrency', '1', '--lease-seconds', '1']);
    await new Promise((resolve) => setTimeout(resolve, 1500));

    const late = await sweep([SEND, '--date', '2022-06-03', '--lease-seconds', '1']);
    const first = await slow;

    expect(late.summary).toMatchObject({ sent: 0, claimed: 0 });
    expect(first.summary).toMatchObject({ sent: 6 });
    expect(notifiedKeys().sort()).toEqual(todos.map(keyOf).sort());
  });
});
