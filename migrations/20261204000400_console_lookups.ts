import type { Knex } from 'knex';
import { createIndexConcurrently } from '../src/database/concurrent-index.js';

/**
 * The lookups the console (and `sweep deliveries`, `sweep runs`) makes on a ledger of any
 * size, each measured at 10,000,000 deliveries and 100,000 runs by
 * `npm run bench -- --console` (figures in docs/performance.md):
 * - a todo's deliveries, by item id ("was this todo notified?"): without an index, a
 *   full read of the ledger (2 s there). The one index here every delivery pays for.
 * - the deliveries a run left failing, by run id: only rows in retry, failed or dead, so
 *   a small partial index that sent deliveries never touch (it read every failing row of
 *   the ledger before: 230 ms there).
 * - the oldest notification a job owes: the attention index gains item_date, so the
 *   minimum is its first entry rather than a read of every retry row (120 ms there). It is
 *   rebuilt under a new name, then takes the old one: the old serves until then.
 * - the newest runs of every job: job_runs by (started_at, id), the run list's order,
 *   instead of a sort of the whole history (70 ms there).
 * All built CONCURRENTLY: runs go on claiming and recording while they build.
 */
export const config = { transaction: false };

const ATTENTION = `where status in ('retry', 'failed', 'dead')`;

async function replaceAttentionIndex(knex: Knex, columns: string): Promise<void> {
  await createIndexConcurrently(knex, 'deliveries_attention_next_idx', `on deliveries (${columns}) ${ATTENTION}`);
  await knex.raw('drop index concurrently if exists deliveries_attention_idx');
  await knex.raw('alter index deliveries_attention_next_idx rename to deliveries_attention_idx');
}

export async function up(knex: Knex): Promise<void> {
  await createIndexConcurrently(knex, 'deliveries_item_id_idx', 'on deliveries (item_id)');
  await createIndexConcurrently(knex, 'deliveries_attention_run_idx', `on deliveries (run_id) ${ATTENTION}`);
  await replaceAttentionIndex(knex, 'job, status, item_date');
  await createIndexConcurrently(knex, 'job_runs_started_at_id_idx', 'on job_runs (started_at, id)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index concurrently if exists job_runs_started_at_id_idx');
  await replaceAttentionIndex(knex, 'job, status');
  await knex.raw('drop index concurrently if exists deliveries_attention_run_idx');
  await knex.raw('drop index concurrently if exists deliveries_item_id_idx');
}
