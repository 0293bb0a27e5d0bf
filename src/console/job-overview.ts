import type { Knex } from 'knex';
import { getPauses } from '../ledger/job-pauses.js';
import { SHOWN_STATUS_SQL } from '../ledger/job-runs.js';
import { getLedgerOwed, type LedgerOwed } from '../ledger/due-deliveries.js';
import { owedAgeSeconds } from '../sweep/backlog.js';
import type { AnyNotificationJob } from '../sweep/notification-job.js';

/** One notification job as the console's jobs view shows it. */
export interface JobOverview {
  job: string;
  description: string;
  paused: { by: string; since: Date; reason: string | null } | null;
  lastRun: { id: string; status: string; startedAt: Date; finishedAt: Date | null; durationMs: number | null } | null;
  lastSuccessAt: Date | null;
  secondsSinceLastSuccess: number | null;
  /** Runs of the job whose lease is live now (their heartbeat renews it). */
  liveRunners: number;
  ledger: Omit<LedgerOwed, 'oldestOwedItemDate'>;
  /** The oldest notification the ledger owes (retry or pending): its item date and how long it has been owed. */
  oldestOwed: { itemDate: string; ageSeconds: number } | null;
}

interface LastRunRow { id: string; job: string; status: string; started_at: Date; finished_at: Date | null }

/** Every notification job: its last run, last success, live runners, pause and what its ledger owes; five statements in all. */
export async function getJobOverviews(db: Knex, jobs: AnyNotificationJob[], now = Date.now()): Promise<JobOverview[]> {
  const names = jobs.map((job) => job.name);
  // Per job, newest first down job_runs' (job, started_at) index: a look at one end of it,
  // however long the history (a DISTINCT ON or a max() over the runs reads them all).
  const [lastRuns, successes, live, pauses, owed] = await Promise.all([
    db.raw<{ rows: LastRunRow[] }>(`select r.id, j.job, r.status, r.started_at, r.finished_at from unnest(?::text[]) as j(job),
      lateral (select id, ${SHOWN_STATUS_SQL} as status, started_at, finished_at from job_runs where job = j.job
        order by started_at desc limit 1) as r`,
    [names as unknown as Knex.RawBinding]),
    db.raw<{ rows: Array<{ job: string; at: Date }> }>(`select j.job, r.finished_at as at from unnest(?::text[]) as j(job),
      lateral (select finished_at from job_runs where job = j.job and status = 'succeeded' order by started_at desc limit 1) as r`,
    [names as unknown as Knex.RawBinding]),
    db.raw<{ rows: Array<{ job: string; n: number }> }>(`select job, count(*)::int as n from job_runs
      where status = 'running' and lease_expires_at >= now() group by job`),
    getPauses(db),
    getLedgerOwed(db, names),
  ]);
  return jobs.map((job): JobOverview => {
    const last = lastRuns.rows.find((row) => row.job === job.name);
    const success = successes.rows.find((row) => row.job === job.name)?.at;
    const pause = pauses.find((row) => row.job === job.name);
    const { oldestOwedItemDate, ...ledger } = owed.get(job.name)!;
    return {
      job: job.name,
      description: job.description,
      paused: pause ? { by: pause.pausedBy, since: pause.pausedAt, reason: pause.reason } : null,
      lastRun: last ? {
        id: last.id, status: last.status, startedAt: new Date(last.started_at), finishedAt: last.finished_at && new Date(last.finished_at),
        durationMs: last.finished_at ? new Date(last.finished_at).getTime() - new Date(last.started_at).getTime() : null,
      } : null,
      lastSuccessAt: success ? new Date(success) : null,
      secondsSinceLastSuccess: success ? Math.round((now - new Date(success).getTime()) / 1000) : null,
      liveRunners: live.rows.find((row) => row.job === job.name)?.n ?? 0,
      ledger,
      oldestOwed: oldestOwedItemDate
        ? { itemDate: oldestOwedItemDate, ageSeconds: Math.round(owedAgeSeconds(oldestOwedItemDate, job.owedDaysBefore, now)) }
        : null,
    };
  });
}
