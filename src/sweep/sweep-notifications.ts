import { describeChangeWindow } from '../ledger/change-window.js';
import { getWaitingDeliveries } from '../ledger/due-deliveries.js';
import { describePause, getPause, type JobPause } from '../ledger/job-pauses.js';
import { JOB_PAUSED_GAUGE } from '../metrics/run-metrics.js';
import { defineJob, type JobContext, type JobDefinition, type JobResult } from '../runner/job.type.js';
import { describeDatabaseError } from '../database/database.js';
import { AbortRunError, UsageError } from '../runner/errors.js';
import { getWorkspacesInUnknownZones, latestFallDue, readRunZones, type RunZones } from './local-due-times.js';
import { createBacklog, recordBacklog, type Backlog } from './backlog.js';
import { itemContext, type DescribeItem } from './deliverer.js';
import type { NotificationPage } from './item-pages.js';
import { HoldBudgetExceeded, withinBudget } from './hold-check.js';
import { checkOwedPages } from './owed-check.js';
import { applyBrake, holdOnBudget } from './run-brake.js';
import { refuseFutureRunDate } from './run-date.js';
import { planRun } from './run-plan.js';
import type { AnyNotificationJob, SweepOptions, SweepRun } from './notification-job.js';
import { sendAll } from './send-all.js';
import { sharedOptions } from './shared-options.js';
import { describeProgress, dryRunTable, leavesWork, newCounts, summaryTable, SURVEY_FIELDS, type SweepCounts } from './sweep-counts.js';

/** A notification job as the CLI runs it: the shared options and its own, and the engine's run. */
export function toJobDefinition(job: AnyNotificationJob): JobDefinition<SweepOptions> {
  return defineJob<SweepOptions>({
    name: job.name,
    description: job.description,
    options: () => [...sharedOptions(job.runDate, job.localTime), ...(job.options?.() ?? [])],
    database: 'schema',
    recordsRun: (options) => !options.dryRun,
    checkOptions: refuseFutureRunDate,
    graceSeconds: (options) => options.graceSeconds,
    interruptedNote: 'what was not sent is released for the next run',
    run: (context, options) => sweepNotifications(job, context, options),
  });
}

/**
 * One run of a notification job: how its items stand, then the deliveries the ledger owes
 * it, then its items with no delivery yet, each claimed, sent once and recorded; the
 * summary, the backlog and the outcome (exit 0, or 75 when work is left for the next run).
 */
