import type { Knex } from 'knex';
import type { DelayedTodo, DelayedTodoCursor, DelayedTodoTotals } from './delayed-todo.type.js';
import { delayNotificationKeySql } from './notification-key.js';

/** Ledger statuses after which a todo is no longer this job's work. */
const SETTLED = ['sent', 'failed', 'dead'];

/**
 * One page of delayed todos that have no settled delivery, in (due_date, id) order,
 * after `cursor`. Keyset pagination on todos_due_date_id_idx: never OFFSET, never all rows.
 */
export async function getDelayedTodos(
  db: Knex,
  query: { runDate: string; after?: DelayedTodoCursor; from?: string; limit: number },
): Promise<DelayedTodo[]> {
  const rows: Array<{ id: string; workspace_id: string; due_date: string }> = await db('todos as t')
    .select('t.id', 't.workspace_id', 't.due_date')
    .where('t.due_date', '<', query.runDate)
    .modify((builder) => {
      if (query.after) builder.whereRaw('(t.due_date, t.id) > (?::date, ?::uuid)', [query.after.dueDate, query.after.id]);
      else if (query.from) builder.where('t.due_date', '>=', query.from);
    })
    .whereNotExists((sub) => sub.select(db.raw('1')).from('deliveries as d')
      .where('d.key', delayNotificationKeySql(db, 't'))
      .whereIn('d.status', SETTLED))
    .orderBy([{ column: 't.due_date' }, { column: 't.id' }])
    .limit(query.limit);
  return rows.map((row) => ({ id: row.id, workspaceId: row.workspace_id, dueDate: row.due_date }));
}

/**
 * How the run date's delayed todos stand before the run, for the summary and the log,
 * and the due date of the oldest one still to do, where the scan starts. One pass that
 * hashes the ledger, about 1.4 µs a todo; the scan then walks only from that date, so a
 * rerun with nothing left costs this one statement instead of a probe per todo.
 */
export async function countDelayedTodos(db: Knex, runDate: string): Promise<DelayedTodoTotals> {
  const row = await db('todos as t')
    .leftJoin('deliveries as d', 'd.key', delayNotificationKeySql(db, 't'))
    .where('t.due_date', '<', runDate)
    .first<{ delayed: number; already_sent: number; previously_failed: number; first_to_do: string | null }>(
      db.raw('count(*)::int as delayed'),
      db.raw(`count(*) filter (where d.status = 'sent')::int as already_sent`),
      db.raw(`count(*) filter (where d.status in ('failed', 'dead'))::int as previously_failed`),
      db.raw(`min(t.due_date) filter (where d.status is null or d.status not in (${SETTLED.map(() => '?').join(', ')})) as first_to_do`, SETTLED),
    );
  return {
    delayed: row?.delayed ?? 0,
    alreadySent: row?.already_sent ?? 0,
    previouslyFailed: row?.previously_failed ?? 0,
    firstToDo: row?.first_to_do ?? undefined,
  };
}
