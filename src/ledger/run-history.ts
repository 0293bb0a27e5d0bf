import type { Knex } from 'knex';
import type { PastRun } from '../sweep/usual-count.js';

/**
 * A job's past runs, as what is usual is learned from them (sweep/usual-count.ts): the
 * last `days` days on job_runs_job_started_at_idx, a few hundred rows a day at most.
 * - a run that counted what it would send: its count (`toSend`);
 * - a run from before the count, which finished: what it found and took up;
 * - a held run, or one that sent under an approval or with --no-hold: a boundary only
 *   (what it covered is not usual, or is still owed);
 * - a paused run, one still running, or one that ended before it counted: left out (it
 *   covered nothing: what it did not send, the next run counts).
 */
export async function getPastRuns(db: Knex, job: string, options: { days: number; excludeRunId?: string }): Promise<PastRun[]> {
  const rows: Array<{ at: Date | string; status: string; counts: Record<string, number> | string | null }> = await db('job_runs')
    .select(db.raw(`coalesce(case when parameters->>'at' ~ '^\\d{4}-' then (parameters->>'at')::timestamptz end, started_at) as at`),
      'status', 'counts')
    .where('job', job)
    .where('started_at', '>', db.raw(`now() - make_interval(days => ?)`, [options.days + 1]))
    .whereNotIn('status', ['running', 'paused'])
    .modify((builder) => { if (options.excludeRunId) builder.whereNot('id', options.excludeRunId); });
  const runs: PastRun[] = [];
  for (const row of rows) {
    const counts = (typeof row.counts === 'string' ? JSON.parse(row.counts) : row.counts) as Record<string, number> | null;
    const at = new Date(row.at);
    if (row.status === 'held' || counts?.approvedUpTo !== undefined || counts?.holdOff === 1) runs.push({ at, count: undefined });
    else if (counts && typeof counts.toSend === 'number') runs.push({ at, count: counts.toSend });
    else if (counts && typeof counts.found === 'number') {
      runs.push({ at, count: counts.found + (counts.dueAgain ?? 0) - (counts.superseded ?? 0) });
    }
  }
  return runs;
}
