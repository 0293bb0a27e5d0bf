import type { Knex } from 'knex';
import type { Logger } from '../logging/logger.js';

/**
 * A live run's hold on its claims: its job_runs row's lease, pushed forward every third
 * of the lease. The claim statement takes a pending delivery over only once both the
 * claim's own lease and its run's have passed, so however long a page, a retry wait or
 * the last flush takes, only a dead run's claims are taken. One row of the run's own,
 * which no other run writes: nothing to wait behind.
 */
export interface RunHeartbeat {
  /** Stops beating; call once the run holds no claims (recorded and released). */
  stop(): void;
}

export async function beat(db: Knex, runId: string, leaseMs: number): Promise<void> {
  await db('job_runs').where({ id: runId }).update({
    heartbeat_at: db.fn.now(),
    lease_expires_at: db.raw(`now() + ? * interval '1 millisecond'`, [leaseMs]),
  });
}

/** Beats once before the run claims anything, then every third of the lease. */
export async function startRunHeartbeat(deps: { db: Knex; runId: string; leaseMs: number; logger: Logger }): Promise<RunHeartbeat> {
  await beat(deps.db, deps.runId, deps.leaseMs);
  let beating = false;
  const timer = setInterval(() => {
    if (beating) return;
    beating = true;
    beat(deps.db, deps.runId, deps.leaseMs)
      .then(() => deps.logger.trace('run heartbeat'))
      .catch((error: unknown) => deps.logger.warn({ reason: (error as Error).message },
        'could not renew the run\'s lease; will try again (claims are taken over only after a whole lease without one)'))
      .finally(() => { beating = false; });
  }, Math.max(50, Math.floor(deps.leaseMs / 3)));
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
