import type { Knex } from 'knex';
import { createIndexConcurrently as createConcurrently } from '../src/database/concurrent-index.js';

/**
 * Indexes for the sweep's hot path: a claim (a pending row) and its outcome (a sent row)
 * for every notification.
 *
 * - The (status, job) index took an entry for every claim and every record, read only
 *   by the dead-letter view and `deliveries retry`. A partial index on (job, status) of
 *   the retry/failed/dead rows serves those, and the hot path writes nothing to it.
 *   Listing sent rows by status reads the table, as it would anyway for most of it.
 * - The pending claims' index was on run_id: recording a batch by (run_id, status) read
 *   every entry the run had ever made, since entries left dead by the updates stay until
 *   VACUUM and a bitmap scan skips none of them (PostgreSQL's CPU grew to half the
 *   sweep's over 1,000,000 todos). On key, a batch's own rows are looked up one by one,
 *   through an index small enough that PostgreSQL prefers it to reading a young ledger
 *   whole; a run renews and releases its claims by the keys it holds.
 *
 * Built CONCURRENTLY, outside a transaction, so a sweep running during a deploy is not
 * blocked behind a build on a large ledger; an invalid index left by a failed
 * concurrent build is dropped first.
 */
export const config = { transaction: false };

export async function up(knex: Knex): Promise<void> {
  await createConcurrently(knex, 'deliveries_attention_idx',
    `on deliveries (job, status) where status in ('retry', 'failed', 'dead')`);
  await knex.raw('drop index concurrently if exists deliveries_status_job_idx');
  await createConcurrently(knex, 'deliveries_pending_key_idx', `on deliveries (key) where status = 'pending'`);
  await knex.raw('drop index concurrently if exists deliveries_run_pending_idx');
}

export async function down(knex: Knex): Promise<void> {
  await createConcurrently(knex, 'deliveries_run_pending_idx', `on deliveries (run_id) where status = 'pending'`);
  await knex.raw('drop index concurrently if exists deliveries_pending_key_idx');
  await createConcurrently(knex, 'deliveries_status_job_idx', 'on deliveries (status, job)');
  await knex.raw('drop index concurrently if exists deliveries_attention_idx');
}
