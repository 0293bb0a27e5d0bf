import type { Knex } from 'knex';
import { SweepError } from '../runner/errors.js';
import { ExitCode } from '../runner/exit-codes.js';

/**
 * The columns of the todo service's `todos` that the jobs read, with the types their
 * queries assume (keys are made of the id as text and the due date as `YYYY-MM-DD`,
 * deliveries cast item_id back to uuid). Everything else in the table is the service's.
 */
export const TODOS_COLUMNS_READ: Readonly<Record<string, string>> = {
  id: 'uuid',
  workspace_id: 'uuid',
  due_date: 'date',
};

/** An existing `todos` that lacks a column sweep reads, or has it with another type: nothing was changed. */
export class TodosColumnsError extends SweepError {
  constructor(readonly problems: string[]) {
    super(`todos cannot be swept as it is: ${problems.join(', ')} (sweep reads ${Object.entries(TODOS_COLUMNS_READ)
      .map(([column, type]) => `${column} ${type}`).join(', ')}; docs/deployment.md#what-sweep-needs-of-todos)`,
    ExitCode.USAGE, { problems });
  }
}

/** What is wrong with the existing `todos`' columns, in TODOS_COLUMNS_READ's order; empty when sweep can read it. */
export async function findTodosColumnProblems(knex: Knex): Promise<string[]> {
  const result = await knex.raw<{ rows: Array<{ column_name: string; type: string }> }>(
    `select a.attname as column_name, format_type(a.atttypid, null) as type
       from pg_attribute a
      where a.attrelid = to_regclass('todos') and a.attnum > 0 and not a.attisdropped`);
  const types = new Map(result.rows.map((row) => [row.column_name, row.type]));
  return Object.entries(TODOS_COLUMNS_READ).flatMap(([column, wanted]) => {
    const type = types.get(column);
    if (type === undefined) return [`it has no column ${column} (${wanted})`];
    return type === wanted ? [] : [`todos.${column} is ${type}, not ${wanted}`];
  });
}

/** Whether `todos` is there, whoever owns it and whatever this role may read of it. */
export async function todosExists(knex: Knex): Promise<boolean> {
  // Not knex's hasTable: information_schema lists only the tables the role has a grant on.
  const result = await knex.raw<{ rows: Array<{ exists: boolean }> }>(`select to_regclass('todos') is not null as exists`);
  return result.rows[0]?.exists === true;
}

/**
 * Refuses (exit 64, one line) an existing `todos` sweep cannot read, or cannot add its
 * index and triggers to: PostgreSQL lets only the table's owner (or a member of its role) do that.
 */
export async function requireTodosColumns(knex: Knex): Promise<void> {
  const problems = await findTodosColumnProblems(knex);
  if (problems.length > 0) throw new TodosColumnsError(problems);
  const owner = await knex.raw<{ rows: Array<{ me: string; owner: string; member: boolean }> }>(
    `select quote_ident(current_user) as me, c.relowner::regrole::text as owner,
            pg_has_role(current_user, c.relowner, 'USAGE') as member
       from pg_class c where c.oid = to_regclass('todos')`);
  const row = owner.rows[0];
  if (row && !row.member) {
    throw new SweepError(`the role ${row.me} cannot add sweep's index and triggers to todos, which ${row.owner} owns: `
      + `GRANT ${row.owner} TO ${row.me}; (see deploy/postgres/roles.sql)`, ExitCode.USAGE, { owner: row.owner });
  }
}
