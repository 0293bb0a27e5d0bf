import type { Knex } from 'knex';
import { KEY, type DelayedTodo } from './delayed-todo.dao.js';

/** A todo as it is now, with its workspace's zone (null: no row, or none set). */
export type OwedTodo = DelayedTodo & { timeZone: string | null };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The todos of owed delay notifications as they are now, by id: one statement for a
 * page of the ledger's deliveries, through the primary key, whatever their due dates.
 * A todo that is not there is left out; so is an id that is no todo id (no query is
 * sent for it, so one bad row cannot fail the page).
 */
export async function getTodosNow(db: Knex, ids: string[]): Promise<Map<string, OwedTodo>> {
  const todoIds = [...new Set(ids.filter((id) => UUID.test(id)))];
  if (todoIds.length === 0) return new Map();
  const rows: Array<{ id: string; workspace_id: string; due_date: string; key: string; time_zone: string | null }> = await db('todos as t')
    .leftJoin('workspaces as w', 'w.id', 't.workspace_id')
    .select('t.id', 't.workspace_id', 't.due_date', db.raw(`${KEY} as key`), 'w.time_zone')
    .whereRaw('t.id = any(?::uuid[])', [todoIds as unknown as Knex.RawBinding]);
  return new Map(rows.map((row) => [row.id,
    { id: row.id, workspaceId: row.workspace_id, dueDate: row.due_date, key: row.key, timeZone: row.time_zone }]));
}
