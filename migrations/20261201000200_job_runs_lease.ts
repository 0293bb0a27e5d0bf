import type { Knex } from 'knex';

/**
 * A run holds its claims by one heartbeat of its own, not by renewing each claim: the
 * claim statement takes a pending delivery over only once the run holding it has not
 * beaten for its lease. Renewing every claim row contended with other runs' claim
 * statements for the same rows' locks, and a renewal stuck behind them let a live run's
 * lease lapse. A nullable column: a catalogue change only.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('job_runs', (table) => {
    table.timestamp('lease_expires_at', { useTz: true });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('job_runs', (table) => {
    table.dropColumn('lease_expires_at');
  });
}
