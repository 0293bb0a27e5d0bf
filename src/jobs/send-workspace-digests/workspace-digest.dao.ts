import type { Knex } from 'knex';
import { HOLDS_ITS_ITEM, surveyAgainstLedger, type SurveyCounts } from '../../ledger/undelivered.js';

/** A workspace that has delayed todos as of the run date, with how many. */
export interface WorkspaceDigest {
  workspaceId: string;
  delayed: number;
  key: string;
}

/** `send-workspace-digests:<workspaceId>:<runDate>`: one digest per workspace and day, whatever its count. */
const KEY = `'send-workspace-digests:' || t.workspace_id || ':' || ?::date::text`;

/**
 * The workspaces with delayed todos and their counts, in workspace order: a walk of
 * todos_workspace_id_due_date_idx that counts each workspace's delayed todos as it goes.
 */
const digests = (db: Knex, runDate: string) => db('todos as t')
  .where('t.due_date', '<', runDate)
  .groupBy('t.workspace_id')
  .select('t.workspace_id', db.raw('count(*)::int as delayed'), db.raw(`${KEY} as key`, [runDate]));

export function surveyWorkspaceDigests(db: Knex, runDate: string): Promise<SurveyCounts> {
  return surveyAgainstLedger(db, digests(db, runDate));
}

/**
 * A page of the day's digests not sent yet (no delivery, or a superseded one: the workspace has delayed todos again),
 * after `afterWorkspaceId`; the ledger is looked up once per workspace.
 */
export async function getWorkspaceDigests(db: Knex, query: { runDate: string; afterWorkspaceId?: string; limit: number }):
Promise<WorkspaceDigest[]> {
  const rows: Array<{ workspace_id: string; delayed: number; key: string }> = await digests(db, query.runDate)
    .modify((builder) => {
      if (query.afterWorkspaceId) builder.where('t.workspace_id', '>', query.afterWorkspaceId);
    })
    .havingRaw(`not exists (select 1 from deliveries d where d.key = ${KEY} and ${HOLDS_ITS_ITEM})`, [query.runDate])
    .orderBy('t.workspace_id')
    .limit(query.limit);
  return rows.map((row) => ({ workspaceId: row.workspace_id, delayed: row.delayed, key: row.key }));
}

/**
 * For owed digests (a workspace and its day each), how many delayed todos each workspace
 * has as of its digest's day now: one statement for a page of the ledger's deliveries,
 * one range of todos_workspace_id_due_date_idx per workspace. Keyed by the digest's key.
 */
export async function countDelayedNow(db: Knex, owed: Array<{ key: string; workspaceId: string; day: string }>):
Promise<Map<string, WorkspaceDigest>> {
  if (owed.length === 0) return new Map();
  const result = await db.raw<{ rows: Array<{ key: string; workspace_id: string; delayed: number }> }>(
    `select v.key, v.workspace_id,
            (select count(*)::int from todos t where t.workspace_id = v.workspace_id and t.due_date < v.day) as delayed
       from unnest(?::text[], ?::uuid[], ?::date[]) as v(key, workspace_id, day)`,
    [owed.map((o) => o.key), owed.map((o) => o.workspaceId), owed.map((o) => o.day)] as unknown as Knex.RawBinding[],
  );
  return new Map(result.rows.map((row) => [row.key, { workspaceId: row.workspace_id, delayed: row.delayed, key: row.key }]));
}
