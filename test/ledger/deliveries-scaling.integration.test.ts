import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDeliveryLedger } from '../../src/ledger/deliveries.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

const JOB = 'send-delay-notifications';
const LEDGER_ROWS = 100_000;
const BATCH = 250;

/**
 * Recording a batch must cost what the batch costs, however big the ledger has grown,
 * and before any ANALYZE has run (a new deployment, or autovacuum off). Counted in rows
 * read (pg_stat_xact_user_tables, this transaction only), never in time. Below some
 * tens of thousands of rows, reading the whole table is PostgreSQL's cheaper plan, and a
 * bounded one; at 100,000 a plan that still reads every delivery of the job is the bug
 * this guards against (it did, through the (status, job) index, while the statement
 * filtered on d.job).
 */
describe.skipIf(inject('testDatabase').kind !== 'postgres')('delivery ledger on a large ledger with no statistics', () => {
  let database: TestDatabase;
  const runId = randomUUID();

  beforeAll(async () => {
    database = await createTestDatabase();
    await database.db.raw(
      `insert into deliveries (key, job, workspace_id, item_id, item_date, status, run_id, lease_expires_at)
       select ? || g, ?, gen_random_uuid(), g::text, date '2022-01-01' + (g % 300), 'pending', ?, now() + interval '1 hour'
         from generate_series(1, ?) as g`,
      [`${JOB}:item-`, JOB, runId, LEDGER_ROWS],
    );
  });
  afterAll(() => database?.destroy());

  it(`records a batch of ${BATCH} outcomes by primary key, not by reading the ${LEDGER_ROWS}-row ledger`, async () => {
    const read = await database.db.transaction(async (trx) => {
      const ledger = createDeliveryLedger(trx, {
        job: JOB, runId, leaseMs: 60_000, maxAttempts: 5, retryBackoffMs: 1000, retryBackoffMaxMs: 60_000,
      });
      const recorded = await ledger.record(Array.from({ length: BATCH }, (_, i) => ({
        key: `${JOB}:item-${i * 100 + 1}`, result: 'sent' as const, httpStatus: 202,
      })));
      expect(recorded).toEqual({ written: BATCH, notSent: [] });
      const stats = await trx('pg_stat_xact_user_tables').where({ relname: 'deliveries' })
        .first<{ seq_tup_read: string; idx_tup_fetch: string }>('seq_tup_read', 'idx_tup_fetch');
      return Number(stats?.seq_tup_read ?? 0) + Number(stats?.idx_tup_fetch ?? 0);
    });
    // One lookup per outcome, give or take: a plan that walks the job's deliveries reads 30,000.
    expect(read).toBeGreaterThanOrEqual(BATCH);
    expect(read).toBeLessThan(BATCH * 4);
  });
});

/**
 * The hot path (claim: a pending row; record: a sent row) must write nothing to the index
 * the dead-letter view reads by status: only the rows that need attention go in. Counted
 * in heap pointers on the index's leaf pages (pageinspect), so a deduplicated posting
 * list counts for every row it points to.
 */
describe.skipIf(inject('testDatabase').kind !== 'postgres')('the attention index', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
    await database.db.raw('create extension if not exists pageinspect');
  });
  afterAll(() => database?.destroy());

  const heapPointers = async (index: string): Promise<number> => {
    const pages = await database.db.raw<{ rows: Array<{ pages: number }> }>(
      `select (pg_relation_size(?::regclass) / current_setting('block_size')::int)::int as pages`, [index]);
    let pointers = 0;
    for (let page = 1; page < (pages.rows[0]?.pages ?? 0); page += 1) {
      const result = await database.db.raw<{ rows: Array<{ n: number }> }>(
        `select coalesce(sum(coalesce(cardinality(tids), 1)), 0)::int as n
           from bt_page_items(?, ?) where (select type from bt_page_stats(?, ?)) = 'l' and itemoffset > case when
             (select btpo_next from bt_page_stats(?, ?)) = 0 then 0 else 1 end`,
        [index, page, index, page, index, page]);
      pointers += result.rows[0]?.n ?? 0;
    }
    return pointers;
  };

  it('holds only retry, failed and dead deliveries: claiming and recording sent ones writes nothing to it', async () => {
    const ledger = createDeliveryLedger(database.db, {
      job: JOB, runId: randomUUID(), leaseMs: 60_000, maxAttempts: 5, retryBackoffMs: 1000, retryBackoffMaxMs: 60_000,
    });
    const items = Array.from({ length: 200 }, (_, i) => ({
      key: `${JOB}:attention-${i}`, workspaceId: randomUUID(), itemId: `attention-${i}`, itemDate: '2022-01-01',
    }));
    expect((await ledger.claim(items)).size).toBe(200);
    await ledger.record(items.map((item, i) => (i < 190
      ? { key: item.key, result: 'sent' as const, httpStatus: 201 }
      : { key: item.key, result: i < 195 ? 'failed' as const : 'retry' as const, httpStatus: i < 195 ? 400 : 503, error: 'no' })));

    expect(await heapPointers('deliveries_attention_idx')).toBe(10);
    const dead = await database.db('deliveries').where({ job: JOB }).whereIn('status', ['failed', 'retry']).count<{ count: string }[]>();
    expect(Number(dead[0]?.count)).toBe(10);
  });
});
