import type { Knex } from 'knex';
import { redactSecrets } from '../logging/secret-registry.js';

/**
 * Terms, as used across the runner:
 * - job: a named kind of work (send-delay-notifications).
 * - run: one execution of a job; a row in job_runs, with a uuid.
 * - item: one unit of a job's work (a delayed todo, a workspace's digest for a day) that leads to one delivery.
 * - delivery: one notification to send, known by its key; a row in deliveries.
 * - key: the delivery's Idempotency-Key, unique across all runs forever.
 * - claim / lease: a run owns a pending delivery until both the claim's lease and its
 *   run's (job_runs.lease_expires_at, pushed forward by the run's heartbeat) have
 *   expired, so only a dead run's claims are ever taken over.
 * - workspace: the tenant whose token a delivery must carry.
 * - superseded: settled unsent, because what it would say was no longer true when its
 *   turn came (its item gone or moved); the scan treats it as absent, so an item that
 *   stands again under the same key is sent once.
 * - forced: re-armed by an operator with `deliveries retry --force`: sent once more
 *   whatever its item says now; cleared when settled.
 */
export type DeliveryStatus = 'pending' | 'sent' | 'retry' | 'failed' | 'dead' | 'superseded';

/** What a run claims: one item's notification, as the ledger keeps it until it is settled. */
export interface DeliveryClaim {
  key: string;
  workspaceId: string;
  /** What the key is made of (a todo and its due date, a workspace and a day): for operators and retention. */
  itemId: string;
  itemDate: string | null;
  /** The text to send, kept so a later run retries exactly what was meant, whatever its scan covers. */
  message: string;
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
  item_date: string | null;
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
  /**
   * Records outcomes: one statement for the sent ones of each HTTP status, one for the
   * rest, one more when a claim was lost. Returns how many it wrote (an outcome of a claim
   * this run no longer owns is not written) and, as they now stand, the deliveries it
   * left other than sent: the few an operator hears about. Sent rows are not sent back:
   * at 500 a page they would be most of what the database returns.
   */
  record(outcomes: DeliveryOutcome[]): Promise<RecordedOutcomes>;
  /** Gives back every claim this run still holds, so the next run takes them at once. */
  releaseAll(reason: string): Promise<number>;
  /**
   * Settles owed deliveries unsent, as superseded with their reason: only those still
   * owed (a retry past its backoff, a dead run's claim; never a forced one), in one
   * statement, so a delivery another run has claimed meanwhile is left to it. Returns
   * the keys it settled.
   */
  supersede(items: Array<{ key: string; reason: string }>): Promise<Set<string>>;
}

/**
 * SQL over a delivery aliased `alias`: the ledger owes it now and no live run holds it.
 * A retry past its backoff (or re-armed), or a pending claim whose own and whose run's
 * leases have both lapsed: the claim's ON CONFLICT and `supersede` take only these.
 */
const owedNow = (alias: string) => `(${alias}.status = 'retry' and (${alias}.next_attempt_at is null or ${alias}.next_attempt_at <= now()))
              or (${alias}.status = 'pending' and ${alias}.lease_expires_at < now() and not exists (
                    select 1 from job_runs r where r.id = ${alias}.run_id and r.lease_expires_at >= now()))`;

