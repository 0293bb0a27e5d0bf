import type { Knex } from 'knex';
import { buildDelayedTodos, insertTodos, keyOf, type TodoRow } from './fixtures.js';

/** Delayed todos and, for each, a delivery of send-delay-notifications in `status` (dead by default). */
export async function insertOwedDeliveries(db: Knex, count: number, overrides: { status?: string; last_error?: string } = {}):
Promise<Array<{ todo: TodoRow; key: string }>> {
  const todos = await insertTodos(db, buildDelayedTodos(count, 2));
  const rows = todos.map((todo) => ({
    key: keyOf(todo), job: 'send-delay-notifications', workspace_id: todo.workspace_id, item_id: todo.id, item_date: todo.due_date,
    status: overrides.status ?? 'dead', attempts: 5, last_status: 500, last_error: overrides.last_error ?? 'HTTP 500',
    message: `Todo ${todo.id} is delayed`,
  }));
  for (let i = 0; i < rows.length; i += 1000) await db('deliveries').insert(rows.slice(i, i + 1000));
  return todos.map((todo) => ({ todo, key: keyOf(todo) }));
}
