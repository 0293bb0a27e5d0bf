import type { Knex } from 'knex';
import type { ChangeSnapshot, ChangeWindow } from './change-window.js';
import { parseSnapshot } from './change-window.js';

/**
 * How far a job's scan has settled every item: its position in the job's order, as text
 * that sorts as that order does (PostgreSQL compares text[] element by element), and the
 * changes behind that position the next run must still read (those its snapshot could
 * not see). The two are one claim and travel together: every item at or before the
 * position that the snapshot can see has a delivery.
 */
export interface JobPosition {
  position: string[];
  changes: ChangeWindow;
}

export async function getJobPosition(db: Knex, job: string): Promise<JobPosition | undefined> {
  const row = await db('job_positions').where({ job })
    .first<{ position: string[]; changes_since: Date | null; snapshot: string | null } | undefined>(
      'position', 'changes_since', db.raw('changes_snapshot::text as snapshot'));
  if (!row) return undefined;
  return {
    position: row.position,
    // Saved by the release before snapshots: its time window, once.
    changes: row.snapshot ? { snapshot: parseSnapshot(row.snapshot) } : { legacySince: new Date(row.changes_since ?? 0) },
  };
}

/** Writes on the run's row the snapshot it reads changes against: prune keeps what it may still read. */
export async function recordChangesRead(db: Knex, runId: string, snapshot: ChangeSnapshot): Promise<void> {
  await db('job_runs').where({ id: runId }).update({ changes_after: db.raw('?::pg_snapshot', [snapshot.text]) });
}

/**
 * Remembers `position` with the snapshot of the run that settled it, when it is further
 * than the one remembered (or as far, from a later snapshot): runners sharing a sweep
 * each write what they settled, and the furthest holds. The pair is replaced whole: a
 * position settled by one run with the snapshot of another could claim what neither saw.
 */
export async function advanceJobPosition(db: Knex, job: string, position: string[], snapshot: ChangeSnapshot): Promise<void> {
  await db.raw(
    `insert into job_positions (job, position, changes_snapshot, changes_since) values (?, ?::text[], ?::pg_snapshot, ?)
     on conflict (job) do update set
       position = excluded.position, changes_snapshot = excluded.changes_snapshot,
       changes_since = excluded.changes_since, updated_at = now()
     where excluded.position > job_positions.position
        or (excluded.position = job_positions.position and (job_positions.changes_snapshot is null
          or pg_snapshot_xmax(excluded.changes_snapshot) > pg_snapshot_xmax(job_positions.changes_snapshot)
          or (pg_snapshot_xmax(excluded.changes_snapshot) = pg_snapshot_xmax(job_positions.changes_snapshot)
            and (select count(*) from pg_snapshot_xip(excluded.changes_snapshot))
              <= (select count(*) from pg_snapshot_xip(job_positions.changes_snapshot)))))`,
    // changes_since, the snapshot's time, is what a runner of the release before reads during a rolling upgrade.
    [job, position as unknown as Knex.RawBinding, snapshot.text, snapshot.takenAt ?? new Date()],
  );
}
