import type { Knex } from 'knex';

/**
 * What a job's reader needs of the ledger, in its own SQL: the ledger is looked up by
 * its primary key, which the job computes from its item's columns exactly as its key
 * function does. (A join on the ledger's item columns let the planner, with no statistics
 * on a fresh ledger, compare every item with every delivery: 21 s instead of 67 ms for
 * 20,000 todos.)
 */

/**
 * SQL over a delivery `d` that keeps its item from the scan: any status but
 * `superseded`. A superseded delivery was never sent (its item no longer stood as it
 * did); an item that stands again under the same key (a todo moved away and back) is
 * new work, which the claim takes over.
 */
export const HOLDS_ITS_ITEM = `d.status <> 'superseded'`;

/**
 * Leaves out the items that have a delivery, whatever its status but superseded: from
 * its first claim on, an item is the ledger's (sent, refused, or due again through the
 * ledger's own index), so a scan reads only items no run has taken up yet. Still one
 * lookup of the primary key per item: the status is read from the row it finds.
 */
export function withoutDelivery(db: Knex, keySql: string, bindings: readonly Knex.RawBinding[] = []):
(builder: Knex.QueryBuilder) => void {
  return (builder) => {
    builder.whereNotExists((sub) => sub.select(db.raw('1')).from('deliveries as d').where('d.key', db.raw(keySql, bindings))
      .whereRaw(HOLDS_ITS_ITEM));
  };
}

/** How a job's items stand before a run: one vocabulary for every job's summary. */
export interface SurveyCounts {
  /** Items in the run's scope (delayed todos, todos due tomorrow, workspaces with delayed todos). */
  inScope: number;
  /** Of those, notified by an earlier run. */
  alreadySent: number;
  /** Of those, refused for good or dead after their attempts: see `sweep deliveries`. */
  previouslyFailed: number;
}

/**
 * Counts `items` (a query selecting each item's ledger key as `key`) against the ledger
 * in one pass that hashes it. With `position`, also the lowest value of that column
 * among the items that have no delivery yet: where a scan in that order may start.
 */
export async function surveyAgainstLedger(db: Knex, items: Knex.QueryBuilder, position?: string):
Promise<SurveyCounts & { firstNew?: string }> {
  const row = await db.from(items.as('i'))
    .leftJoin('deliveries as d', 'd.key', 'i.key')
    .first<{ in_scope: number; already_sent: number; previously_failed: number; first_new: string | null }>(
      db.raw('count(*)::int as in_scope'),
      db.raw(`count(*) filter (where d.status = 'sent')::int as already_sent`),
      db.raw(`count(*) filter (where d.status in ('failed', 'dead'))::int as previously_failed`),
      position ? db.raw(`min(??) filter (where d.key is null or not (${HOLDS_ITS_ITEM})) as first_new`, [`i.${position}`])
        : db.raw('null as first_new'),
    );
  return {
    inScope: row?.in_scope ?? 0,
    alreadySent: row?.already_sent ?? 0,
    previouslyFailed: row?.previously_failed ?? 0,
    ...(position ? { firstNew: row?.first_new ?? undefined } : {}),
  };
}

const UUID_PATTERN = `'^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'`;

/** SQL over a delivery `d`: its item_id is a UUID, as a job keyed by a todo or a workspace writes it. */
export const ITEM_ID_IS_UUID = `d.item_id ~* ${UUID_PATTERN}`;

/**
 * SQL over `d`: its item_id as a uuid, or null when it is none. The case guards the cast
 * whatever order PostgreSQL evaluates conditions in: a row the job did not write must
 * not fail a statement over the whole ledger.
 */
export const ITEM_ID_AS_UUID = `case when ${ITEM_ID_IS_UUID} then d.item_id::uuid end`;
