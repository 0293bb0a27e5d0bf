import type { Knex } from 'knex';
import { surveyAgainstLedger, type SurveyCounts } from '../../ledger/undelivered.js';

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

/** A page of the day's digests not sent yet, after `afterWorkspaceId`; the ledger is looked up once per workspace. */
export async function getWorkspaceDigests(db: Knex, query: { runDate: string; afterWorkspaceId?: string; limit: number }):
Promise<WorkspaceDigest[]> {
  const rows: Array<{ workspace_id: string; delayed: number; key: string }> = await digests(db, query.runDate)
    .modify((builder) => {
      if (query.afterWorkspaceId) builder.where('t.workspace_id', '>', query.afterWorkspaceId);
    })
    .havingRaw(`not exists (select 1 from deliveries d where d.key = ${KEY})`, [query.runDate])
    .orderBy('t.workspace_id')
    .limit(query.limit);
  return rows.map((row) => ({ workspaceId: row.workspace_id, delayed: row.delayed, key: row.key }));
}
