import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Knex } from 'knex';
import { redactSecrets } from '../logging/secret-registry.js';

/** succeeded: exit 0; partial: finished with items to retry (exit 75); failed: aborted (exit 1); paused: met a pause (sweep pause). */
export type RunStatus = 'running' | 'succeeded' | 'partial' | 'failed' | 'interrupted' | 'paused';

export interface StartedRun {
  id: string;
}

/** Opens a run's row; the id goes into every log line and every claim of the run. */
export async function startRun(db: Knex, job: string, parameters: Record<string, unknown>): Promise<StartedRun> {
  const id = randomUUID();
  await db('job_runs').insert({
    id, job, parameters: JSON.stringify(parameters), status: 'running',
    heartbeat_at: db.fn.now(), host: hostname(), pid: process.pid,
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
