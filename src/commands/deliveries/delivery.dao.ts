import type { Knex } from 'knex';
import type { DeliveryFilter, DeliveryRow } from './delivery.type.js';

/** The filter an operator gives, as conditions on the ledger's columns. */
export function whereFilter(builder: Knex.QueryBuilder, filter: DeliveryFilter): Knex.QueryBuilder {
  if (filter.statuses?.length) builder.whereIn('status', filter.statuses);
  if (filter.job) builder.where('job', filter.job);
  if (filter.workspaceId) builder.where('workspace_id', filter.workspaceId);
  if (filter.key) builder.where('key', filter.key);
  if (filter.itemId) builder.where('item_id', filter.itemId);
  if (filter.keys) builder.whereRaw('key = any(?::text[])', [filter.keys as unknown as Knex.RawBinding]);
  return builder;
}

/** A page of the deliveries that match, in key order after `afterKey`: keyset on the primary key, never OFFSET. */
export async function getDeliveriesPage(db: Knex, filter: DeliveryFilter, page: { afterKey?: string; limit: number }): Promise<DeliveryRow[]> {
  return db('deliveries')
    .select('key', 'job', 'workspace_id', 'item_id', 'item_date', 'status', 'attempts', 'last_status', 'last_error',
      'next_attempt_at', 'updated_at', 'run_id')
    .modify((builder) => whereFilter(builder, filter))
    .modify((builder) => { if (page.afterKey !== undefined) builder.where('key', '>', page.afterKey); })
    .orderBy('key')
    .limit(page.limit);
}

/** The most recently changed deliveries that match, newest first. */
export async function getDeliveries(db: Knex, filter: DeliveryFilter, limit: number): Promise<DeliveryRow[]> {
  return db('deliveries')
    .select('key', 'job', 'workspace_id', 'item_id', 'item_date', 'status', 'attempts', 'last_status', 'last_error',
      'next_attempt_at', 'updated_at', 'run_id')
    .modify((builder) => whereFilter(builder, filter))
    .orderBy([{ column: 'updated_at', order: 'desc' }, { column: 'key' }])
    .limit(limit);
}

/** How many deliveries there are per status, for the same filter without the status. */
export async function countDeliveriesByStatus(db: Knex, filter: DeliveryFilter): Promise<Record<string, number>> {
  const rows: Array<{ status: string; n: number }> = await db('deliveries')
    .select('status', db.raw('count(*)::int as n'))
    .modify((builder) => whereFilter(builder, { ...filter, statuses: undefined }))
    .groupBy('status');
  return Object.fromEntries(rows.map((row) => [row.status, row.n]));
}

/** One delivery in full (its message and times included), by its key. */
export async function getDelivery(db: Knex, key: string): Promise<Record<string, unknown> | undefined> {
  return db('deliveries').where({ key }).first();
}
