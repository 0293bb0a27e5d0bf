import type { Knex } from 'knex';
import { surveyAgainstLedger, withoutDelivery, type SurveyCounts } from '../../ledger/undelivered.js';

/** A todo due on the day after the run date. */
export interface DueSoonTodo {
  id: string;
  workspaceId: string;
  /** YYYY-MM-DD, as the database writes it. */
  dueDate: string;
  key: string;
}

/** `send-due-soon-reminders:<todoId>:<dueDate>`, computed by the database for the scan and the send alike. */
const KEY = `'send-due-soon-reminders:' || t.id || ':' || t.due_date::text`;

/** One day of todos: a range of todos_due_date_id_idx, however many todos there are on other days. */
const dueTomorrow = (db: Knex, runDate: string) => db('todos as t').whereRaw('t.due_date = ?::date + 1', [runDate]);

export function surveyDueSoonTodos(db: Knex, runDate: string): Promise<SurveyCounts> {
  return surveyAgainstLedger(db, dueTomorrow(db, runDate).select(db.raw(`${KEY} as key`)));
}

/** A page of the day's todos with no reminder yet, in id order after `afterId`. */
export async function getDueSoonTodos(db: Knex, query: { runDate: string; afterId?: string; limit: number }): Promise<DueSoonTodo[]> {
  const rows: Array<{ id: string; workspace_id: string; due_date: string; key: string }> = await dueTomorrow(db, query.runDate)
    .select('t.id', 't.workspace_id', 't.due_date', db.raw(`${KEY} as key`))
    .modify((builder) => {
      if (query.afterId) builder.where('t.id', '>', query.afterId);
    })
    .modify(withoutDelivery(db, KEY))
    .orderBy('t.id')
    .limit(query.limit);
  return rows.map((row) => ({ id: row.id, workspaceId: row.workspace_id, dueDate: row.due_date, key: row.key }));
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The todos of owed reminders as they are now, by id: one statement for a page of the
 * ledger's deliveries, through the primary key, whatever their days. A todo that is not
 * there, or an id that is no todo id (never sent to the database), is left out.
 */
export async function getRemindedTodosNow(db: Knex, ids: string[]): Promise<Map<string, DueSoonTodo>> {
  const todoIds = [...new Set(ids.filter((id) => UUID.test(id)))];
  if (todoIds.length === 0) return new Map();
  const rows: Array<{ id: string; workspace_id: string; due_date: string; key: string }> = await db('todos as t')
    .select('t.id', 't.workspace_id', 't.due_date', db.raw(`${KEY} as key`))
    .whereRaw('t.id = any(?::uuid[])', [todoIds as unknown as Knex.RawBinding]);
  return new Map(rows.map((row) => [row.id, { id: row.id, workspaceId: row.workspace_id, dueDate: row.due_date, key: row.key }]));
}
