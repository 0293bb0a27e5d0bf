import type { Knex } from 'knex';
import { isPending, recordApproval, withHoldLock, type JobHold } from '../../ledger/job-holds.js';
import { recordAudit, type Actor } from '../../ledger/operator-audit.js';

/** Approving asks for something to approve: no hold and no --up-to. */
export class NothingToApproveError extends Error {}

/**
 * The approval, for `sweep approve` and the console alike: under the job's brake lock,
 * the approval and its audit row in one transaction. Without `upTo` it approves the
 * count the job's hold showed; with it, up to that many (a campaign approved ahead).
 * The job's next runs then send up to that many beyond what is usual; a bigger storm
 * holds again.
 */
export async function approveJobAudited(db: Knex, request: { job: string; actor: Actor; reason: string; upTo?: number }): Promise<JobHold> {
  return withHoldLock(db, request.job, async (trx, hold) => {
    const pending = hold && isPending(hold) ? hold : undefined;
    const upTo = request.upTo ?? pending?.hold?.count;
    if (upTo === undefined) {
      throw new NothingToApproveError(`${request.job} has no held run to approve: a campaign is approved ahead with --up-to <n>`);
    }
    const approved = await recordApproval(trx, { job: request.job, upTo, by: request.actor.name, reason: request.reason });
    await recordAudit(trx, {
      actor: request.actor, action: 'approve', job: request.job, reason: request.reason,
      details: { upTo, ...(pending?.hold ? { heldCount: pending.hold.count, usual: pending.hold.usual, heldByRun: pending.heldByRun,
        heldAt: pending.heldAt?.toISOString() } : { ahead: true }) },
    });
    return approved;
  });
}
