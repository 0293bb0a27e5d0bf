import type { Knex } from 'knex';

/**
 * CREATE INDEX CONCURRENTLY, for a migration that runs outside a transaction
 * (`config = { transaction: false }`) on a large live table: writers are not blocked
 * while it builds. A concurrent build that failed leaves an invalid index behind, which
 * IF NOT EXISTS would take for done: it is dropped and built again.
 */
export async function createIndexConcurrently(knex: Knex, index: string, definition: string): Promise<void> {
  const invalid = await knex.raw<{ rows: unknown[] }>(
    `select 1 from pg_index i join pg_class c on c.oid = i.indexrelid
      where c.relname = ? and c.relnamespace = current_schema()::regnamespace and not i.indisvalid`, [index]);
  if (invalid.rows.length > 0) await knex.raw(`drop index concurrently ${index}`);
  await knex.raw(`create index concurrently if not exists ${index} ${definition}`);
}
