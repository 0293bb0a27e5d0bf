import type { Knex } from 'knex';

/**
 * The delivery ledger: one row per notification key, whatever job sends it. A job finds
 * the delivery of an item by its key (the primary key). item_id / item_date say what
 * the key is made of (for send-delay-notifications: the todo and its due date), for
 * operators and for retention.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('deliveries', (table) => {
    table.text('key').primary();
    table.text('job').notNullable();
    table.uuid('workspace_id').notNullable();
    table.text('item_id').notNullable();
    table.date('item_date');
    table.text('status').notNullable();
    table.integer('attempts').notNullable().defaultTo(0);
    table.uuid('run_id');
    table.timestamp('lease_expires_at', { useTz: true });
    table.timestamp('next_attempt_at', { useTz: true });
    table.integer('last_status');
    table.text('last_error');
    table.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.timestamp('sent_at', { useTz: true });
    table.index(['status', 'job'], 'deliveries_status_job_idx');
  });
  await knex.raw(`alter table deliveries add constraint deliveries_status_check
    check (status in ('pending', 'sent', 'retry', 'failed', 'dead'))`);
  // Lease renewal and release touch only a run's live claims.
  await knex.raw(`create index deliveries_run_pending_idx on deliveries (run_id) where status = 'pending'`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('deliveries');
}
