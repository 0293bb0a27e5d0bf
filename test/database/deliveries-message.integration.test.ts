import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { migratorConfig } from '../../src/database/migrations.js';
import { runSweep } from '../support/run-sweep.js';
import { useTestbed } from '../support/testbed.js';

const MIGRATION = '20261201000000';

/** The ledger keeps each delivery's message, so what is due again is sent as first meant. */
describe(`migration ${MIGRATION}_deliveries_message`, () => {
  const testbed = useTestbed();
  const db = () => testbed.database.db;
  const delivery = (status: string, todoId = randomUUID()) => ({
    key: `send-delay-notifications:${todoId}:2020-01-01`, job: 'send-delay-notifications', workspace_id: randomUUID(),
    item_id: todoId, item_date: '2020-01-01', status, run_id: randomUUID(),
  });

  it('gives every delivery still waiting its message, and leaves the sent ones alone', async () => {
    while ((await db().migrate.currentVersion(migratorConfig)) >= MIGRATION) await db().migrate.down(migratorConfig);
    const [retry, failed, sent] = [delivery('retry'), delivery('failed'), delivery('sent')];
    await db()('deliveries').insert([retry, failed, sent]);

    await db().migrate.latest(migratorConfig);

    const messages = Object.fromEntries((await db()('deliveries').select('key', 'message')).map((row) => [row.key, row.message]));
    expect(messages).toEqual({
      [retry.key]: `Todo ${retry.item_id} is delayed`, [failed.key]: `Todo ${failed.item_id} is delayed`, [sent.key]: null,
    });
  });

  it('refuses a delivery due again that has no message, once, rather than send a guess', async () => {
    const orphan = delivery('retry');
    // Its todo still stands as it did: the only thing wrong is the missing message.
    await db()('todos').insert({ id: orphan.item_id, workspace_id: orphan.workspace_id, name: 'A todo', due_date: '2020-01-01' });
    await db()('deliveries').insert(orphan);

    const run = await runSweep(['send-delay-notifications', '--date', '2022-06-03'], { database: testbed.database, servicesUrl: testbed.mock.url });

    expect(run.summary).toMatchObject({ dueAgain: 1, failedPermanently: 1, sent: 0 });
    expect(run.logs.find((line) => line.key === orphan.key && line.level === 'warn')?.reason).toBe('it has no message');
    expect(await db()('deliveries').where({ key: orphan.key }).first()).toMatchObject({ status: 'failed', last_error: 'not sent: it has no message' });
    expect(testbed.mock.stats().notificationRequests).toBe(0);
  });
});
