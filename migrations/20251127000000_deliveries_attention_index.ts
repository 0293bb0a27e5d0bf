import type { Knex } from 'knex';

/**
 * The (status, job) index made every claim (a pending row) and every record (a sent
 * row) write an index entry that only the dead-letter view ever reads: about a tenth of
 * PostgreSQL's work per notification. The rows an operator or a retry asks for by
 * status are the few retry/failed/dead ones; a partial index keeps exactly those, and
 * the hot path writes nothing to it. Listing sent rows by status reads the table, as it
 * would anyway for most of it.
 *
 * Built CONCURRENTLY, outside a transaction, so a running sweep is never blocked behind
 * the build on a large ledger.
 */
export const config = { transaction: false };

export async function up(knex: Knex): Promise<void> {
  // A concurrent build that failed leaves an invalid index behind, which `if not exists` would keep.
  await dropIfInvalid(knex, 'deliveries_attention_idx');
  await knex.raw(`create index concurrently if not exists deliveries_attention_idx on deliveries (job, status)
    where status in ('retry', 'failed', 'dead')`);
  await knex.raw('drop index concurrently if exists deliveries_status_job_idx');
}

export async function down(knex: Knex): Promise<void> {
  await dropIfInvalid(knex, 'deliveries_status_job_idx');
  await knex.raw('create index concurrently if not exists deliveries_status_job_idx on deliveries (status, job)');
  await knex.raw('drop index concurrently if exists deliveries_attention_idx');
}

async function dropIfInvalid(knex: Knex, index: string): Promise<void> {
  const result = await knex.raw<{ rows: unknown[] }>(
    `select 1 from pg_index i join pg_class c on c.oid = i.indexrelid
      where c.relname = ? and c.relnamespace = current_schema()::regnamespace and not i.indisvalid`, [index]);
  if (result.rows.length > 0) await knex.raw(`drop index concurrently ${index}`);
}
