import type { Knex } from 'knex';
import { changedSinceRemembered, type ChangeStamps } from '../../ledger/change-window.js';
import type { DeliveryRule } from './prune.type.js';

/** The cutoff by the database's clock (the one that wrote the timestamps), fixed for the whole run. */
export async function getCutoff(db: Knex, hours: number): Promise<Date> {
  const result = await db.raw<{ rows: Array<{ cutoff: Date }> }>('select now() - make_interval(hours => ?::int) as cutoff', [hours]);
  return new Date(result.rows[0]!.cutoff);
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

/** What one batch did: rows looked at (a window of the table in key order), rows that match (deleted, or counted in a dry run), where it ended. */
export interface BatchResult {
  examined: number;
  deleted: number;
  lastKey: string | null;
  /** Of the rows looked at, those whose item prune cannot look up (kept), and their first keys. */
  malformed: number;
  malformedKeys: string[];
}

/**
 * One batch, one statement: the next `limit` candidates after `after` in key order (a
 * walk of the primary key that never looks at a row twice, however many are kept),
 * and the deletion of those that match `fullWhere`, checked on the row being deleted:
 * a delivery re-armed (`deliveries retry`) or re-claimed meanwhile is kept. A dry run
 * counts them instead, by the same walk: no statement grows with the table.
 */
async function walkBatch(db: Knex, query: {
  table: string; alias: string; key: string; keyType: string; after: string | null; limit: number; dryRun: boolean;
  candidateWhere: [string, unknown[]]; fullWhere: [string, unknown[]]; malformedWhere?: string; listedKeys?: number;
}): Promise<BatchResult> {
  const { table, alias: a, key } = query;
  const [candidates, candidateBindings] = query.candidateWhere;
  const [full, fullBindings] = query.fullWhere;
  const after = query.after === null ? '' : `${a}.${key} > ?::${query.keyType} and `;
  const inBatch = `${a}.${key} = any(array(select key from batch))`;
  const matched = query.dryRun
    ? `select 1 from ${table} ${a} where ${inBatch} and ${full}`
    : `delete from ${table} ${a} where ${inBatch} and ${full} returning 1`;
  const malformed = query.malformedWhere
    ? `select ${a}.${key} as key from ${table} ${a} where ${inBatch} and not (${query.malformedWhere})` : 'select null::text as key where false';
  const result = await db.raw<{ rows: Array<Omit<BatchResult, 'malformedKeys'> & { malformedKeys: string[] | null }> }>(
    `with batch as (
       select ${a}.${key} as key from ${table} ${a} where ${after}${candidates} order by ${a}.${key} limit ?
     ), matched as (${matched}), malformed as (${malformed})
     select (select count(*) from batch)::int as examined, (select count(*) from matched)::int as deleted,
            (select key::text from batch order by key desc limit 1) as "lastKey",
            (select count(*) from malformed)::int as malformed,
            array(select key::text from malformed order by key limit ?) as "malformedKeys"`,
    [...(query.after === null ? [] : [query.after]), ...candidateBindings, query.limit, ...fullBindings, query.listedKeys ?? 0] as Knex.RawBinding[],
  );
  const row = result.rows[0]!;
  return { ...row, malformedKeys: row.malformedKeys ?? [] };
}

export async function pruneOldRunsBatch(db: Knex, cutoff: Date, after: string | null, limit: number, dryRun: boolean): Promise<BatchResult> {
  const where = runCondition(cutoff);
  return walkBatch(db, { table: 'job_runs', alias: 'r', key: 'id', keyType: 'uuid', after, limit, dryRun, candidateWhere: where, fullWhere: where });
}

/** `listedKeys`: how many keys of deliveries whose item prune cannot look up to return (they are kept, and said). */
export async function pruneOldDeliveriesBatch(db: Knex, rule: DeliveryRule, after: string | null, limit: number,
  options: { dryRun: boolean; listedKeys: number }): Promise<BatchResult> {
  return walkBatch(db, { table: 'deliveries', alias: 'd', key: 'key', keyType: 'text', after, limit, dryRun: options.dryRun,
    candidateWhere: deliveryCondition(rule, false), fullWhere: deliveryCondition(rule, true),
    malformedWhere: rule.itemGoneFor?.itemWellFormed, listedKeys: options.listedKeys });
}

/** Old deliveries of jobs prune does not know (none of `jobs`): kept, since it cannot tell whether their item is gone; counted by the same walk. */
export async function otherJobsDeliveriesBatch(db: Knex, rule: DeliveryRule, jobs: string[], after: string | null, limit: number): Promise<BatchResult> {
  const [where, bindings] = deliveryCondition({ statuses: rule.statuses, cutoff: rule.cutoff }, false);
  return walkBatch(db, { table: 'deliveries', alias: 'd', key: 'key', keyType: 'text', after, limit, dryRun: true,
    candidateWhere: [`${where} and d.job <> all(?::text[])`, [...bindings, jobs]], fullWhere: ['false', []] });
}
