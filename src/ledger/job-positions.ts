import type { Knex } from 'knex';

/**
 * How far a job's scan has settled every item: its position in the job's order, as text
 * that sorts as that order does (PostgreSQL compares text[] element by element), and the
 * time from which changes behind that position must still be read.
 */
export interface JobPosition {
  position: string[];
  changesSince: Date | undefined;
}

export async function getJobPosition(db: Knex, job: string): Promise<JobPosition | undefined> {
  const row = await db('job_positions').where({ job }).first<{ position: string[]; changes_since: Date | null } | undefined>();
  return row && { position: row.position, changesSince: row.changes_since ? new Date(row.changes_since) : undefined };
}

/**
 * Moves the job's position forward to `position`, never back: runners sharing a sweep
 * each write what they settled, and the furthest holds. A position only ever names an
 * item every item before which has a delivery.
 */
export async function advanceJobPosition(db: Knex, job: string, position: string[], changesSince?: Date): Promise<void> {
  await db.raw(
    `insert into job_positions (job, position, changes_since) values (?, ?::text[], ?)
     on conflict (job) do update set
       position = greatest(job_positions.position, excluded.position),
       changes_since = greatest(job_positions.changes_since, excluded.changes_since),
       updated_at = now()`,
    [job, position as unknown as Knex.RawBinding, changesSince ?? null],
  );
}

/** The database's clock, so a run's start and the triggers' changed_at are on one clock. */
export async function databaseNow(db: Knex): Promise<Date> {
  const result = await db.raw<{ rows: Array<{ now: Date }> }>('select now() as now');
  return new Date(result.rows[0]!.now);
}
