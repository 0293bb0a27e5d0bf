import type { Knex } from 'knex';
import { redactSecrets } from '../logging/secret-registry.js';

/** Who paused a job, when and why: what a run of it logs instead of sending. */
export interface JobPause {
  job: string;
  pausedAt: Date;
  pausedBy: string;
  reason: string | null;
}

interface JobPauseRow {
  job: string;
  paused_at: Date;
  paused_by: string;
  reason: string | null;
}

const fromRow = (row: JobPauseRow): JobPause => ({ job: row.job, pausedAt: new Date(row.paused_at), pausedBy: row.paused_by, reason: row.reason });

export async function getPause(db: Knex, job: string): Promise<JobPause | undefined> {
  const row = await db('job_pauses').where({ job }).first<JobPauseRow | undefined>();
  return row && fromRow(row);
}

export async function getPauses(db: Knex): Promise<JobPause[]> {
  const rows: JobPauseRow[] = await db('job_pauses').select('*').orderBy('job');
  return rows.map(fromRow);
}

/**
 * Pauses `job`, or says again who paused it and why; the first pause's time stays. The
 * reason is cleaned of every known secret as the audit's is: every viewer and every run's
 * log reads it.
 */
export async function pauseJob(db: Knex, pause: { job: string; pausedBy: string; reason?: string }): Promise<JobPause> {
  const [row] = await db('job_pauses')
    .insert({ job: pause.job, paused_by: pause.pausedBy, reason: pause.reason === undefined ? null : redactSecrets(pause.reason) })
    .onConflict('job').merge(['paused_by', 'reason'])
    .returning<JobPauseRow[]>('*');
  return fromRow(row!);
}

/** Resumes `job`; undefined when it was not paused. */
export async function resumeJob(db: Knex, job: string): Promise<JobPause | undefined> {
  const [row] = await db('job_pauses').where({ job }).delete().returning<JobPauseRow[]>('*');
  return row && fromRow(row);
}

/** The pause's line for a log or a person: by whom, since when, why. */
export function describePause(pause: JobPause): string {
  return `paused by ${pause.pausedBy} at ${pause.pausedAt.toISOString()}${pause.reason ? `: ${pause.reason}` : ''}`;
}
