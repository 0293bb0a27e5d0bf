import type { Knex } from 'knex';

/**
 * A run's trace id (W3C Trace Context, 32 hex digits), when the run was traced and its
 * trace sampled: `sweep runs show`, the runs API and the console's run page show it, as a
 * link when SWEEP_TRACE_URL gives the trace UI's address. Null for every run before, and
 * for a run not traced. Adding a nullable column with no default rewrites nothing.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('alter table job_runs add column if not exists trace_id text');
  await knex.raw(`alter table job_runs add constraint job_runs_trace_id_check check (trace_id ~ '^[0-9a-f]{32}$') not valid`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('alter table job_runs drop column if exists trace_id');
}
