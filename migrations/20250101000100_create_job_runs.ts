import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('job_runs', (table) => {
    table.uuid('id').primary();
    table.text('job').notNullable();
    table.jsonb('parameters').notNullable().defaultTo('{}');
    table.text('status').notNullable();
    table.timestamp('started_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.timestamp('finished_at', { useTz: true });
    table.timestamp('heartbeat_at', { useTz: true });
    table.jsonb('counts');
    table.text('error');
    table.text('host');
    table.integer('pid');
    table.index(['job', 'started_at'], 'job_runs_job_started_at_idx');
  });
  await knex.raw(`alter table job_runs add constraint job_runs_status_check
    check (status in ('running', 'succeeded', 'partial', 'failed', 'interrupted'))`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('job_runs');
}
