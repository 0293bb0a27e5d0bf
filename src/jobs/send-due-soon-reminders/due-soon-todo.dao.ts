import type { Knex } from 'knex';
import { surveyAgainstLedger, withoutDelivery, type SurveyCounts } from '../../ledger/undelivered.js';
import { earliest, joinZones, latest, type RunZones } from '../../sweep/local-due-times.js';

/** A todo whose reminder has fallen due in its workspace's zone and whose due date has not ended there. */
export interface DueSoonTodo {
  id: string;
  workspaceId: string;
  /** YYYY-MM-DD, as the database writes it. */
  dueDate: string;
  key: string;
}

/** `send-due-soon-reminders:<todoId>:<dueDate>`, computed by the database for the scan and the send alike. */
const KEY = `'send-due-soon-reminders:' || t.id || ':' || t.due_date::text`;

/**
 * The todos whose reminder stands as of the run: due after the last date that has ended
 * in their workspace's zone (for a backfill of D: after D), and on or before the latest due date whose reminder has
 * fallen due there (the day after its local date once the send time has come, else its
 * local date). A range of todos_due_date_id_idx of two or three days, however many todos
 * there are on other days; a todo whose zone the run cannot judge waits for the next run.
 */
const dueSoon = (db: Knex, zones: RunZones, mode: 'ordered' | 'hashed' = 'ordered') => db('todos as t')
  .modify(joinZones(zones, mode))
  .where('t.due_date', '>', earliest(zones, 'remindAfter'))
  .where('t.due_date', '<=', latest(zones, 'remindUpTo'))
  .whereRaw('t.due_date > z.remind_after and t.due_date <= z.remind_up_to');

export function surveyDueSoonTodos(db: Knex, zones: RunZones): Promise<SurveyCounts> {
  return surveyAgainstLedger(db, dueSoon(db, zones, 'hashed').select(db.raw(`${KEY} as key`)));
}

/** A page of those todos with no reminder yet, in (due_date, id) order after `after`. */
export async function getDueSoonTodos(db: Knex, query: { zones: RunZones; after?: DueSoonTodo; limit: number }): Promise<DueSoonTodo[]> {
  const rows: Array<{ id: string; workspace_id: string; due_date: string; key: string }> = await dueSoon(db, query.zones)
    .select('t.id', 't.workspace_id', 't.due_date', db.raw(`${KEY} as key`))
    .modify((builder) => {
      if (query.after) builder.whereRaw('(t.due_date, t.id) > (?::date, ?::uuid)', [query.after.dueDate, query.after.id]);
    })
    .modify(withoutDelivery(db, KEY))
    .orderBy([{ column: 't.due_date' }, { column: 't.id' }])
    .limit(query.limit);
  return rows.map((row) => ({ id: row.id, workspaceId: row.workspace_id, dueDate: row.due_date, key: row.key }));
}

/** A reminded todo as it is now, with its workspace's zone (null: no row, or none set). */
export type RemindedTodo = DueSoonTodo & { timeZone: string | null };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The todos of owed reminders as they are now, by id: one statement for a page of the
 * ledger's deliveries, through the primary key, whatever their days. A todo that is not
 * there, or an id that is no todo id (never sent to the database), is left out.
 */
export async function getRemindedTodosNow(db: Knex, ids: string[]): Promise<Map<string, RemindedTodo>> {
  const todoIds = [...new Set(ids.filter((id) => UUID.test(id)))];
  if (todoIds.length === 0) return new Map();
  const rows: Array<{ id: string; workspace_id: string; due_date: string; key: string; time_zone: string | null }> = await db('todos as t')
    .leftJoin('workspaces as w', 'w.id', 't.workspace_id')
    .select('t.id', 't.workspace_id', 't.due_date', db.raw(`${KEY} as key`), 'w.time_zone')
    .whereRaw('t.id = any(?::uuid[])', [todoIds as unknown as Knex.RawBinding]);
  return new Map(rows.map((row) => [row.id,
    { id: row.id, workspaceId: row.workspace_id, dueDate: row.due_date, key: row.key, timeZone: row.time_zone }]));
}
