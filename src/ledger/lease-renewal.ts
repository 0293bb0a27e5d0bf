import type { Knex } from 'knex';
import type { Logger } from '../logging/logger.js';
import type { DeliveryLedger } from './deliveries.js';
import { heartbeatRun } from './job-runs.js';

/**
 * Keeps a live run's claims: renews their leases (and the run's heartbeat) every
 * third of the lease, so however long a page takes, only a dead run's claims expire.
 */
export function startLeaseRenewal(deps: { db: Knex; ledger: DeliveryLedger; runId: string; leaseMs: number; logger: Logger }): () => void {
  let renewing = false;
  const renew = async () => {
    if (renewing) return;
    renewing = true;
    try {
      const renewed = await deps.ledger.renewLeases();
      await heartbeatRun(deps.db, deps.runId);
      deps.logger.debug({ renewed }, 'renewed claim leases');
    } catch (error) {
      deps.logger.warn({ reason: (error as Error).message }, 'could not renew claim leases; will try again');
    } finally {
      renewing = false;
    }
  };
  const timer = setInterval(() => void renew(), Math.max(50, Math.floor(deps.leaseMs / 3)));
  timer.unref();
  return () => clearInterval(timer);
}
