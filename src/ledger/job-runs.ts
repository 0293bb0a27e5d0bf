import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Knex } from 'knex';
import { redactSecrets } from '../logging/secret-registry.js';

/**
 * succeeded: exit 0; partial: finished with items to retry (exit 75); failed: aborted (exit 1); paused: met a pause (sweep pause);
 * held: would have sent far more than usual, sent nothing (exit 65, sweep approve).
 */
export type RunStatus = 'running' | 'succeeded' | 'partial' | 'failed' | 'interrupted' | 'paused' | 'held';

/**
 * A run left `running` whose process is gone without recording its end (killed, its node
 * lost): its lease has passed, or, before its first lease (a run still planning renews
 * none), an hour has since its start. Never stored: a run frozen past its lease that comes
 * back still records its own end.
 */
export const ABANDONED_SQL = `(status = 'running' and coalesce(lease_expires_at, heartbeat_at + interval '1 hour') < now())`;

/** A run's status as people and scripts are shown it: `abandoned` for a run left running by a dead process. */
export const SHOWN_STATUS_SQL = `case when ${ABANDONED_SQL} then 'abandoned' else status end`;

/** The where clause for the shown statuses `statuses` (abandoned and running told apart). */
export function shownStatusIn(statuses: readonly string[]): { sql: string; bindings: string[] } {
  return { sql: `(${SHOWN_STATUS_SQL}) = any(?::text[])`, bindings: [statuses as unknown as string] };
}

export interface StartedRun {
  id: string;
}

/** Opens a run's row; the id goes into every log line and every claim of the run. */
export async function startRun(db: Knex, job: string, parameters: Record<string, unknown>,
  extra: { traceId?: string } = {}): Promise<StartedRun> {
  const id = randomUUID();
  await db('job_runs').insert({
    id, job, parameters: JSON.stringify(parameters), status: 'running',
    heartbeat_at: db.fn.now(), host: hostname(), pid: process.pid,
    ...(extra.traceId ? { trace_id: extra.traceId } : {}),
  });
  return { id };
}

export async function finishRun(
  db: Knex,
  runId: string,
  outcome: { status: Exclude<RunStatus, 'running'>; counts?: Record<string, number>; error?: string },
): Promise<void> {
  await db('job_runs').where({ id: runId }).update({
    status: outcome.status,
    finished_at: db.fn.now(),
    counts: outcome.counts ? JSON.stringify(outcome.counts) : null,
    error: outcome.error === undefined ? null : redactSecrets(outcome.error),
  });
}