export async function sweepNotifications(job: AnyNotificationJob, context: JobContext, options: SweepOptions): Promise<JobResult> {
  const { db, logger } = context;
  const zones = await readZones(job, context, options);
  const run: SweepRun = { ...options, runDate: options.date ?? zones.at!.slice(0, 10), zones };
  const counts = newCounts();
  reportUnknownZones(context, zones, await getWorkspacesInUnknownZones(db, zones), counts);
  // A dry run sends nothing anyway: it shows what a resume would send.
  const pause = run.dryRun ? undefined : await getPause(db, job.name);
  recordPaused(context, Boolean(pause));
  if (pause) {
    // A paused job's run is not a failure: a CronJob must neither fail nor retry because of it.
    logger.warn({ pausedBy: pause.pausedBy, pausedAt: pause.pausedAt.toISOString(), reason: pause.reason },
      `the job is ${describePause(pause)}: sending nothing (sweep resume ${job.name})`);
    return { outcome: 'done', paused: describePause(pause), counts, details: { runDate: run.runDate } };
  }
  const plan = await planRun(db, job, run, logger, run.dryRun ? undefined : context.runId);
  const { survey } = plan;
  const waiting = await getWaitingDeliveries(db, job.name);
  const backlog = createBacklog();
  backlog.leftBehind(waiting.oldestItemDate);
  Object.assign(counts, { backingOff: waiting.backingOff, claimedElsewhere: waiting.heldElsewhere });
  if (survey) Object.assign(counts, { inScope: survey.inScope, alreadySent: survey.alreadySent, previouslyFailed: survey.previouslyFailed });
  else for (const field of SURVEY_FIELDS) delete (counts as Partial<SweepCounts>)[field];
  logger.info({ runDate: run.runDate, ...(survey ?? {}), backingOff: counts.backingOff, heldElsewhere: waiting.heldElsewhere,
    ...(plan.remembered ? { from: plan.remembered.position, ...describeChangeWindow(plan.remembered.changes) } : {}) },
  `${survey ? `${counts.inScope} ${job.items} as of ${run.runDate}: ${counts.alreadySent} already notified, `
    + `${counts.previouslyFailed} failed earlier, ` : `${job.items} as of ${run.runDate}${plan.remembered ? `, from ${plan.remembered.position.join(' ')} on` : ''}: `}`
    + `${counts.backingOff} waiting out a retry backoff, ${waiting.heldElsewhere} held by another run`);

  const describe = itemContext(job.describe);
  // Before the first send: far more than usual holds, sending nothing (a dry run sends nothing anyway).
  const brake = run.dryRun ? undefined : await applyBrake(context, job, run, plan);
  if (brake && 'held' in brake) {
    return { outcome: 'done', held: brake.held, counts: { ...counts, toSend: brake.figures.count, usual: brake.figures.usual },
      details: { runDate: run.runDate } };
  }
  if (brake) Object.assign(counts, brake.counts);
  const budget = brake?.budget;
  // What the ledger owes is sent only while it is still true: the job checks each page of it.
  // A count that found nothing kept its pages: there is nothing to read again (run-brake.ts).
  const replay = brake && 'pages' in brake ? brake.pages : undefined;
  const read = () => (replay ? plan.replay(replay) : checkOwedPages(db, job, run, plan.pages()));
  const pages = () => (budget === undefined ? read() : withinBudget(read(), budget));
  let paused: JobPause | undefined;
  let held: string | undefined;
  const startedAt = performance.now();
  const progress = setInterval(() => context.printer.progress(describeProgress(counts, startedAt)), 1000);
  progress.unref();
  try {
    if (run.dryRun) await listWouldSend(context, pages, counts, backlog, describe);
    else {
      const sent = await sendAll(context, { job: job.name, options: run, counts, backlog, describe, pages, settled: plan.settled })
        .catch((error: unknown) => {
          if (!(error instanceof HoldBudgetExceeded)) throw error;
          return { held: error.budget, finished: false, paused: undefined };
        });
      paused = sent.paused;
      if ('held' in sent && sent.held !== undefined) held = await holdOnBudget(context, db, job.name, sent.held);
      if (sent.finished) await plan.completed();
    }
  } finally {
    clearInterval(progress);
    context.printer.clearProgress();
  }
  const seconds = (performance.now() - startedAt) / 1000;
  const oldest = backlog.oldestItemDate;
  const fellDueAt = oldest === undefined ? undefined : await latestFallDue(db, zones, oldest,
    job.fallsDue ?? { daysAfterItemDate: 0, atLocalTime: false }, run.localTime ?? job.localTime ?? '00:00').catch(() => undefined);
  recordBacklog(context.metrics, logger, oldest, job.owedDaysBefore, Date.now(), fellDueAt);

  if (counts.found + counts.dueAgain === 0) {
    logger.info({ runDate: run.runDate, alreadySent: counts.alreadySent },
      survey && counts.inScope > 0 && counts.inScope === counts.alreadySent
        ? `all ${counts.inScope} ${job.items} were already notified: nothing to send`
        : `nothing to send: no ${job.items} without a notification, and no delivery due again`);
  }
  if (paused) recordPaused(context, true);
  return {
    ...(held ? { held } : {}),
    // Stopped by a pause, a run has left work to the runs after the resume.
    outcome: paused || leavesWork(counts) ? 'partial' : 'done',
    ...(paused ? { paused: describePause(paused) } : {}),
    ...(counts.dead > 0 ? { ending: describeDead(job.name, counts) } : {}),
    counts,
    details: { runDate: run.runDate, dryRun: run.dryRun, ...(brake && 'countMs' in brake ? { countMs: brake.countMs } : {}), ratePerSecond: seconds > 0 ? Math.round((counts.sent / seconds) * 10) / 10 : 0 },
    table: (run.dryRun ? dryRunTable(job.items) : summaryTable(job.items)).filter(([, field]) => field in counts || field === 'ratePerSecond'),
  };
}

