import type { Knex } from 'knex';
import { changedSinceRemembered, type ChangeStamps } from '../../ledger/change-window.js';
import type { DeliveryRule } from './prune.type.js';

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

/**
 * Whether a run of the delivery's job reads the item with these stamps again as changed:
 * the next run (the changes the job's remembered snapshot could not see), or one live
 * now that read its position before that snapshot moved on (the snapshot it reads
 * against, job_runs.changes_after; none yet, or none at all for a run with no position:
 * it may read anything). A run is live from its start (its heartbeat's lease comes a
 * moment later; a run that died before its first beat counts for an hour). A stalled job, whose runs stop before settling anything, keeps
 * the changes since its last settled snapshot in reach however many hours pass.
 */
function readAgainAsChanged(stamps: ChangeStamps): string {
  return `(exists (select 1 from job_positions p where p.job = d.job and ${changedSinceRemembered(stamps)})
    or exists (select 1 from job_runs r where r.job = d.job and r.status = 'running'
      and coalesce(r.lease_expires_at, r.heartbeat_at + interval '1 hour') >= now()
      and (r.changes_after is null
        or (${stamps.xid} is not null and not pg_visible_in_snapshot(${stamps.xid}, r.changes_after)))))`;
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
    sql += ' and d.job = ?';
    bindings.push(rule.itemGoneFor.name);
    // A delivery whose item prune cannot look up is kept: whether its item is gone is unknown.
    if (full && rule.itemGoneFor.itemWellFormed) sql += ` and (${rule.itemGoneFor.itemWellFormed})`;
    // Gone, or settled behind the job's position and read again by no run as changed: no
    // run reads it again, so forgetting its delivery cannot make the job send it twice.
    const { resume } = rule.itemGoneFor;
    const settled = resume ? ` or (${resume.positionOfDelivery} <= (select p.position from job_positions p where p.job = d.job)
      and not ${resume.deliveryItemChanged(readAgainAsChanged)})` : '';
    if (full) sql += ` and ((${rule.itemGoneFor.itemGone})${settled})`;
  }
  return [sql, bindings];
}

/**
 * Old deliveries of the rule's job whose item the job could not have written (an
 * item_id that is no todo id): prune keeps them, and says which they are. The first
 * `limit` keys, and how many.
 */
export async function getMalformedDeliveries(db: Knex, rule: DeliveryRule, limit: number): Promise<{ count: number; keys: string[] }> {
  const wellFormed = rule.itemGoneFor?.itemWellFormed;
  if (!wellFormed) return { count: 0, keys: [] };
  const [where, bindings] = deliveryCondition(rule, false);
  const result = await db.raw<{ rows: Array<{ key: string; n: number }> }>(
    `select d.key, count(*) over ()::int as n from deliveries d where ${where} and not (${wellFormed}) order by d.key limit ?`,
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
