import type { Knex } from 'knex';
import { pauseJob, resumeJob, type JobPause } from '../../ledger/job-pauses.js';
import { recordAudit, type Actor } from '../../ledger/operator-audit.js';

/**
 * The pause and the resume, for `sweep pause`/`sweep resume` and the console alike: the
 * change and its audit row in one transaction.
 */
export async function pauseJobAudited(db: Knex, request: { job: string; actor: Actor; reason?: string }): Promise<JobPause> {
  return db.transaction(async (trx) => {
    const pause = await pauseJob(trx, { job: request.job, pausedBy: request.actor.name, reason: request.reason });
    await recordAudit(trx, { actor: request.actor, action: 'pause', job: request.job, reason: request.reason });
    return pause;
  });
}

/** Resumes `job`; undefined when it was not paused (recorded all the same: someone meant to resume it). */
export async function resumeJobAudited(db: Knex, request: { job: string; actor: Actor; reason?: string }): Promise<JobPause | undefined> {
  return db.transaction(async (trx) => {
    const pause = await resumeJob(trx, request.job);
    await recordAudit(trx, {
      actor: request.actor, action: 'resume', job: request.job, reason: request.reason,
      details: pause ? { wasPausedBy: pause.pausedBy, wasPausedAt: pause.pausedAt.toISOString() } : { wasPaused: false },
    });
    return pause;
  });
}
