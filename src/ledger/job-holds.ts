import type { Knex } from 'knex';
import { redactSecrets } from '../logging/secret-registry.js';

/** What a held run counted, as it records it (job_runs.hold) and shows it. */
export interface HoldFigures {
  /** What the run was about to send: new and owed, as its dry run counts. */
  count: number;
  /** What is usual for the job at that time of day, over the time the run covers. */
  usual: number;
  /** The count above which it holds: --hold-factor × usual, at least --hold-min. */
  threshold: number;
  /** The workspaces with the most, at most ten, most first. */
  topWorkspaces: Array<{ workspaceId: string; count: number }>;
  /** A few of the notifications it would send, as the dry run lists them. */
  sample: Array<{ key: string; workspaceId: string; itemId: string; itemDate: string | null; message: string }>;
}

/** A job's brake: its last hold, and the approval that releases it. One row per job at most (job_holds). */
export interface JobHold {
  job: string;
  heldAt: Date | null;
  heldByRun: string | null;
  hold: HoldFigures | null;
  approvedUpTo: number | null;
  approvedBy: string | null;
  approvedAt: Date | null;
  approvalReason: string | null;
  approvalUsedAt: Date | null;
}

interface JobHoldRow {
  job: string;
  held_at: Date | null;
  held_by_run: string | null;
  hold: HoldFigures | string | null;
  approved_up_to: number | null;
  approved_by: string | null;
  approved_at: Date | null;
  approval_reason: string | null;
  approval_used_at: Date | null;
}

const date = (value: Date | string | null) => (value === null ? null : new Date(value));

const fromRow = (row: JobHoldRow): JobHold => ({
  job: row.job, heldAt: date(row.held_at), heldByRun: row.held_by_run,
  hold: typeof row.hold === 'string' ? JSON.parse(row.hold) as HoldFigures : row.hold,
  approvedUpTo: row.approved_up_to, approvedBy: row.approved_by, approvedAt: date(row.approved_at),
  approvalReason: row.approval_reason, approvalUsedAt: date(row.approval_used_at),
});

/** An approval nobody has sent under expires: a campaign approved ahead is for the day, not for ever. */
export const APPROVAL_UNUSED_HOURS = 24;

/** Whether the hold is waiting for an operator: held, and not approved since. */
export function isPending(hold: JobHold): boolean {
  return hold.heldAt !== null && (hold.approvedAt === null || hold.approvedAt < hold.heldAt);
}

/** Whether the approval still lets runs send: used already, or given within the last day. */
export function approvalStands(hold: JobHold, now: Date): boolean {
  if (hold.approvedUpTo === null || hold.approvedAt === null) return false;
  return hold.approvalUsedAt !== null || now.getTime() - hold.approvedAt.getTime() < APPROVAL_UNUSED_HOURS * 3600_000;
}

/**
 * Runs `change` in a transaction that holds the job's brake lock: a transaction-level
 * advisory lock, released at commit, so it works through PgBouncer in transaction mode.
 * Every runner's decision and every approval of the job pass through it one at a time.
 */
export async function withHoldLock<T>(db: Knex, job: string, change: (trx: Knex.Transaction, hold: JobHold | undefined) => Promise<T>): Promise<T> {
  return db.transaction(async (trx) => {
    await trx.raw(`select pg_advisory_xact_lock(hashtext('sweep job_holds'), hashtext(?))`, [job]);
    const row = await trx('job_holds').where({ job }).first<JobHoldRow | undefined>();
    return change(trx, row && fromRow(row));
  });
}

export async function getHolds(db: Knex): Promise<JobHold[]> {
  const rows: JobHoldRow[] = await db('job_holds').select('*').orderBy('job');
  return rows.map(fromRow);
}

export async function getHold(db: Knex, job: string): Promise<JobHold | undefined> {
  const row = await db('job_holds').where({ job }).first<JobHoldRow | undefined>();
  return row && fromRow(row);
}

/** Records a hold (the approval that was too small for it goes: the new count needs its own). */
export async function recordHold(trx: Knex, hold: { job: string; runId: string | null; figures: HoldFigures }): Promise<void> {
  const values = { held_at: trx.fn.now(), held_by_run: hold.runId, hold: JSON.stringify(hold.figures),
    approved_up_to: null, approved_by: null, approved_at: null, approval_reason: null, approval_used_at: null };
  await trx('job_holds').insert({ job: hold.job, ...values }).onConflict('job').merge(Object.keys(values));
}

export async function recordApproval(trx: Knex, approval: { job: string; upTo: number; by: string; reason: string }): Promise<JobHold> {
  const values = { approved_up_to: approval.upTo, approved_by: approval.by, approved_at: trx.fn.now(),
    approval_reason: redactSecrets(approval.reason), approval_used_at: null };
  const [row] = await trx('job_holds').insert({ job: approval.job, ...values }).onConflict('job').merge(Object.keys(values))
    .returning<JobHoldRow[]>('*');
  return fromRow(row!);
}

export async function markApprovalUsed(trx: Knex, job: string): Promise<void> {
  await trx('job_holds').where({ job }).whereNull('approval_used_at').update({ approval_used_at: trx.fn.now() });
}

export async function clearHold(trx: Knex, job: string): Promise<void> {
  await trx('job_holds').where({ job }).delete();
}
