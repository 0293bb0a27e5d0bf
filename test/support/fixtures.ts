import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';

export interface TodoRow {
  id: string;
  workspace_id: string;
  name: string | null;
  assignee: string | null;
  due_date: string;
}

/** A todo with sensible defaults; override what the test is about. */
export function buildTodo(overrides: Partial<TodoRow> = {}): TodoRow {
  return {
    id: randomUUID(),
    workspace_id: randomUUID(),
    name: 'A todo',
    assignee: 'Someone',
    due_date: '2020-01-01',
    ...overrides,
  };
}

export async function insertTodos(db: Knex, todos: TodoRow[]): Promise<TodoRow[]> {
  for (let i = 0; i < todos.length; i += 1000) await db('todos').insert(todos.slice(i, i + 1000));
  return todos;
}

/** `count` delayed todos spread round-robin over `workspaces` workspaces. */
export function buildDelayedTodos(count: number, workspaces: number, dueDate = '2020-01-01'): TodoRow[] {
  const workspaceIds = Array.from({ length: workspaces }, () => randomUUID());
  return Array.from({ length: count }, (_, i) => buildTodo({ workspace_id: workspaceIds[i % workspaces] as string, due_date: dueDate }));
}

export function keyOf(todo: Pick<TodoRow, 'id' | 'due_date'>): string {
  return `send-delay-notifications:${todo.id}:${todo.due_date}`;
}
