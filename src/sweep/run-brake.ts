import type { Knex } from 'knex';
import { recordHold, withHoldLock, type HoldFigures } from '../ledger/job-holds.js';
import { HOLD_GAUGES } from '../metrics/run-metrics.js';
import type { JobContext } from '../runner/job.type.js';
import { countToSend, decideHold, describeHold } from './hold-check.js';
import type { AnyNotificationJob, SweepRun } from './notification-job.js';
import { checkOwedPages } from './owed-check.js';
import type { NotificationPage } from './item-pages.js';
import type { RunPlan } from './run-plan.js';

/** What the brake leaves the run: held (send nothing), or send at most `budget` (none: --no-hold). */
export type Brake =
  | { held: string; figures: HoldFigures }
  | { budget: number | undefined; counts: Record<string, number>; countMs?: number;
    /** The pages of a count of nothing: the send replays them instead of reading again. */
    pages?: NotificationPage[] };

/**
 * Before the first send: counts what the run is about to send (the pages it would send,
 * read once without claiming) and asks decideHold whether that is far above usual.
 * The figures go to the log, the metrics and, when it holds, the run's row.
 */
export async function applyBrake(context: JobContext, job: AnyNotificationJob, run: SweepRun, plan: RunPlan): Promise<Brake> {
  const { db, logger } = context;
  if (!run.hold) {
    logger.warn({ hold: false }, 'the brake is off for this run (--no-hold): sending without counting first, whatever the count');
    setHoldGauges(context, { held: 0 });
    return { budget: undefined, counts: { holdOff: 1 } };
  }
  const startedAt = performance.now();
  const counted = await countToSend(checkOwedPages(db, job, run, plan.pages({ count: true })));
  const decision = await decideHold(db, { job: job.name, runId: context.runId!, at: new Date(run.zones.at ?? Date.now()),
    options: run, counted });
  const countMs = Math.round(performance.now() - startedAt);
  if ('held' in decision) {
    const line = describeHold(job.name, decision.held, decision.joined);
    logger.warn({ held: true, count: decision.held.count, usual: decision.held.usual, threshold: decision.held.threshold,
      holdFactor: run.holdFactor, holdMin: run.holdMin, topWorkspaces: decision.held.topWorkspaces, countMs }, line);
    setHoldGauges(context, { held: 1, count: decision.held.count, usual: decision.held.usual });
    return { held: line, figures: decision.held };
  }
  const { budget, toSend, usual, approvedUpTo } = decision.send;
  logger.info({ toSend, usual, budget, ...(approvedUpTo !== undefined ? { approvedUpTo } : {}), countMs },
    approvedUpTo !== undefined
      ? `${toSend} to send, above the usual ${usual}: an operator approved up to ${approvedUpTo} (sweep approve), so it goes on`
      : `${toSend} to send, ${usual} usual now: within usual`);
  setHoldGauges(context, { held: 0, count: toSend, usual });
  return { budget, counts: { toSend, usual, ...(approvedUpTo !== undefined ? { approvedUpTo } : {}) }, countMs,
    ...(counted.pages ? { pages: counted.pages } : {}) };
}

/**
 * A run that read more than it may send while sending (a storm landed after its count):
 * it stopped there, and the job holds from now on, as if it had counted that many.
 */
export async function holdOnBudget(context: JobContext, db: Knex, job: string, budget: number): Promise<string> {
  const figures: HoldFigures = { count: budget + 1, usual: 0, threshold: budget, topWorkspaces: [], sample: [] };
  await withHoldLock(db, job, async (trx) => {
    await recordHold(trx, { job, runId: context.runId ?? null, figures });
    if (context.runId) await trx('job_runs').where({ id: context.runId }).update({ hold: JSON.stringify(figures) });
  });
  const line = `held: while sending, more appeared than this run may send (${budget}); it stopped there and released `
    + `what it had not sent. Check the data, then sweep approve ${job} --reason "…", or fix it or sweep pause ${job}`;
  context.logger.warn({ held: true, budget }, line);
  setHoldGauges(context, { held: 1, count: budget + 1 });
  return line;
}

function setHoldGauges({ metrics }: JobContext, values: { held: number; count?: number; usual?: number }): void {
  metrics.setGauge(HOLD_GAUGES.held.name, HOLD_GAUGES.held.help, values.held);
  if (values.count !== undefined) metrics.setGauge(HOLD_GAUGES.count.name, HOLD_GAUGES.count.help, values.count);
  if (values.usual !== undefined) metrics.setGauge(HOLD_GAUGES.usual.name, HOLD_GAUGES.usual.help, values.usual);
}
