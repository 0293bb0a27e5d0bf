import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('todos', (table) => {
    table.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    table.uuid('workspace_id').notNullable();
    table.text('name');
    table.text('assignee');
    table.date('due_date').notNullable();
    // Serves the keyset scan of delayed todos: WHERE (due_date, id) > cursor ORDER BY due_date, id.
    table.index(['due_date', 'id'], 'todos_due_date_id_idx');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('todos');
}
