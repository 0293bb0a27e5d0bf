import type { Knex } from 'knex';
import { createIndexConcurrently } from '../src/database/concurrent-index.js';
import { waitedTooLongForLock } from '../src/database/statement-errors.js';

/**
 * What a run could not see, said exactly. A todo's change was stamped with the time its
 * transaction began (changed_at), and runs reread a 10-minute window of it: a transaction
 * open longer committed rows stamped too early for any later run to read. Now the trigger
 * also stamps the writing transaction's 64-bit id (pg_current_xact_id()), and a run keeps
 * the snapshot it started with (job_positions.changes_snapshot): the next run reads the
 * todos written by the transactions that snapshot could not see, those still in progress
 * then and those that began after, however long they ran.
 *
 * Carried forward without a table rewrite: a nullable column is a catalogue change, the
 * index holds only the todos written from now on and is built CONCURRENTLY. changed_at
 * stays stamped as before, so runners of the previous release still work during a rolling
 * upgrade, and the first run of this release still reads the old stamps once (a position
 * saved without a snapshot: run-plan.ts).
 *
 * What is in flight during the upgrade: a transaction that writes todos under the old
 * trigger and commits later carries no transaction id, and it may have begun long before
 * any window would reach. So the switch waits for the writers in progress to end (without
 * queueing a lock that would stop the service's writers behind it), then adds the column
 * and the new trigger in one short transaction that takes its lock only when it can at
 * once, and the rows written by every writer seen in progress on the way are stamped with
 * this migration's own transaction id, which every snapshot taken before it commits counts
 * as in progress: the next run reads them, whatever their changed_at says.
 */
export const config = { transaction: false };

/** How long the switch may wait for its lock on todos at one try; writers wait at most this long behind it. */
const SWITCH_LOCK_TIMEOUT = '2s';

export async function up(knex: Knex): Promise<void> {
  const seen = new Set<string>();
  for (;;) {
    const writers = await writersOfTodos(knex);
    for (const xid of writers) seen.add(xid);
    await waitForTransactions(knex, writers);
    try {
      await knex.transaction(async (trx) => {
        await trx.raw(`set local lock_timeout = '${SWITCH_LOCK_TIMEOUT}'`);
        await trx.raw('alter table todos add column if not exists changed_xid xid8');
        await trx.raw(`create or replace function sweep_todo_changed() returns trigger language plpgsql as $$
          begin
            new.changed_at := now();
            new.changed_xid := pg_current_xact_id();
            return new;
          end $$`);
      });
      break;
    } catch (error) {
      // A writer came between, or a reader holds todos: wait for the writers again, and try
      // again. (Through the sweep's pg client the error is its StatementTimeoutError, not
      // PostgreSQL's 55P03: a check of the code alone failed the migration here.)
      if (!waitedTooLongForLock(error)) throw error;
    }
  }
  // Holding the lock meant no writer was left: every row of the old trigger is committed.
  if (seen.size > 0) {
    // One pass over todos, only when writers were in flight, and only once.
    await knex.raw('update todos set changed_xid = pg_current_xact_id() where changed_xid is null and xmin = any(?::xid[])',
      [[...seen] as unknown as Knex.RawBinding]);
  }
  await createIndexConcurrently(knex, 'todos_changed_xid_idx', 'on todos (changed_xid) where changed_xid is not null');
  await knex.raw('alter table job_positions add column if not exists changes_snapshot pg_snapshot');
  // The snapshot a live run reads changes against, for prune: null until it has read one.
  await knex.raw('alter table job_runs add column if not exists changes_after pg_snapshot');
}

/** The transactions writing todos now (a write lock on it), with the ids of their subtransactions. */
async function writersOfTodos(knex: Knex): Promise<string[]> {
  const result = await knex.raw<{ rows: Array<{ xid: string }> }>(
    `select distinct x.transactionid::text as xid
       from pg_locks w join pg_locks x on x.virtualtransaction = w.virtualtransaction and x.locktype = 'transactionid'
      where w.locktype = 'relation' and w.relation = 'todos'::regclass and w.mode = 'RowExclusiveLock'
        and w.pid <> pg_backend_pid()`);
  return result.rows.map((row) => row.xid);
}

async function waitForTransactions(knex: Knex, xids: string[]): Promise<void> {
  while (xids.length > 0) {
    const running = await knex.raw<{ rows: unknown[] }>(
      `select 1 from pg_locks where locktype = 'transactionid' and transactionid = any(?::xid[]) limit 1`,
      [xids as unknown as Knex.RawBinding]);
    if (running.rows.length === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('alter table job_runs drop column if exists changes_after');
  await knex.raw('alter table job_positions drop column if exists changes_snapshot');
  await knex.raw(`create or replace function sweep_todo_changed() returns trigger language plpgsql as $$
    begin
      new.changed_at := now();
      return new;
    end $$`);
  await knex.raw('drop index concurrently if exists todos_changed_xid_idx');
  await knex.raw('alter table todos drop column if exists changed_xid');
}
