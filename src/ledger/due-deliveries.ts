import type { Knex } from 'knex';
import type { DeliveryClaim } from './deliveries.js';

/**
 * The ledger's own work: deliveries a job owes whatever its next run's scan covers. A
 * scan finds items that have no delivery yet; everything after that is the ledger's, so
 * a reminder left to retry on its day, or re-armed by `sweep deliveries retry`, is sent
 * by the job's next run even though that run's scan looks at another day.
 */
export interface DueDelivery extends DeliveryClaim {
  status: 'retry' | 'pending';
  /** Re-armed by an operator with --force: sent whether or not its item still stands. */
  forced: boolean;
}

/**
 * A page of `job`'s deliveries that are due: `retry` past its backoff (or re-armed, with
 * no backoff), or `pending` whose claim and run leases have both lapsed (its run died). In key order after
 * `afterKey`, so a run visits each once even when one it releases is due again at once.
 * Two arms, each on the partial index that holds its rows (retry in the attention index,
 * pending in the claims index), so the sent bulk of the ledger is never read.
 */
export async function getDueDeliveries(
  db: Knex,
  query: { job: string; afterKey?: string; limit: number },
): Promise<DueDelivery[]> {
  const after = query.afterKey ?? '';
  const result = await db.raw<{ rows: Array<Record<string, string | null> & { forced: boolean | null }> }>(
    `select * from (
       (select key, workspace_id, item_id, item_date, message, status, forced from deliveries
         where job = ? and status = 'retry' and (next_attempt_at is null or next_attempt_at <= now()) and key > ?
         order by key limit ?)
       union all
       (select key, workspace_id, item_id, item_date, message, status, forced from deliveries
         where status = 'pending' and lease_expires_at < now() and job = ? and key > ?
           and not exists (select 1 from job_runs r where r.id = deliveries.run_id and r.lease_expires_at >= now())
         order by key limit ?)
     ) as due order by key limit ?`,
    [query.job, after, query.limit, query.job, after, query.limit, query.limit],
  );
  return result.rows.map((row) => ({
    key: row.key as string,
    workspaceId: row.workspace_id as string,
    itemId: row.item_id as string,
    itemDate: row.item_date ?? null,
    message: row.message ?? '',
    status: row.status as DueDelivery['status'],
    forced: row.forced === true,
  }));
}

export interface Waiting {
  /** Deliveries of the job waiting out a retry backoff. */
  backingOff: number;
  /** Deliveries of the job claimed by another run (live, or dead and not yet due again). */
  heldElsewhere: number;
  /** The oldest item date among them (YYYY-MM-DD), for the backlog. */
  oldestItemDate: string | undefined;
}

/**
 * What of the job's work a run leaves alone as it starts: deliveries waiting out their
 * backoff, and those another run holds, counted apart. Read through the partial indexes
 * of retry and pending rows, never the sent bulk of the ledger.
 */
export async function getWaitingDeliveries(db: Knex, job: string): Promise<Waiting> {
  const row = await db('deliveries')
    .where({ job })
    .where((where) => where.where({ status: 'pending' })
      .orWhere((retry) => retry.where({ status: 'retry' }).where('next_attempt_at', '>', db.fn.now())))
    .first<{ backing_off: number; held: number; oldest: string | null }>(
      db.raw(`count(*) filter (where status = 'retry')::int as backing_off`),
      // Held: claimed by a run whose claim or run lease is live. A dead run's claim past both
      // is due again (getDueDeliveries), and counted there, not here too.
      db.raw(`count(*) filter (where status = 'pending' and not (lease_expires_at < now() and not exists
        (select 1 from job_runs r where r.id = deliveries.run_id and r.lease_expires_at >= now())))::int as held`),
      db.raw('min(item_date) as oldest'));
  return { backingOff: row?.backing_off ?? 0, heldElsewhere: row?.held ?? 0, oldestItemDate: row?.oldest ?? undefined };
}

/** What a job's ledger holds by status, for the statuses that are not settled-and-sent. */
export interface LedgerOwed {
  pending: number;
  retry: number;
  failed: number;
  dead: number;
  superseded: number;
  /** Statuses whose count reached LEDGER_COUNT_CAP: the figure is a lower bound ("100,000+"). */
  atLeast: LedgerStatus[];
  /** The oldest item date (YYYY-MM-DD) among the deliveries still owed (retry or pending), or null. */
  oldestOwedItemDate: string | null;
}

export const LEDGER_STATUSES = ['pending', 'retry', 'failed', 'dead', 'superseded'] as const;
export type LedgerStatus = (typeof LEDGER_STATUSES)[number];

/**
 * Counts stop here: beyond it an operator learns nothing more from the exact figure, and
 * counting a million dead deliveries on every page view would read them all.
 */
export const LEDGER_COUNT_CAP = 100_000;

/**
 * Per job, what its ledger owes (retry, pending), what it gave up on (failed, dead) and
 * what it superseded, each count capped at LEDGER_COUNT_CAP. Each status is its own
 * subquery with the status written out, so that each reads the partial index holding
 * that status's rows (attention, pending claims, superseded), never the sent bulk: one
 * statement with all five statuses in one list reads the whole ledger (2 s at 10,000,000).
 */
export async function getLedgerOwed(db: Knex, jobs: string[], cap = LEDGER_COUNT_CAP): Promise<Map<string, LedgerOwed>> {
  const counted = (status: LedgerStatus) => `(select count(*) from (select 1 from deliveries d
      where d.status = '${status}' and d.job = j.job limit ${Math.trunc(cap)}) as capped)::int as ${status}`;
  const oldest = (status: 'retry' | 'pending') => `(select min(d.item_date) from deliveries d where d.status = '${status}' and d.job = j.job)`;
  const result = await db.raw<{ rows: Array<Record<LedgerStatus, number> & { job: string; oldest: string | null }> }>(
    `select j.job, ${LEDGER_STATUSES.map(counted).join(', ')},
            to_char(least(${oldest('retry')}, ${oldest('pending')}), 'YYYY-MM-DD') as oldest
       from unnest(?::text[]) as j(job)`, [jobs as unknown as Knex.RawBinding]);
  const byJob = new Map<string, LedgerOwed>();
  for (const row of result.rows) {
    byJob.set(row.job, {
      pending: row.pending, retry: row.retry, failed: row.failed, dead: row.dead, superseded: row.superseded,
      atLeast: LEDGER_STATUSES.filter((status) => row[status] >= cap),
      oldestOwedItemDate: row.oldest,
    });
  }
  return byJob;
}
