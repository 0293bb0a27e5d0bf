import type { Knex } from 'knex';

/**
 * Terms, as used across the runner:
 * - job: a named kind of work (send-delay-notifications).
 * - run: one execution of a job; a row in job_runs, with a uuid.
 * - item: one unit of a job's work (a delayed todo) that leads to one delivery.
 * - delivery: one notification to send, known by its key; a row in deliveries.
 * - key: the delivery's Idempotency-Key, unique across all runs forever.
 * - claim / lease: a run owns a pending delivery until its lease expires; it renews
 *   the lease while alive, so only a dead run's claims are ever taken over.
 * - workspace: the tenant whose token a delivery must carry.
 */
export type DeliveryStatus = 'pending' | 'sent' | 'retry' | 'failed' | 'dead';

export interface DeliveryClaim {
  key: string;
  workspaceId: string;
  itemId: string;
  itemDate: string | null;
}

export type DeliveryOutcome =
  /** Accepted by the service now, or earlier (409). */
  | { key: string; result: 'sent'; httpStatus: number }
  /** Refused for good (4xx): never retried automatically. */
  | { key: string; result: 'failed'; httpStatus?: number; error: string }
  /** Failed transiently after this run's retries: retried by a later run, after a backoff. */
  | { key: string; result: 'retry'; httpStatus?: number; error: string }
  /** Never tried (no token for the workspace, the run stopping): back to the next run, no attempt spent. */
  | { key: string; result: 'released'; error?: string };

export interface RecordedDelivery {
  key: string;
  status: DeliveryStatus;
  attempts: number;
  workspace_id: string;
  item_id: string;
  last_status: number | null;
  last_error: string | null;
}

export interface RecordedOutcomes {
  written: number;
  notSent: RecordedDelivery[];
}

export interface DeliveryLedgerOptions {
  job: string;
  runId: string;
  /** How long a claim holds without renewal. */
  leaseMs: number;
  /** Attempts (runs that tried) after which a transient failure is dead. */
  maxAttempts: number;
  /** Backoff before the next run may retry: base * 2^(attempts-1), capped. */
  retryBackoffMs: number;
  retryBackoffMaxMs: number;
}

export interface DeliveryLedger {
  /** Atomically claims the keys no live run owns; returns those this run now owns. */
  claim(items: DeliveryClaim[]): Promise<Set<string>>;
  /** Pushes this run's live claims' leases forward. */
  renewLeases(): Promise<number>;
  /**
   * Records outcomes in one statement (two when a claim was lost). Returns how many it wrote (an outcome of a claim
   * this run no longer owns is not written) and, as they now stand, the deliveries it
   * left other than sent: the few an operator hears about. Sent rows are not sent back:
   * at 500 a page they would be most of what the database returns.
   */
  record(outcomes: DeliveryOutcome[]): Promise<RecordedOutcomes>;
  /** Gives back every claim this run still holds, so the next run takes them at once. */
  releaseAll(reason: string): Promise<number>;
}