export function createDeliveryLedger(db: Knex, options: DeliveryLedgerOptions): DeliveryLedger {
  const { job, runId } = options;
  /**
   * The keys this run has claimed and not yet recorded: in flight, queued, or answered
   * and waiting for the recorder; a few batches at most. A stopping run releases its
   * claims by these keys, looked up one by one, so no index on run_id is kept up for
   * every claim, and none is read with the entries every earlier claim left in it.
   * A key missed here would only wait for its run's lease to expire.
   */
  const held = new Set<string>();
  const heldClaims = () => db('deliveries')
    .whereRaw('key = any(?::text[])', arrayBindings([[...held]]))
    .where({ run_id: runId, status: 'pending' });

  /**
   * One statement for outcomes of every kind, the few that are not plainly sent. 'own':
   * the rows this run still holds (pending, its run id). 'sent-by-key': given only 'sent'
   * outcomes, the rows whoever holds them, except those this run has just written.
   */
  const writeOutcomes = async (outcomes: DeliveryOutcome[], which: 'own' | 'sent-by-key') => {
    const keys = outcomes.map((o) => o.key);
    // Both ways name the keys (d.key = any(keys)) besides the join, so the plan can look
    // the batch's rows up by key rather than read the ledger.
    const rows = which === 'own'
      ? 'd.key = any(?::text[]) and d.status = \'pending\' and d.run_id = ?'
      // Only 'sent' outcomes come this way; a filter on v.result would make PostgreSQL
      // expect one row from unnest and scan the ledger once per outcome.
      : 'd.key = any(?::text[]) and not (d.status = \'sent\' and d.run_id = ?)';
    const result = await withDeadlockRetry(() => db.raw<{ rows: Array<{ written: number; not_sent: RecordedDelivery[] }> }>(
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
         -- An operator's --force holds until the delivery is settled (sent, refused, dead).
         forced = case when v.result = 'released' or (v.result = 'retry' and d.attempts + 1 < ?) then d.forced end,
         run_id = ?, lease_expires_at = null, updated_at = now()
       from unnest(?::text[], ?::text[], ?::int[], ?::text[]) as v(key, result, http_status, error)
       where d.key = v.key and ${rows}
       returning d.key, d.status, d.attempts, d.workspace_id, d.item_id, d.item_date, d.last_status, d.last_error)
       select count(*)::int as written,
              coalesce(json_agg(recorded) filter (where recorded.status <> 'sent'), '[]') as not_sent
         from recorded`,
      arrayBindings([options.maxAttempts, options.maxAttempts, options.retryBackoffMs, options.retryBackoffMaxMs, options.maxAttempts, runId,
        keys, outcomes.map((o) => o.result),
        outcomes.map((o) => ('httpStatus' in o ? o.httpStatus ?? null : null)),
        // The error texts are cleaned where they are made; this is the net for what is stored.
        outcomes.map((o) => ('error' in o && o.error !== undefined ? redactSecrets(o.error) : null)),
        keys, runId]),
    ));
    const row = result.rows[0];
    return { written: row?.written ?? 0, notSent: row?.not_sent ?? [] };
  };
  return {
    async claim(items) {
      if (items.length === 0) return new Set();
      const keys = items.map((i) => i.key);
      // Sends back the keys it could not claim, usually none, rather than the page's
      // claimed keys: the same answer in a fraction of the rows.
      const result = await withDeadlockRetry(() => db.raw<{ rows: Array<{ key: string }> }>(
        `with claimed as (insert into deliveries (key, job, workspace_id, item_id, item_date, message, status, run_id, lease_expires_at)
         select v.key, ?, v.workspace_id, v.item_id, v.item_date, v.message, 'pending', ?, now() + ? * interval '1 millisecond'
           from unnest(?::text[], ?::uuid[], ?::text[], ?::date[], ?::text[]) as v(key, workspace_id, item_id, item_date, message)
         on conflict (key) do update
           set status = 'pending', run_id = excluded.run_id, lease_expires_at = excluded.lease_expires_at, updated_at = now(),
               -- What is sent: the text first meant, unless the item stands again after it was
               -- superseded, or now belongs to another workspace (the engine sends it there).
               message = case when deliveries.status = 'superseded' or deliveries.workspace_id <> excluded.workspace_id
                 then excluded.message else coalesce(deliveries.message, excluded.message) end,
               workspace_id = excluded.workspace_id,
               attempts = case when deliveries.status = 'superseded' then 0 else deliveries.attempts end,
               forced = case when deliveries.status = 'superseded' then null else deliveries.forced end
           where ${owedNow('deliveries')}
              -- Settled unsent: its item stands again under the same key, as new.
              or deliveries.status = 'superseded'
         returning key)
         select v.key from unnest(?::text[]) as v(key) where not exists (select 1 from claimed c where c.key = v.key)`,
        arrayBindings([job, runId, options.leaseMs,
          keys, items.map((i) => i.workspaceId), items.map((i) => i.itemId), items.map((i) => i.itemDate),
          items.map((i) => i.message), keys]),
      ));
      const notClaimed = new Set(result.rows.map((row) => row.key));
      const claimed = new Set(keys.filter((key) => !notClaimed.has(key)));
      for (const key of claimed) held.add(key);
      return claimed;
    },

    async record(outcomes) {
      if (outcomes.length === 0) return { written: 0, notSent: [] };
      let written = 0;
      const notSent: RecordedDelivery[] = [];
      const lost: DeliveryOutcome[] = [];
      // The bulk: sent, for claims this run still holds. One statement per HTTP status
      // (201, and 409 for the few the service had seen) and no join: a join on a ledger
      // without statistics let PostgreSQL guess one row and compare every outcome with
      // every row (500 x 500 a batch), or read the ledger whole.
      for (const [httpStatus, group] of groupByStatus(outcomes.filter((o) => o.result === 'sent'))) {
        const marked = await withDeadlockRetry(() => db('deliveries')
          .whereRaw('key = any(?::text[])', arrayBindings([group.map((o) => o.key)]))
          .where({ status: 'pending', run_id: runId })
          .update({
            status: 'sent', attempts: db.raw('attempts + 1'), last_status: httpStatus, last_error: null, forced: null,
            sent_at: db.raw('coalesce(sent_at, now())'), next_attempt_at: null, run_id: runId, lease_expires_at: null,
            updated_at: db.fn.now(),
          }));
        written += marked;
        // Fewer than asked: some claims were lost meanwhile (a lease expired and another run
        // took them). A 'sent' is the truth whoever holds the claim now: written by key.
        if (marked < group.length) lost.push(...group);
      }
      const others = outcomes.filter((o) => o.result !== 'sent');
      if (others.length > 0) {
        // Refused, to retry, released: written only while this run still owns the claim, so
        // a run that lost its lease cannot overwrite the work of the run that took it over.
        const own = await writeOutcomes(others, 'own');
        written += own.written;
        notSent.push(...own.notSent);
      }
      // Written, or no longer this run's to write: either way no longer held.
      for (const outcome of outcomes) held.delete(outcome.key);
      if (lost.length > 0) {
        const byKey = await writeOutcomes(lost, 'sent-by-key');
        written += byKey.written;
        notSent.push(...byKey.notSent);
      }
      return { written, notSent };
    },

    async releaseAll(reason) {
      if (held.size === 0) return 0;
      const released = await heldClaims()
        .update({ status: 'retry', lease_expires_at: null, next_attempt_at: null, last_error: redactSecrets(reason), updated_at: db.fn.now() });
      held.clear();
      return released;
    },

    async supersede(items) {
      if (items.length === 0) return new Set();
      const keys = items.map((i) => i.key);
      const result = await withDeadlockRetry(() => db.raw<{ rows: Array<{ key: string }> }>(
        `update deliveries d set status = 'superseded', last_error = v.reason, run_id = ?, lease_expires_at = null,
           next_attempt_at = null, forced = null, updated_at = now()
         from unnest(?::text[], ?::text[]) as v(key, reason)
         where d.key = any(?::text[]) and d.key = v.key and d.job = ? and d.forced is not true and (${owedNow('d')})
         returning d.key`,
        arrayBindings([runId, keys, items.map((i) => redactSecrets(i.reason)), keys, job]),
      ));
      return new Set(result.rows.map((row) => row.key));
    },
  };
}

function groupByStatus(sent: DeliveryOutcome[]): Map<number | null, DeliveryOutcome[]> {
  const groups = new Map<number | null, DeliveryOutcome[]>();
  for (const outcome of sent) {
    const status = 'httpStatus' in outcome ? outcome.httpStatus ?? null : null;
    const group = groups.get(status);
    if (group) group.push(outcome);
    else groups.set(status, [outcome]);
  }
  return groups;
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
