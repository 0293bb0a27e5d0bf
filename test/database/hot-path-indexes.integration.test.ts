import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migratorConfig } from '../../src/database/migrations.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

const indexesOfDeliveries = async (database: TestDatabase): Promise<string[]> => {
  const rows = await database.db('pg_indexes').where({ tablename: 'deliveries' }).select<{ indexname: string }[]>('indexname');
  return rows.map((row) => row.indexname).sort();
};

/** The migration that moves the ledger's indexes off the hot path, built outside a transaction. */
describe('migration 20251127000000_deliveries_hot_path_indexes', () => {
  let database: TestDatabase;
  beforeAll(async () => { database = await createTestDatabase(); });
  afterAll(() => database?.destroy());

  it('rolls back to the earlier indexes and forward again', async () => {
    const current = ['deliveries_attention_idx', 'deliveries_attention_run_idx', 'deliveries_item_id_idx', 'deliveries_pending_key_idx',
      'deliveries_pkey', 'deliveries_superseded_idx'];
    expect(await indexesOfDeliveries(database)).toEqual(current);

    // Down to just before this migration: the ones after it first.
    while ((await database.db.migrate.currentVersion(migratorConfig)) >= '20251127000000') await database.db.migrate.down(migratorConfig);
    expect(await indexesOfDeliveries(database)).toEqual(['deliveries_pkey', 'deliveries_run_pending_idx', 'deliveries_status_job_idx']);

    await database.db.migrate.latest(migratorConfig);
    expect(await indexesOfDeliveries(database)).toEqual(current);
  });
});
