import type { Knex } from 'knex';

/**
 * The pause switch: a job listed here sends nothing, whoever starts it and however many
 * runners it has; live runs of it stop within a few seconds. A run that met a pause is
 * recorded `paused`.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('job_pauses', (table) => {
    table.text('job').primary();
    table.timestamp('paused_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.text('paused_by').notNullable();
    table.text('reason');
  });
  await knex.raw('alter table job_runs drop constraint job_runs_status_check');
  await knex.raw(`alter table job_runs add constraint job_runs_status_check
    check (status in ('running', 'succeeded', 'partial', 'failed', 'interrupted', 'paused'))`);
  // Live runners count the live runs of their job every second, to share its rate limit:
  // the few running rows, not the job's whole history. job_runs is small (prune keeps it so).
  await knex.raw(`create index job_runs_running_idx on job_runs (job) where status = 'running'`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index job_runs_running_idx');
  await knex.raw('alter table job_runs drop constraint job_runs_status_check');
  await knex.raw(`update job_runs set status = 'interrupted' where status = 'paused'`);
  await knex.raw(`alter table job_runs add constraint job_runs_status_check
    check (status in ('running', 'succeeded', 'partial', 'failed', 'interrupted'))`);
  await knex.schema.dropTable('job_pauses');
}
