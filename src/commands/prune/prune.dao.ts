import type { Knex } from 'knex';
import type { DeliveryRule } from './prune.type.js';

/**
 * For each job whose items prune knows: when the item a delivery was for can never be
 * due again, so forgetting the delivery cannot make the job send it a second time.
 * send-delay-notifications keys a delivery by todo and due date: the todo was deleted,
 * or its due date moved (which gives it a new key). A todo has no "done" state, so a
 * todo that is still there with that due date stays delayed, and its ledger row is
 * what keeps it from being notified again.
 */
const UUID = `'^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'`;
const ITEMS: Record<string, { wellFormed: string; gone: string }> = {
  'send-delay-notifications': {
    wellFormed: `d.item_id ~* ${UUID}`,
    // The case guards the cast whatever order PostgreSQL evaluates the conditions in: a
    // row not written by the job (an item_id that is no uuid) must not fail the statement.
    gone: `not exists (select 1 from todos t where t.id = case when d.item_id ~* ${UUID} then d.item_id::uuid end`
      + ' and t.due_date = d.item_date)',
  },
};

/** Jobs whose deliveries prune can delete without --allow-resend. */
export const JOBS_WITH_KNOWN_ITEMS = Object.keys(ITEMS);

/** The cutoff by the database's clock (the one that wrote the timestamps), fixed for the whole run. */
export async function getCutoff(db: Knex, hours: number): Promise<Date> {
  const result = await db.raw<{ rows: Array<{ cutoff: Date }> }>('select now() - make_interval(hours => ?::int) as cutoff', [hours]);
  return new Date(result.rows[0]!.cutoff);
}

/** What one batch did: rows looked at (a window of the table in key order), rows deleted, where it ended. */
export interface BatchResult {
  examined: number;
  deleted: number;
  lastKey: string | null;
}

/** Finished runs (never `running` ones: a live run, or one whose end was never recorded). */
function runCondition(cutoff: Date): [string, unknown[]] {
  return [`r.status <> 'running' and r.finished_at < ?::timestamptz`, [cutoff.toISOString()]];
}

/** The cheap part of the rule (indexable columns); `full` adds whether the item is gone. */
function deliveryCondition(rule: DeliveryRule, full: boolean): [string, unknown[]] {
  const statuses = rule.statuses.map(() => '?').join(', ');
  let sql = `d.status in (${statuses}) and d.updated_at < ?::timestamptz`;
  const bindings: unknown[] = [...rule.statuses, rule.cutoff.toISOString()];
  if (rule.itemGoneFor !== undefined) {
    const items = ITEMS[rule.itemGoneFor];
    if (!items) throw new Error(`prune does not know the items of job ${rule.itemGoneFor}`);
    sql += ' and d.job = ?';
    bindings.push(rule.itemGoneFor);
    // A delivery whose item prune cannot look up is kept: whether its item is gone is unknown.
    if (full) sql += ` and ${items.wellFormed} and ${items.gone}`;
  }
  return [sql, bindings];
}

/**
 * Old deliveries of the rule's job whose item_id the job could not have written (not a
 * todo id): prune keeps them, and says which they are. The first `limit` keys, and how many.
 */
export async function getMalformedDeliveries(db: Knex, rule: DeliveryRule & { itemGoneFor: string }, limit: number): Promise<{ count: number; keys: string[] }> {
  const items = ITEMS[rule.itemGoneFor];
  if (!items) throw new Error(`prune does not know the items of job ${rule.itemGoneFor}`);
  const [where, bindings] = deliveryCondition(rule, false);
  const result = await db.raw<{ rows: Array<{ key: string; n: number }> }>(
    `select d.key, count(*) over ()::int as n from deliveries d where ${where} and not (${items.wellFormed}) order by d.key limit ?`,
    [...bindings, limit] as Knex.RawBinding[],
  );
  return { count: result.rows[0]?.n ?? 0, keys: result.rows.map((row) => row.key) };
}

async function count(db: Knex, sql: string, bindings: unknown[]): Promise<number> {
  const result = await db.raw<{ rows: Array<{ n: number }> }>(sql, bindings as Knex.RawBinding[]);
  return result.rows[0]?.n ?? 0;
}

export async function countOldRuns(db: Knex, cutoff: Date): Promise<number> {
  const [where, bindings] = runCondition(cutoff);
  return count(db, `select count(*)::int as n from job_runs r where ${where}`, bindings);
}

export async function countOldDeliveries(db: Knex, rule: DeliveryRule): Promise<number> {
  const [where, bindings] = deliveryCondition(rule, true);
  return count(db, `select count(*)::int as n from deliveries d where ${where}`, bindings);
}

/**
 * One batch, one statement: the next `limit` candidates after `after` in key order (a
 * walk of the primary key that never looks at a row twice, however many are kept),
 * and the deletion of those that match `fullWhere`, checked on the row being deleted:
 * a delivery re-armed (`deliveries retry`) or re-claimed meanwhile is kept.
 */
async function deleteBatch(db: Knex, query: {
  table: string; alias: string; key: string; keyType: string; after: string | null; limit: number;
  candidateWhere: [string, unknown[]]; fullWhere: [string, unknown[]];
}): Promise<BatchResult> {
  const { table, alias: a, key } = query;
  const [candidates, candidateBindings] = query.candidateWhere;
  const [full, fullBindings] = query.fullWhere;
  const after = query.after === null ? '' : `${a}.${key} > ?::${query.keyType} and `;
  const result = await db.raw<{ rows: BatchResult[] }>(
    `with batch as (
       select ${a}.${key} as key from ${table} ${a} where ${after}${candidates} order by ${a}.${key} limit ?
     ), deleted as (
       delete from ${table} ${a} where ${a}.${key} = any(array(select key from batch)) and ${full} returning 1
     )
     select (select count(*) from batch)::int as examined, (select count(*) from deleted)::int as deleted,
            (select key::text from batch order by key desc limit 1) as "lastKey"`,
    [...(query.after === null ? [] : [query.after]), ...candidateBindings, query.limit, ...fullBindings] as Knex.RawBinding[],
  );
  return result.rows[0]!;
}

export async function deleteOldRunsBatch(db: Knex, cutoff: Date, after: string | null, limit: number): Promise<BatchResult> {
  const where = runCondition(cutoff);
  return deleteBatch(db, { table: 'job_runs', alias: 'r', key: 'id', keyType: 'uuid', after, limit, candidateWhere: where, fullWhere: where });
}

export async function deleteOldDeliveriesBatch(db: Knex, rule: DeliveryRule, after: string | null, limit: number): Promise<BatchResult> {
  return deleteBatch(db, { table: 'deliveries', alias: 'd', key: 'key', keyType: 'text', after, limit,
    candidateWhere: deliveryCondition(rule, false), fullWhere: deliveryCondition(rule, true) });
}
