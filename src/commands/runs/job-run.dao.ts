import type { Knex } from 'knex';
import { SHOWN_STATUS_SQL, shownStatusIn } from '../../ledger/job-runs.js';
import { FAILURE_STATUSES, type JobRunRow, type RunFailureRow, type RunFilter } from './job-run.type.js';

/** The most recent runs that match, newest first. */
export async function getJobRuns(db: Knex, filter: RunFilter, limit: number): Promise<JobRunRow[]> {
  const rows: JobRunRow[] = await db('job_runs')
    .select('*', db.raw(`${SHOWN_STATUS_SQL} as shown_status`))
    .modify((builder) => filterRuns(builder, filter))
    .orderBy([{ column: 'started_at', order: 'desc' }, { column: 'id' }])
    .limit(limit);
  return rows.map(withObjects);
}

export async function getJobRun(db: Knex, id: string): Promise<JobRunRow | undefined> {
  const row: JobRunRow | undefined = await db('job_runs').where({ id }).first('*', db.raw(`${SHOWN_STATUS_SQL} as shown_status`));
  return row && withObjects(row);
}

/**
 * The deliveries a run left failed, dead or waiting for a retry, and that no later run
 * has taken over since (a delivery carries the id of the run that last handled it).
 */
export async function getRunFailures(db: Knex, runId: string, limit: number): Promise<RunFailureRow[]> {
  return db('deliveries')
    .select('key', 'workspace_id', 'item_id', 'item_date', 'status', 'attempts', 'last_status', 'last_error', 'next_attempt_at', 'updated_at')
    .where({ run_id: runId })
    .whereIn('status', [...FAILURE_STATUSES])
    .orderBy([{ column: 'status' }, { column: 'key' }])
    .limit(limit);
}

export async function countRunFailures(db: Knex, runId: string): Promise<number> {
  const row = await db('deliveries').where({ run_id: runId }).whereIn('status', [...FAILURE_STATUSES])
    .first<{ n: number }>(db.raw('count(*)::int as n'));
  return row?.n ?? 0;
}

function filterRuns(builder: Knex.QueryBuilder, filter: RunFilter): void {
  if (filter.job) builder.where('job', filter.job);
  if (filter.statuses?.length) {
    const { sql, bindings } = shownStatusIn(filter.statuses);
    builder.whereRaw(sql, bindings);
  }
}

/** jsonb comes back parsed from pg and PGlite; a driver set up otherwise would give text. The status is the shown one. */
function withObjects(row: JobRunRow & { shown_status?: JobRunRow['status'] }): JobRunRow {
  const { shown_status: shown, ...stored } = row;
  const parse = <T>(value: T | string): T => (typeof value === 'string' ? (JSON.parse(value) as T) : value);
  return { ...stored, status: shown ?? stored.status, parameters: parse(stored.parameters) ?? {}, counts: parse(stored.counts),
    hold: stored.hold === undefined ? undefined : parse(stored.hold) };
}

/** Where a page of runs ends: the last run's start as the database wrote it (microseconds kept) and its id. */
export interface RunCursor {
  startedAt: string;
  id: string;
}

/**
 * A page of the runs that match, newest first, after `before`: keyset on (started_at, id),
 * never OFFSET. `next` is where the following page starts, when there may be one.
 */
export async function getJobRunsPage(db: Knex, filter: RunFilter, page: { before?: RunCursor; limit: number }):
Promise<{ runs: JobRunRow[]; next?: RunCursor }> {
  const rows: Array<JobRunRow & { started_at_exact: string }> = await db('job_runs')
    // A JS Date keeps milliseconds only: the cursor carries the stored value as text.
    .select('*', db.raw(`${SHOWN_STATUS_SQL} as shown_status`),
      db.raw(`to_char(started_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as started_at_exact`))
    .modify((builder) => {
      filterRuns(builder, filter);
      if (page.before) builder.whereRaw('(started_at, id) < (?::timestamptz, ?::uuid)', [page.before.startedAt, page.before.id]);
    })
    .orderBy([{ column: 'started_at', order: 'desc' }, { column: 'id', order: 'desc' }])
    .limit(page.limit);
  const last = rows.at(-1);
  return {
    runs: rows.map(({ started_at_exact: _exact, ...row }) => withObjects(row)),
    next: last && rows.length === page.limit ? { startedAt: last.started_at_exact, id: last.id } : undefined,
  };
}
