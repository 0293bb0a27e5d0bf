import type { Knex } from 'knex';
import { surveyAgainstLedger, withoutDelivery, type SurveyCounts } from '../../ledger/undelivered.js';

/** A todo whose due date is before the run date, as this job reads it. */
export interface DelayedTodo {
  id: string;
  workspaceId: string;
  /** As the database writes it: YYYY-MM-DD, never a JS Date. */
  dueDate: string;
  key: string;
}

export interface DelayedTodoSurvey extends SurveyCounts {
  /** The due date of the oldest delayed todo with no delivery yet: where the scan starts. */
  firstNew?: string;
}

/**
 * The contract's key, `send-delay-notifications:<todoId>:<dueDate>`, computed by the
 * database: the scan leaves out todos whose key the ledger holds, and the key the run
 * sends is the one it read, so the two can never spell a date differently.
 */
const KEY = `'send-delay-notifications:' || t.id || ':' || t.due_date::text`;

const delayed = (db: Knex, runDate: string) => db('todos as t').where('t.due_date', '<', runDate);

/**
 * How the run date's delayed todos stand in the ledger, and the oldest one with no
 * delivery yet. One pass that hashes the ledger, about 1.4 µs a todo; the scan then
 * walks only from that date, so a rerun with nothing new costs this one statement.
 */
export async function surveyDelayedTodos(db: Knex, runDate: string): Promise<DelayedTodoSurvey> {
  return surveyAgainstLedger(db, delayed(db, runDate).select(db.raw(`${KEY} as key`), 't.due_date'), 'due_date');
}

/**
 * One page of delayed todos with no delivery, in (due_date, id) order, after `after` or
 * from `from`. Keyset pagination on todos_due_date_id_idx: never OFFSET, never all rows.
 */
export async function getDelayedTodos(db: Knex, query: { runDate: string; after?: DelayedTodo; from: string; limit: number }):
Promise<DelayedTodo[]> {
  const rows: Array<{ id: string; workspace_id: string; due_date: string; key: string }> = await delayed(db, query.runDate)
    .select('t.id', 't.workspace_id', 't.due_date', db.raw(`${KEY} as key`))
    .modify((builder) => {
      if (query.after) builder.whereRaw('(t.due_date, t.id) > (?::date, ?::uuid)', [query.after.dueDate, query.after.id]);
      else builder.where('t.due_date', '>=', query.from);
    })
    .modify(withoutDelivery(db, KEY))
    .orderBy([{ column: 't.due_date' }, { column: 't.id' }])
    .limit(query.limit);
  return rows.map((row) => ({ id: row.id, workspaceId: row.workspace_id, dueDate: row.due_date, key: row.key }));
}
