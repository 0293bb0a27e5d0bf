import type { Knex } from 'knex';
import { HOLDS_ITS_ITEM, surveyAgainstLedger, type SurveyCounts } from '../../ledger/undelivered.js';
import { joinZones, latest, type RunZones } from '../../sweep/local-due-times.js';

/** A workspace that has delayed todos as of its local date, with how many. */
export interface WorkspaceDigest {
  workspaceId: string;
  /** The workspace's local date the digest is for, YYYY-MM-DD. */
  day: string;
  delayed: number;
  key: string;
}

/** `send-workspace-digests:<workspaceId>:<localDate>`: one digest per workspace and local day, whatever its count. */
const KEY = `'send-workspace-digests:' || t.workspace_id || ':' || z.digest_from::text`;

/**
 * The workspaces with todos delayed as of their digest's day, the latest local date whose
 * send time has come in their zone and that has not ended, with their counts, in
 * workspace order. A workspace whose zone the run cannot judge has none this run.
 */
const digests = (db: Knex, zones: RunZones) => db('todos as t')
  .modify(joinZones(zones, 'hashed'))
  .where('t.due_date', '<', latest(zones, 'digestFrom'))
  .whereRaw('z.digest_from > z.last_ended and t.due_date < z.digest_from')
  .groupBy('t.workspace_id', 'z.digest_from')
  .select('t.workspace_id', db.raw(`to_char(z.digest_from, 'YYYY-MM-DD') as day`), db.raw('count(*)::int as delayed'),
    db.raw(`${KEY} as key`));

export function surveyWorkspaceDigests(db: Knex, zones: RunZones): Promise<SurveyCounts> {
  return surveyAgainstLedger(db, digests(db, zones));
}

/**
 * A page of the day's digests not sent yet (no delivery, or a superseded one: the workspace has delayed todos again),
 * after `afterWorkspaceId`; the ledger is looked up once per workspace.
 */
export async function getWorkspaceDigests(db: Knex, query: { zones: RunZones; afterWorkspaceId?: string; limit: number }):
Promise<WorkspaceDigest[]> {
  const rows: Array<{ workspace_id: string; day: string; delayed: number; key: string }> = await digests(db, query.zones)
    .modify((builder) => {
      if (query.afterWorkspaceId) builder.where('t.workspace_id', '>', query.afterWorkspaceId);
    })
    .havingRaw(`not exists (select 1 from deliveries d where d.key = ${KEY} and ${HOLDS_ITS_ITEM})`)
    .orderBy('t.workspace_id')
    .limit(query.limit);
  return rows.map((row) => ({ workspaceId: row.workspace_id, day: row.day, delayed: row.delayed, key: row.key }));
}

/**
 * For owed digests (a workspace and its day each), how many delayed todos each workspace
 * has as of its digest's day now: one statement for a page of the ledger's deliveries,
 * one range of todos_workspace_id_due_date_idx per workspace. Keyed by the digest's key.
 */
export async function countDelayedNow(db: Knex, owed: Array<{ key: string; workspaceId: string; day: string }>):
Promise<Map<string, WorkspaceDigest & { timeZone: string | null }>> {
  if (owed.length === 0) return new Map();
  const result = await db.raw<{ rows: Array<{ key: string; workspace_id: string; day: string; delayed: number; time_zone: string | null }> }>(
    `select v.key, v.workspace_id, to_char(v.day, 'YYYY-MM-DD') as day,
            (select count(*)::int from todos t where t.workspace_id = v.workspace_id and t.due_date < v.day) as delayed,
            (select w.time_zone from workspaces w where w.id = v.workspace_id) as time_zone
       from unnest(?::text[], ?::uuid[], ?::date[]) as v(key, workspace_id, day)`,
    [owed.map((o) => o.key), owed.map((o) => o.workspaceId), owed.map((o) => o.day)] as unknown as Knex.RawBinding[],
  );
  return new Map(result.rows.map((row) => [row.key,
    { workspaceId: row.workspace_id, day: row.day, delayed: row.delayed, key: row.key, timeZone: row.time_zone }]));
}