/** The summary's ending when items went dead: they are not retried, so it says where they are, with or without retries beside them. */
function describeDead(job: string, counts: SweepCounts): string {
  const dead = `${counts.dead} notification(s) went dead after their last attempt and are no longer retried `
    + `(sweep deliveries --status dead --job ${job}; re-arm them with sweep deliveries retry once the cause is fixed)`;
  return leavesWork(counts) ? `some items will be retried by the next run; ${dead}` : dead;
}

/** Each zone in use as of the run, by PostgreSQL's tz database; a default zone it does not know stops the run (exit 64). */
async function readZones(job: AnyNotificationJob, { db, config }: JobContext, options: SweepOptions): Promise<RunZones> {
  const asOf = options.date !== undefined ? { date: options.date } : { at: options.at };
  const zones = await readRunZones(db, { asOf, defaultZone: config.defaultTimeZone, localTime: options.localTime ?? job.localTime ?? '00:00' })
    .catch((error: unknown) => {
      throw new AbortRunError(`cannot read the workspaces' time zones: ${describeDatabaseError(error)}`, {}, { cause: error });
    });
  if (zones.unknown.includes(zones.defaultZone)) {
    throw new UsageError(`SWEEP_DEFAULT_TIME_ZONE ${JSON.stringify(zones.defaultZone)} is not a time zone this PostgreSQL knows `
      + '(pg_timezone_names): set it to one it lists; nothing was done');
  }
  return zones;
}

/**
 * One line per workspace whose zone PostgreSQL does not know, every run until it is
 * fixed: its notifications are not sent, and stay owed (the scan does not settle past
 * them; what the ledger owes it stays owed).
 */
function reportUnknownZones({ logger, metrics }: JobContext, zones: RunZones, workspaces: Array<{ workspaceId: string; zone: string }>,
  counts: SweepCounts): void {
  for (const { workspaceId, zone } of workspaces) {
    logger.warn({ workspaceId, timeZone: zone },
      `workspace ${workspaceId} is skipped: its time zone ${JSON.stringify(zone)} is not one PostgreSQL knows, so nothing of it can `
      + 'be said to have fallen due; its notifications stay owed. Set workspaces.time_zone to an IANA name (e.g. Europe/Berlin) '
      + `or null for the default (${zones.defaultZone})`);
  }
  counts.workspacesInUnknownZone = workspaces.length;
  metrics.setGauge('sweep_workspaces_unknown_zone', 'Workspaces skipped by the last run: their time zone is not one PostgreSQL knows.',
    workspaces.length);
}

function recordPaused({ metrics }: JobContext, paused: boolean): void {
  metrics.setGauge(JOB_PAUSED_GAUGE.name, JOB_PAUSED_GAUGE.help, paused ? 1 : 0);
}

async function listWouldSend({ logger }: JobContext, pages: () => AsyncGenerator<NotificationPage>, counts: SweepCounts,
  backlog: Backlog, describe: DescribeItem): Promise<void> {
  for await (const page of pages()) {
    for (const { notification, reason } of page.superseded ?? []) {
      counts.dueAgain += 1;
      counts.superseded += 1;
      logger.info({ ...describe(notification), reason }, `dry run: would not send a notification due again: no longer true (${reason})`);
    }
    for (const { notification, reason } of page.notYet ?? []) {
      backlog.leftBehind(notification.itemDate);
      logger.info({ ...describe(notification), reason }, `dry run: would not send a notification due again yet (${reason})`);
    }
    for (const notification of page.notifications) {
      if (page.source === 'due') counts.dueAgain += 1;
      else counts.found += 1;
      backlog.leftBehind(notification.itemDate);
      const previousWorkspaceId = page.movedFrom?.get(notification.key);
      logger.info({ ...describe(notification), message: notification.message, ...(previousWorkspaceId ? { previousWorkspaceId } : {}) },
        page.source !== 'due' ? 'dry run: would send a notification'
          : previousWorkspaceId ? 'dry run: would send a notification due again to the workspace that holds its item now'
            : 'dry run: would send a notification due again');
    }
  }
}
