import type { Knex } from 'knex';

/**
 * The brake on a storm (issue 30): a run that would send far more than usual holds.
 * - job_runs gets status `held` and `hold` (jsonb: the count, the usual figure it was
 *   compared with, the top workspaces and a sample), a nullable column: a catalogue change.
 * - job_holds keeps, per job, the hold its runners share and the approval that releases
 *   it (sweep approve): one row per job at most, gone once the job's counts are usual.
 * - console_audit takes the action `approve`.
 */
const RUN_STATUSES = `'running', 'succeeded', 'partial', 'failed', 'interrupted', 'paused'`;
const AUDIT_ACTIONS = `'pause', 'resume', 'rearm'`;

async function replaceChecks(knex: Knex, runStatuses: string, auditActions: string): Promise<void> {
  await knex.raw(`alter table job_runs drop constraint if exists job_runs_status_check,
    add constraint job_runs_status_check check (status in (${runStatuses}))`);
  await knex.raw(`alter table console_audit drop constraint if exists console_audit_action_check,
    add constraint console_audit_action_check check (action in (${auditActions}))`);
}

export async function up(knex: Knex): Promise<void> {
  await knex.raw('alter table job_runs add column if not exists hold jsonb');
  await replaceChecks(knex, `${RUN_STATUSES}, 'held'`, `${AUDIT_ACTIONS}, 'approve'`);
  await knex.schema.createTable('job_holds', (table) => {
    table.text('job').primary();
    // The last hold: when, by which run, what it counted against what usual.
    table.timestamp('held_at', { useTz: true });
    table.uuid('held_by_run');
    table.jsonb('hold');
    // The approval: up to how many a run may send beyond usual, who, when, why.
    table.integer('approved_up_to');
    table.text('approved_by');
    table.timestamp('approved_at', { useTz: true });
    table.text('approval_reason');
    // When a run first sent under the approval: once counts are usual again, the row goes.
    table.timestamp('approval_used_at', { useTz: true });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('job_holds');
  await knex.raw(`update job_runs set status = 'interrupted' where status = 'held'`);
  await knex.raw(`delete from console_audit where action = 'approve'`);
  await replaceChecks(knex, RUN_STATUSES, AUDIT_ACTIONS);
  await knex.raw('alter table job_runs drop column if exists hold');
}
