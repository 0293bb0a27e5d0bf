import type { Knex } from 'knex';
import { createIndexConcurrently } from '../src/database/concurrent-index.js';
import { requireTodosColumns, todosExists } from '../src/database/todos-columns.js';

/**
 * `todos` belongs to the todo service: in production it is there before sweep, owned by
 * the service's role, large and written all the time. Then this migration checks that the
 * columns sweep reads are there with the types it reads them as (exit 64 naming what is
 * not, before anything is changed) and adds only the index the delayed todos' keyset scan
 * reads, built CONCURRENTLY so that the service's writers are never blocked. Without a
 * `todos` (the embedded demo, the tests) it creates one with just those columns, and the
 * name and assignee the demo's seed writes.
 *
 * Outside a transaction, for the concurrent build; each step may be run again, so a
 * migrate killed half-way is finished by the next one. (Deployments that applied the
 * earlier version of this migration, which always created the table, do not run it again.)
 */
export const config = { transaction: false };

export async function up(knex: Knex): Promise<void> {
  if (await todosExists(knex)) {
    await requireTodosColumns(knex);
  } else {
    await knex.schema.createTable('todos', (table) => {
      table.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
      table.uuid('workspace_id').notNullable();
      table.text('name');
      table.text('assignee');
      table.date('due_date').notNullable();
    });
  }
  // Serves the keyset scan of delayed todos: WHERE (due_date, id) > cursor ORDER BY due_date, id.
  await createIndexConcurrently(knex, 'todos_due_date_id_idx', 'on todos (due_date, id)');
}

export async function down(knex: Knex): Promise<void> {
  // The table itself only where sweep made it: a todo service's own table is never dropped.
  await knex.raw('drop index concurrently if exists todos_due_date_id_idx');
}
