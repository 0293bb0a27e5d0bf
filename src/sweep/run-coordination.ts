import type { Knex } from 'knex';
import type { JobPause } from '../ledger/job-pauses.js';
import { ABANDONED_SQL } from '../ledger/job-runs.js';
import type { Logger } from '../logging/logger.js';

/** What the live runners of a job tell each other through the database, once a second. */
export interface Coordination {
  /** Live runs of the job (running, heartbeat within its lease), this one included. */
  liveRunners: number;
  pause: JobPause | undefined;
  /** Runs of the job started in the last day and left running by a process that died (shown `abandoned`). */
  abandonedRuns: number;
}

const POLL_MS = 1000;

export async function readCoordination(db: Knex, job: string): Promise<Coordination> {
  const result = await db.raw<{ rows: Array<{ live: number; abandoned: number;
    pause: { job: string; paused_at: string; paused_by: string; reason: string | null } | null }> }>(
    // Both counts read the running runs only (job_runs_running_idx).
    `select (select count(*)::int from job_runs where job = ? and status = 'running' and lease_expires_at >= now()) as live,
            (select count(*)::int from job_runs where job = ? and ${ABANDONED_SQL}
              and started_at > now() - interval '1 day') as abandoned,
            (select row_to_json(p) from job_pauses p where p.job = ?) as pause`, [job, job, job]);
  const row = result.rows[0];
  const pause = row?.pause;
  return {
    liveRunners: Math.max(1, row?.live ?? 1),
    abandonedRuns: row?.abandoned ?? 0,
    pause: pause ? { job: pause.job, pausedAt: new Date(pause.paused_at), pausedBy: pause.paused_by, reason: pause.reason } : undefined,
  };
}

/**
 * Reads the job's live runners and its pause once now and then every second, and tells
 * `onChange` what it read: a runner's share of the job's --max-rate follows the live
 * runners, and a pause stops every runner within a second or two. A read that fails is
 * logged and tried again; the run goes on as it was.
 */
export async function startRunCoordination(deps: { db: Knex; job: string; logger: Logger;
  onChange: (coordination: Coordination) => void; intervalMs?: number }): Promise<{ stop(): void }> {
  deps.onChange(await readCoordination(deps.db, deps.job));
  let reading = false;
  const timer = setInterval(() => {
    if (reading) return;
    reading = true;
    readCoordination(deps.db, deps.job)
      .then(deps.onChange)
      .catch((error: unknown) => deps.logger.warn({ reason: (error as Error).message },
        'could not read the job\'s live runners and pause; will try again'))
      .finally(() => { reading = false; });
  }, deps.intervalMs ?? POLL_MS);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
