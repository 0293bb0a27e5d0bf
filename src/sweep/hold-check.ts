import type { Knex } from 'knex';
import { describeDatabaseError } from '../database/database.js';
import { approvalStands, clearHold, isPending, markApprovalUsed, recordHold, withHoldLock, type HoldFigures } from '../ledger/job-holds.js';
import { getPastRuns } from '../ledger/run-history.js';
import { AbortRunError } from '../runner/errors.js';
import type { NotificationPage } from './item-pages.js';
import { HISTORY_DAYS, holdThreshold, usualCount } from './usual-count.js';

/** The brake's options (shared-options.ts). */
export interface HoldOptions {
  /** Hold when the count is above this many times usual (default 10). */
  holdFactor: number;
  /** Never hold at or below this count (default 1000). */
  holdMin: number;
  /** false with --no-hold: this run does not count, and never holds. */
  hold: boolean;
}

/** What the brake decided for one run. */
export type HoldDecision =
  | { held: HoldFigures; joined: boolean }
  /** Send, at most `budget` notifications: the threshold, plus what an approval lets through. */
  | { send: { budget: number; toSend: number; usual: number; approvedUpTo?: number } };

const TOP_WORKSPACES = 10;
const SAMPLE = 10;

/**
 * Counts what the run is about to send, new and owed, as its dry run would: the same
 * pages its send reads (the job's own reader after a cursor, the ledger's due deliveries,
 * each checked by the job's stillStands), without a claim. No query of its own: at most
 * the cost of the run's read of its new work.
 */
export async function countToSend(pages: AsyncGenerator<NotificationPage>):
Promise<Omit<HoldFigures, 'usual' | 'threshold'> & { pages?: NotificationPage[] }> {
  let count = 0;
  // A count of nothing keeps its pages: the send has nothing to read again (a rerun; the
  // first run after an upgrade, whose read passes over all of history). A page with
  // something to send is read again when its turn comes, so that what is sent is what it
  // says then, not a whole run earlier (minutes under --max-rate).
  let kept: NotificationPage[] | undefined = [];
  const byWorkspace = new Map<string, number>();
  const sample: HoldFigures['sample'] = [];
  for await (const page of pages) {
    if (kept && page.notifications.length === 0 && !page.superseded?.length) kept.push(page);
    else kept = undefined;
    for (const notification of page.notifications) {
      count += 1;
      byWorkspace.set(notification.workspaceId, (byWorkspace.get(notification.workspaceId) ?? 0) + 1);
      if (sample.length < SAMPLE) {
        const { key, workspaceId, itemId, itemDate, message } = notification;
        sample.push({ key, workspaceId, itemId, itemDate, message });
      }
    }
  }
  const topWorkspaces = [...byWorkspace].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, TOP_WORKSPACES)
    .map(([workspaceId, n]) => ({ workspaceId, count: n }));
  return { count, topWorkspaces, sample, ...(kept ? { pages: kept } : {}) };
}

/**
 * The decision, under the job's brake lock (one transaction, a transaction-level lock):
 * - a hold another runner recorded after this run started holds this one too, whatever
 *   it counted: runners that start together on a storm hold together;
 * - above the threshold (plus what a standing approval lets through), the run holds and
 *   records it, with its figures, on its row and the job's;
 * - at or below the threshold a leftover hold goes, and so does an approval once it was
 *   used: once counts are usual, nothing is left to approve and no approval is left behind.
 */
export async function decideHold(db: Knex, request: { job: string; runId: string; at: Date; options: HoldOptions;
  counted: Omit<HoldFigures, 'usual' | 'threshold'> }): Promise<HoldDecision> {
  const { job, runId, options, counted } = request;
  const past = await getPastRuns(db, job, { days: HISTORY_DAYS, excludeRunId: runId }).catch((error: unknown) => {
    throw new AbortRunError(`cannot read the job's run history: ${describeDatabaseError(error)}`, {}, { cause: error });
  });
  const usual = usualCount(past, request.at);
  const threshold = holdThreshold(usual, { factor: options.holdFactor, min: options.holdMin });
  const figures: HoldFigures = { count: counted.count, topWorkspaces: counted.topWorkspaces, sample: counted.sample, usual, threshold };
  return withHoldLock(db, job, async (trx, hold) => {
    const started = await trx('job_runs').where({ id: runId }).first<{ started_at: Date } | undefined>('started_at');
    const now = new Date();
    const joined = Boolean(hold && isPending(hold) && hold.heldByRun !== runId && started && hold.heldAt! >= new Date(started.started_at));
    const approved = hold && approvalStands(hold, now) ? hold.approvedUpTo! : 0;
    if (joined || counted.count > threshold + approved) {
      if (!joined) await recordHold(trx, { job, runId, figures });
      await trx('job_runs').where({ id: runId }).update({ hold: JSON.stringify(figures) });
      return { held: figures, joined };
    }
    if (hold && counted.count > threshold) await markApprovalUsed(trx, job);
    else if (hold && (!approvalStands(hold, now) || hold.approvalUsedAt !== null)) await clearHold(trx, job);
    return { send: { budget: threshold + approved, toSend: counted.count, usual, ...(counted.count > threshold ? { approvedUpTo: approved } : {}) } };
  }).catch((error: unknown) => {
    throw new AbortRunError(`cannot decide whether to hold: ${describeDatabaseError(error)}`, {}, { cause: error });
  });
}

/** Raised while sending when a run reads more than it may send: what appeared after its count. */
export class HoldBudgetExceeded extends Error {
  constructor(readonly budget: number) {
    super(`read more than the ${budget} notifications this run may send`);
  }
}

/**
 * The pages a run sends, cut off once they hold more than `budget`: a storm that lands
 * between the count and the send (a bulk update that commits meanwhile) is stopped at the
 * run's threshold, not sent whole.
 */
export async function* withinBudget(pages: AsyncGenerator<NotificationPage>, budget: number): AsyncGenerator<NotificationPage> {
  let read = 0;
  for await (const page of pages) {
    read += page.notifications.length;
    if (read > budget) throw new HoldBudgetExceeded(budget);
    yield page;
  }
}

/** The held run's one line: what it would send, against what, and what to do. */
export function describeHold(job: string, figures: HoldFigures, joined: boolean): string {
  const top = figures.topWorkspaces.slice(0, 3).map((w) => `${w.workspaceId} (${w.count})`).join(', ');
  return `held: ${joined ? 'another runner of this round held on a storm, so ' : ''}this run would send ${figures.count} `
    + `notifications where ${figures.usual} are usual now (it holds above ${figures.threshold}); nothing was sent. `
    + `Most go to ${top || 'no workspace'}. If they are right: sweep approve ${job} --reason "…"; `
    + `if the data is wrong: fix it (the next run then sends what is usual by itself) or sweep pause ${job}`;
}
