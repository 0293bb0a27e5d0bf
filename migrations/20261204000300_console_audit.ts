import type { Knex } from 'knex';

/**
 * What operators changed, whoever made the change: the console (a token's name) or the
 * CLI's pause, resume and deliveries retry (their --by, or user@host). Written in the
 * same transaction as the change it records, so a change is never without its row.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('console_audit', (table) => {
    table.bigIncrements('id').primary();
    table.timestamp('at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.text('actor').notNullable();
    table.text('source').notNullable();
    table.text('action').notNullable();
    table.text('job');
    table.text('reason');
    table.jsonb('details').notNullable().defaultTo('{}');
    table.integer('deliveries_touched').notNullable().defaultTo(0);
  });
  await knex.raw(`alter table console_audit add constraint console_audit_source_check check (source in ('console', 'cli'))`);
  await knex.raw(`alter table console_audit add constraint console_audit_action_check check (action in ('pause', 'resume', 'rearm'))`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('console_audit');
}
