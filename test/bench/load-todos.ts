import type { Knex } from 'knex';

export interface LoadedTodos {
  seconds: number;
  /** A run date after every due date: every loaded todo is delayed. */
  runDate: string;
}

/** Due dates cycle over this many days from FIRST_DUE_DATE, so pages span several dates. */
const DUE_DATE_SPREAD_DAYS = 1000;
const FIRST_DUE_DATE = '2020-01-01';

/**
 * Loads `todos` delayed todos spread round-robin over `workspaces` workspaces in one
 * server-side statement (generate_series), then ANALYZE so the sweep's queries get the
 * plans they would get on a live table. Workspace ids are derived from their number.
 */
export async function loadTodos(db: Knex, counts: { todos: number; workspaces: number }): Promise<LoadedTodos> {
  const started = performance.now();
  await db.raw(
    `insert into todos (id, workspace_id, name, assignee, due_date)
     select gen_random_uuid(),
            md5('sweep-bench-workspace-' || (g % ?))::uuid,
            'Bench todo ' || g,
            'bench',
            date '${FIRST_DUE_DATE}' + (g % ?)
       from generate_series(0, ? - 1) as g`,
    [counts.workspaces, DUE_DATE_SPREAD_DAYS, counts.todos],
  );
  await db.raw('analyze todos');
  const row = await db.first<{ run_date: string }>(db.raw(`to_char(max(due_date) + 1, 'YYYY-MM-DD') as run_date`)).from('todos');
  return { seconds: (performance.now() - started) / 1000, runDate: row?.run_date ?? FIRST_DUE_DATE };
}

/** A delayed todo as the ceiling sends it: the key and message are the contract's. */
export interface BenchTodo {
  id: string;
  workspaceId: string;
  dueDate: string;
}

/** Every todo, in the order the sweep pages through them: the ceiling's in-memory list. */
export async function readTodos(db: Knex): Promise<BenchTodo[]> {
  const rows = await db.raw<{ rows: Array<{ id: string; workspace_id: string; due_date: string }> }>(
    `select id, workspace_id, to_char(due_date, 'YYYY-MM-DD') as due_date from todos order by due_date, id`,
  );
  return rows.rows.map((row) => ({ id: row.id, workspaceId: row.workspace_id, dueDate: row.due_date }));
}
