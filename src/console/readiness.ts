import type { Knex } from 'knex';

/**
 * /readyz's question, "does the database answer?", answered within `timeoutMs` whatever
 * the database does: a frozen server (or a pool waiting on one) made it hang for as long
 * as knex's acquire timeout, past the probe's own timeout. The bound is the client's
 * own, not a statement_timeout: a server that answers nothing never reads one. At most one
 * probe is in flight: while it hangs, the next asks get "not ready" at once rather than
 * piling up queries in the pool.
 */
export function createReadinessProbe(db: Knex, timeoutMs = 2_000) {
  let inFlight: Promise<void> | undefined;
  return async function isReady(): Promise<boolean> {
    if (inFlight) return false;
    const probe = db.raw('select 1').then(() => undefined);
    inFlight = probe;
    void probe.catch(() => undefined).finally(() => { if (inFlight === probe) inFlight = undefined; });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), timeoutMs); });
    try {
      return await Promise.race([probe.then(() => true, () => false), timeout]);
    } finally {
      clearTimeout(timer);
    }
  };
}
