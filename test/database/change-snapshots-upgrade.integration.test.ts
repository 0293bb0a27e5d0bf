import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { migratorConfig } from '../../src/database/migrations.js';
import { buildTodo, insertTodos, keyOf } from '../support/fixtures.js';
import { runSweep } from '../support/run-sweep.js';
import { useTestbed } from '../support/testbed.js';

const SEND = 'send-delay-notifications';
const MIGRATION = '20261204000000_change_snapshots';

/**
 * A deployment carried forward from the release that stamped changes with a time: the
 * todos written under the old stamp, and those written by a transaction in flight during
 * the upgrade, are read by the runs of the new release, each notified once.
 */
describe('the upgrade to change snapshots', () => {
  const testbed = useTestbed();
  const db = () => testbed.database.db;
  const sweep = () => runSweep([SEND, '--date', '2022-06-03'], { database: testbed.database, servicesUrl: testbed.mock.url });
  const requested = () => testbed.mock.journal().filter((entry) => entry.endpoint === 'notify').map((entry) => entry.key!);

  beforeEach(async () => { await db().migrate.down({ ...migratorConfig, name: MIGRATION }); });
  afterEach(async () => { await db().migrate.latest(migratorConfig); });

  /** What a run of the old release left: its history sent and settled, its position with the start of its last run. */
  async function oldReleaseState(changesSince: string) {
    const [settled] = await insertTodos(db(), [buildTodo({ due_date: '2022-01-01' })]);
    await db()('deliveries').insert({ key: keyOf(settled!), job: SEND, workspace_id: settled!.workspace_id, item_id: settled!.id,
      item_date: settled!.due_date, message: `Todo ${settled!.id} is delayed`, status: 'sent', attempts: 1, sent_at: db().fn.now() });
    await db().raw(`insert into job_positions (job, position, changes_since) values (?, ?::text[], ${changesSince})`,
      [SEND, [settled!.due_date, settled!.id] as never]);
    return settled!;
  }

  it('reads the todos written under the old stamp within the old window once, then the new stamps', async () => {
    await oldReleaseState('now()');
    const [oldStamp] = await insertTodos(db(), [buildTodo({ due_date: '2021-01-01' })]);
    expect((await db()('todos').where({ id: oldStamp!.id }).first()).changed_at).not.toBeNull();

    await db().migrate.latest(migratorConfig);
    const [newStamp] = await insertTodos(db(), [buildTodo({ due_date: '2021-02-02' })]);
    const first = await sweep();
    const second = await sweep();

    expect(first.summary).toMatchObject({ found: 2, sent: 2 });
    expect(second.summary).toMatchObject({ found: 0, sent: 0 });
    expect(requested().sort()).toEqual([keyOf(oldStamp!), keyOf(newStamp!)].sort());
    const position = await db()('job_positions').where({ job: SEND }).select(db().raw('changes_snapshot::text as snapshot')).first();
    expect(position.snapshot).toMatch(/^\d+:\d+:/);
  });

  it.skipIf(inject('testDatabase').kind === 'embedded')(
    'waits for a transaction in flight during the upgrade and has the next run read what it wrote, however old its stamp', async () => {
      await oldReleaseState(`now() + interval '1 hour'`);
      // Begun under the old trigger, as if an hour before the last run of the old release:
      // out of reach of the old window.
      const inFlight = await db().transaction();
      const straddling = buildTodo({ due_date: '2021-03-03' });
      await inFlight('todos').insert(straddling);
      await inFlight('todos').where({ id: straddling.id }).update({ changed_at: inFlight.raw(`now() - interval '1 hour'`) });

      let migrated = false;
      const migration = db().migrate.latest(migratorConfig).then(() => { migrated = true; });
      await sleep(1000);
      expect(migrated).toBe(false);
      await inFlight.commit();
      await migration;

      const first = await sweep();
      const second = await sweep();

      expect(first.summary).toMatchObject({ found: 1, sent: 1 });
      expect(second.summary).toMatchObject({ found: 0, sent: 0 });
      expect(requested()).toEqual([keyOf(straddling)]);
    });

  it.skipIf(inject('testDatabase').kind === 'embedded')(
    'gives up its lock on todos after 2 s when a reader holds it, so writers go on, and tries again until it switches', async () => {
      // A report reading todos in a long transaction: no writer, so the switch does not
      // wait for it, and its ALTER cannot take the lock while it lasts.
      const reader = await db().transaction();
      await reader.raw('select count(*) from todos');

      let migrated = false;
      const migration = db().migrate.latest(migratorConfig).then(() => { migrated = true; });
      await sleep(500);
      // A writer of the service, queued behind the switch's lock request while it waits.
      const writer = insertTodos(db(), [buildTodo({ due_date: '2021-04-04' })]);
      await writer; // fails the test by timeout if the switch's lock request waited for the reader
      expect(migrated).toBe(false);
      await sleep(2500); // at least one more try that timed out
      expect(migrated).toBe(false);
      await reader.commit();
      await migration; // rejects if a timed-out try were not tried again

      const column = await db().raw(`select 1 from information_schema.columns where table_name = 'todos' and column_name = 'changed_xid'`);
      expect(column.rows).toHaveLength(1);
    }, 20_000);
});