export function createDeliveryLedger(db: Knex, options: DeliveryLedgerOptions): DeliveryLedger {
  const { job, runId } = options;

  /**
   * One statement for a batch of outcomes. 'own': the rows this run still holds
   * (pending, its run id), found through the pending-claims index. 'sent-by-key': given
   * only 'sent' outcomes, the rows found by primary key whoever holds them, except those
   * this run has just written.
   */
  const writeOutcomes = async (outcomes: DeliveryOutcome[], which: 'own' | 'sent-by-key') => {
    const keys = outcomes.map((o) => o.key);
    const rows = which === 'own'
      ? 'd.status = \'pending\' and d.run_id = ?'
      // d.key = any(keys) repeats the join on purpose: it makes the plan a primary-key
      // lookup per outcome, where a join alone let PostgreSQL hash a whole ledger without
      // statistics for each batch.
      // Only 'sent' outcomes come this way; a filter on v.result would make PostgreSQL
      // expect one row from unnest and scan the ledger once per outcome.
      : 'd.key = any(?::text[]) and not (d.status = \'sent\' and d.run_id = ?)';
    const rowBindings = which === 'own' ? [runId] : [keys, runId];
    const result = await withDeadlockRetry(() => db.raw<{ rows: Array<{ written: number; sent_written: number; not_sent: RecordedDelivery[] }> }>(
      `with recorded as (update deliveries d set
         status = case
           when v.result = 'sent' then 'sent'
           when v.result = 'failed' then 'failed'
           when v.result = 'released' then 'retry'
           when d.attempts + 1 >= ? then 'dead'
           else 'retry' end,
         attempts = d.attempts + case when v.result = 'released' then 0 else 1 end,
         last_status = coalesce(v.http_status, case when v.result = 'released' then d.last_status end),
         last_error = case when v.result = 'sent' then null else coalesce(v.error, d.last_error) end,
         sent_at = case when v.result = 'sent' then coalesce(d.sent_at, now()) else d.sent_at end,
         next_attempt_at = case when v.result = 'retry'
           and d.attempts + 1 < ? then now() + least(? * power(2, d.attempts), ?) * interval '1 millisecond' end,
         run_id = ?, lease_expires_at = null, updated_at = now()
       from unnest(?::text[], ?::text[], ?::int[], ?::text[]) as v(key, result, http_status, error)
       where d.key = v.key and ${rows}
       returning d.key, d.status, d.attempts, d.workspace_id, d.item_id, d.last_status, d.last_error, v.result)
       select count(*)::int as written,
              count(*) filter (where recorded.result = 'sent')::int as sent_written,
              coalesce(json_agg(recorded) filter (where recorded.status <> 'sent'), '[]') as not_sent
         from recorded`,
      arrayBindings([options.maxAttempts, options.maxAttempts, options.retryBackoffMs, options.retryBackoffMaxMs, runId,
        keys, outcomes.map((o) => o.result),
        outcomes.map((o) => ('httpStatus' in o ? o.httpStatus ?? null : null)),
        outcomes.map((o) => ('error' in o ? o.error ?? null : null)),
        ...rowBindings]),
    ));
    const row = result.rows[0];
    return { written: row?.written ?? 0, sentWritten: row?.sent_written ?? 0, notSent: (row?.not_sent ?? []).map(withoutResult) };
  };
  return {
    async claim(items) {
      if (items.length === 0) return new Set();
      const keys = items.map((i) => i.key);
      // Sends back the keys it could not claim, usually none, rather than the page's
      // claimed keys: the same answer in a fraction of the rows.
      const result = await withDeadlockRetry(() => db.raw<{ rows: Array<{ key: string }> }>(
        `with claimed as (insert into deliveries (key, job, workspace_id, item_id, item_date, status, run_id, lease_expires_at)
         select v.key, ?, v.workspace_id, v.item_id, v.item_date, 'pending', ?, now() + ? * interval '1 millisecond'
           from unnest(?::text[], ?::uuid[], ?::text[], ?::date[]) as v(key, workspace_id, item_id, item_date)
         on conflict (key) do update
           set status = 'pending', run_id = excluded.run_id, lease_expires_at = excluded.lease_expires_at, updated_at = now()
           where (deliveries.status = 'retry' and (deliveries.next_attempt_at is null or deliveries.next_attempt_at <= now()))
              or (deliveries.status = 'pending' and deliveries.lease_expires_at < now())
         returning key)
         select v.key from unnest(?::text[]) as v(key) where not exists (select 1 from claimed c where c.key = v.key)`,
        arrayBindings([job, runId, options.leaseMs,
          keys, items.map((i) => i.workspaceId), items.map((i) => i.itemId), items.map((i) => i.itemDate), keys]),
      ));
      const notClaimed = new Set(result.rows.map((row) => row.key));
      return new Set(keys.filter((key) => !notClaimed.has(key)));
    },

    async renewLeases() {
      return db('deliveries')
        .where({ run_id: runId, status: 'pending' })
        .update({ lease_expires_at: db.raw(`now() + ? * interval '1 millisecond'`, [options.leaseMs]) });
    },

    async record(outcomes) {
      if (outcomes.length === 0) return { written: 0, notSent: [] };
      // Almost always, every outcome is for a claim this run still holds: one statement
      // finds them through the index of pending claims, which holds little more than
      // what the runs are sending now, whatever the size of the ledger.
      const own = await writeOutcomes(outcomes, 'own');
      const sent = outcomes.filter((o) => o.result === 'sent');
      if (own.sentWritten === sent.length) return { written: own.written, notSent: own.notSent };
      // A claim lost meanwhile (its lease expired and another run took it): a 'sent' is
      // the truth whoever holds the claim now, so it is written by key; any other outcome
      // is not, so a run that lost its lease cannot overwrite the work of the run that
      // took it over.
      const lost = await writeOutcomes(sent, 'sent-by-key');
      return { written: own.written + lost.written, notSent: [...own.notSent, ...lost.notSent] };
    },

    async releaseAll(reason) {
      return db('deliveries')
        .where({ run_id: runId, status: 'pending' })
        .update({ status: 'retry', lease_expires_at: null, next_attempt_at: null, last_error: reason, updated_at: db.fn.now() });
    },
  };
}

/** The outcome each returned row was written with is for counting, not for the caller. */
function withoutResult(row: RecordedDelivery & { result?: string }): RecordedDelivery {
  const { result: _result, ...delivery } = row;
  return delivery;
}

/** Arrays travel as PostgreSQL arrays (unnest), one bind parameter each whatever the batch size; knex's types do not know that. */
function arrayBindings(values: Array<unknown>): readonly Knex.RawBinding[] {
  return values as readonly Knex.RawBinding[];
}

const DEADLOCK = '40P01';

/** Two runs claiming overlapping pages can deadlock in rare orders; PostgreSQL picks a victim that may simply try again. */
async function withDeadlockRetry<T>(statement: () => Promise<T>, tries = 3): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await statement();
    } catch (error) {
      if ((error as { code?: string }).code !== DEADLOCK || attempt >= tries) throw error;
    }
  }
}
