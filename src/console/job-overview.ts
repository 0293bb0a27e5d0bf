import type { Knex } from 'knex';
import { getHolds, isPending, type JobHold } from '../ledger/job-holds.js';
import { getPauses } from '../ledger/job-pauses.js';
import { SHOWN_STATUS_SQL } from '../ledger/job-runs.js';
import { getLedgerOwed, type LedgerOwed } from '../ledger/due-deliveries.js';
import { owedAgeSeconds } from '../sweep/backlog.js';
import { latestFallDueNow } from '../sweep/local-due-times.js';
import type { AnyNotificationJob } from '../sweep/notification-job.js';
import { HEALTH_STATES, judgeHealth, type JobHealth } from './job-health.js';

/** One notification job as the console's jobs view shows it. */
export interface JobOverview {
  job: string;
  description: string;
  /** One word and a reason: healthy, failing, overdue, held or paused (job-health.ts). */
  health: JobHealth;
  paused: { by: string; since: Date; reason: string | null } | null;
  /** Its runs hold on a storm, waiting for an approval or a fix (the brake): the hold, with its figures. */
  held: JobHold | null;
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

/**
 * Every notification job: its health, last run, last success, live runners, pause and what
 * its ledger owes; seven statements in all. The unhealthy come first (failing, overdue,
 * held, paused, then healthy), in the registry's order within a state.
 */
export async function getJobOverviews(db: Knex, jobs: AnyNotificationJob[], now = Date.now(), defaultTimeZone = 'UTC'):
Promise<JobOverview[]> {
  const names = jobs.map((job) => job.name);
  // Per job, newest first down job_runs' (job, started_at) index: a look at one end of it,
  // however long the history (a DISTINCT ON or a max() over the runs reads them all).
  const [lastRuns, successes, live, pauses, owed, wentThrough, holds] = await Promise.all([
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
    // The last two runs that went through (not a paused or interrupted one): what failing is judged by.
    db.raw<{ rows: Array<{ job: string; status: string; error: string | null }> }>(`select j.job, r.status, r.error from unnest(?::text[]) as j(job),
      lateral (select status, error, started_at from job_runs where job = j.job and status in ('succeeded', 'partial', 'failed')
               order by started_at desc limit 2) as r order by j.job, r.started_at desc`,
    [names as unknown as Knex.RawBinding]),
    getHolds(db),
  ]);
  // The backlog's age counts from when its oldest notification fell due, in the zones in
  // use, as the runs' metric does: one statement per job that owes something.
  const fellDue = new Map(await Promise.all(jobs.map(async (job) => {
    const oldest = owed.get(job.name)?.oldestOwedItemDate;
    const at = oldest ? await latestFallDueNow(db, defaultTimeZone, oldest, job.fallsDue ?? { daysAfterItemDate: 0, atLocalTime: false },
      job.localTime ?? '00:00').catch(() => undefined) : undefined;
    return [job.name, at] as const;
  })));
  const overviews = jobs.map((job): JobOverview => {
    const last = lastRuns.rows.find((row) => row.job === job.name);
    const success = successes.rows.find((row) => row.job === job.name)?.at;
    const pause = pauses.find((row) => row.job === job.name);
    const hold = holds.find((row) => row.job === job.name && isPending(row) && row.hold);
    const { oldestOwedItemDate, ...ledger } = owed.get(job.name)!;
    const secondsSinceLastSuccess = success ? Math.round((now - new Date(success).getTime()) / 1000) : null;
    return {
      job: job.name,
      description: job.description,
      health: judgeHealth({
        job: job.name, paused: pause ? { by: pause.pausedBy, reason: pause.reason } : null, secondsSinceLastSuccess,
        storm: hold ? { count: hold.hold!.count, usual: hold.hold!.usual } : null,
        recentRuns: wentThrough.rows.filter((row) => row.job === job.name), waitingForOperator: ledger.dead + ledger.failed,
      }),
      paused: pause ? { by: pause.pausedBy, since: pause.pausedAt, reason: pause.reason } : null,
      held: hold ?? null,
      lastRun: last ? {
        id: last.id, status: last.status, startedAt: new Date(last.started_at), finishedAt: last.finished_at && new Date(last.finished_at),
        durationMs: last.finished_at ? new Date(last.finished_at).getTime() - new Date(last.started_at).getTime() : null,
      } : null,
      lastSuccessAt: success ? new Date(success) : null,
      secondsSinceLastSuccess,
      liveRunners: live.rows.find((row) => row.job === job.name)?.n ?? 0,
      ledger,
      oldestOwed: oldestOwedItemDate
        ? { itemDate: oldestOwedItemDate, ageSeconds: Math.round(ageSince(fellDue.get(job.name), oldestOwedItemDate, job.owedDaysBefore, now)) }
        : null,
    };
  });
  const rank = (overview: JobOverview) => HEALTH_STATES.indexOf(overview.health.state);
  // Array.prototype.sort is stable: the registry's order within a state.
  return overviews.sort((a, b) => rank(a) - rank(b));
}

/** From when it fell due where that is known, else (no known zone) from its item's date in UTC. */
function ageSince(fellDueAt: Date | undefined, itemDate: string, owedDaysBefore: number | undefined, now: number): number {
  return fellDueAt ? Math.max(0, (now - fellDueAt.getTime()) / 1000) : owedAgeSeconds(itemDate, owedDaysBefore, now);
}
