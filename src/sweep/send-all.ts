import pLimit from 'p-limit';
import { describeDatabaseError } from '../database/database.js';
import { createCircuitBreaker } from '../http/circuit-breaker.js';
import { closeHttpClient, createHttpClient } from '../http/http-client.js';
import { useProxySettings } from '../http/proxy-use.js';
import { createNotificationClient } from '../http/notification.client.js';
import { createRateLimiter } from '../http/rate-limiter.js';
import { createTokenCache } from '../http/token-cache.js';
import { fetchWorkspaceToken } from '../http/token.client.js';
import { createDeliveryLedger, type DeliveryLedger } from '../ledger/deliveries.js';
import { describePause, type JobPause } from '../ledger/job-pauses.js';
import { startRunHeartbeat } from '../ledger/run-heartbeat.js';
import { createOutcomeRecorder } from '../ledger/outcome-recorder.js';
import { ABANDONED_RUNS_GAUGE } from '../metrics/run-metrics.js';
import { AbortRunError } from '../runner/errors.js';
import type { JobContext } from '../runner/job.type.js';
import type { Backlog } from './backlog.js';
import { claimBatchSize } from './claim-batch.js';
import { createDeliverer, type DescribeItem } from './deliverer.js';
import { createInFlight } from './in-flight.js';
import type { NotificationPage, SupersededDelivery } from './item-pages.js';
import { recordable } from './notification-contract.js';
import type { Notification, SweepOptions } from './notification-job.js';
import { startRunCoordination } from './run-coordination.js';
import { createPageTrace, traceOutcomeWrites } from './page-trace.js';
import { createStopControl } from './stop-control.js';
import type { SweepCounts } from './sweep-counts.js';

export interface SendAllDeps {
  job: string;
  options: SweepOptions;
  counts: SweepCounts;
  backlog: Backlog;
  describe: DescribeItem;
  /** The pages to send, in order: the ledger's due deliveries first, then the scan. */
  pages: () => AsyncGenerator<NotificationPage>;
  /** Told of each page once it is claimed whole (the run may remember how far it got). */
  settled?: (page: NotificationPage) => Promise<void>;
}

/**
 * Claims each page in the ledger a batch at a time, sends one notification per claim
 * (bounded by p-limit, retried by p-retry) and records every outcome in batches.
 * Reading the next page overlaps sending the current one, so the notify service's
 * latency, not the database, sets the pace. Returns the pause that stopped the run, if
 * one did, and whether every page was read and claimed whole (finished).
 */
export async function sendAll(context: JobContext, deps: SendAllDeps): Promise<{ paused?: JobPause; finished: boolean }> {
  const { db, logger, config } = context;
  const { options, counts, backlog, describe } = deps;
  const runId = context.runId ?? '';
  const leaseMs = options.leaseSeconds * 1000;
  const proxy = useProxySettings(context.env, config.servicesUrl, logger);
  const ledger = createDeliveryLedger(db, {
    job: deps.job, runId, leaseMs, maxAttempts: options.maxAttempts,
    retryBackoffMs: options.retryBackoffSeconds * 1000, retryBackoffMaxMs: 6 * 3600 * 1000,
  });
  // Set while a write of outcomes is failing: no request starts until it goes through or the run stops.
  let ledgerTrouble: { wait: Promise<void>; over: () => void } | undefined;
  const endLedgerTrouble = () => {
    ledgerTrouble?.over();
    ledgerTrouble = undefined;
  };
  const pageTrace = createPageTrace(context.traceSpan);
  const recorder = createOutcomeRecorder(traceOutcomeWrites(ledger, context.traceSpan), {
    maxBatch: Math.min(options.pageSize, 500),
    onLedgerState: (state, error) => {
      if (state === 'failing') {
        if (!ledgerTrouble) {
          let over!: () => void;
          const wait = new Promise<void>((resolve) => { over = resolve; });
          ledgerTrouble = { wait, over };
        }
        logger.warn({ reason: error && describeDatabaseError(error) }, 'cannot write the delivery ledger: trying again; no new request starts meanwhile');
        return;
      }
      // Once it failed for good, nothing new is sent: what is not recorded goes to its lease.
      if (state === 'failed') stop.stopGracefully('the delivery ledger cannot be written');
      endLedgerTrouble();
    },
    onRecorded: ({ notSent }) => {
      for (const row of notSent.filter((r) => r.status === 'dead')) {
        // Counted as a transient failure when it was sent; out of attempts, no run retries it.
        counts.failedTransiently -= 1;
        counts.dead += 1;
        logger.error({ ...describe({ key: row.key, workspaceId: row.workspace_id, itemId: row.item_id, itemDate: row.item_date }),
          attempts: row.attempts, lastStatus: row.last_status, lastError: row.last_error },
        `notification is dead after ${row.attempts} attempts: no longer retried (sweep deliveries --status dead; re-arm with sweep deliveries retry)`);
      }
    },
  });
  const heartbeat = await startRunHeartbeat({ db, runId, leaseMs, logger }).catch((error: unknown) => {
    throw ledgerUnwritable(error);
  });
  const http = createHttpClient({
    baseURL: config.servicesUrl, timeoutMs: config.http.timeoutMs, maxSockets: options.concurrency, proxy,
    onRequestDone: (endpoint, outcome, seconds) => context.metrics.requestDuration.observe({ endpoint, outcome }, seconds),
  });
  const tokens = createTokenCache({
    fetchToken: async (workspaceId, signal) => {
      const issued = await fetchWorkspaceToken(http, { clientId: config.serviceClientId, clientSecret: config.serviceClientSecret }, workspaceId,
        { signal, traceParent: context.traceSpan, retry: { retries: config.http.retries, baseMs: config.http.retryBaseMs, maxMs: config.http.retryMaxMs } });
      logger.info({ workspaceId, expiresInSeconds: Math.round(issued.expiresInMs / 1000) }, 'fetched a token for the workspace');
      return issued;
    },
  });
  const rateLimiter = options.maxRate ? createRateLimiter(options.maxRate) : undefined;
  const client = createNotificationClient({
    http, tokens, rateLimiter,
    retry: { retries: config.http.retries, baseMs: config.http.retryBaseMs, maxMs: config.http.retryMaxMs },
  });
  const stop = createStopControl(context.signal, options.graceSeconds * 1000, (reason) => logger.warn({ reason,
    graceSeconds: options.graceSeconds }, 'stopping: no new claims; requests in flight may finish within the grace period'));
  const deliver = createDeliverer({ client, recorder, logger, counts, stop, breaker: createCircuitBreaker(), describe,
    onLeftBehind: (notification) => backlog.leftBehind(notification.itemDate), ledgerWritable: () => ledgerTrouble?.wait });
  const limit = pLimit(options.concurrency);
  const inFlight = createInFlight();

  const claimBatch = claimBatchSize(options.concurrency, options.pageSize);
  /**
   * Claims a page a batch at a time, each once the requests queued before it are nearly
   * all under way, and queues what it claimed: this run holds little more than it is
   * about to send, so runners sharing a sweep finish together. Returns how many of the
   * page's notifications it reached (fewer when the run is stopping) and claimed.
   */
  const sendPage = async ({ source, notifications, movedFrom }: NotificationPage): Promise<{ reached: number; claimed: number }> => {
    let reached = 0;
    let claimedOnPage = 0;
    for (; reached < notifications.length && !stop.stopping.aborted; reached += claimBatch) {
      await inFlight.waitBelow(options.concurrency + claimBatch);
      if (stop.stopping.aborted) break;
      const batch = notifications.slice(reached, reached + claimBatch);
      if (source === 'due') counts.dueAgain += batch.length;
      else counts.found += batch.length;
      for (const notification of batch.filter((n) => !recordable(n))) skipUnrecordable(notification);
      const claimed = await claim(ledger, batch.filter(recordable));
      claimedOnPage += claimed.size;
      counts.claimed += claimed.size;
      for (const notification of batch) {
        if (claimed.has(notification.key)) {
          const previousWorkspaceId = movedFrom?.get(notification.key);
          if (previousWorkspaceId) {
            logger.info({ ...describe(notification), previousWorkspaceId }, 'its item moved to another workspace: sending it to '
              + 'the workspace that holds it now, with that workspace\'s token, and recording it there');
          }
          const page = pageTrace.span();
          const sending = limit(() => deliver(notification, page));
          inFlight.track(sending);
          pageTrace.track(sending);
        } else if (recordable(notification)) {
          counts.claimedElsewhere += 1;
          backlog.leftBehind(notification.itemDate);
          logger.debug(describe(notification), 'claimed by another live run: skipping it');
        }
      }
      if (recorder.failure) throw ledgerUnwritable(recorder.failure);
    }
    return { reached: Math.min(reached, notifications.length), claimed: claimedOnPage };
  };
  /**
   * Owed deliveries whose item no longer stands: settled unsent in one statement, each
   * logged once with its reason. One another run claimed meanwhile is that run's.
   */
  const supersede = async (superseded: SupersededDelivery[]) => {
    counts.dueAgain += superseded.length;
    let settled: Set<string>;
    try {
      settled = await ledger.supersede(superseded.map(({ notification, reason }) => ({ key: notification.key, reason })));
    } catch (error) {
      throw ledgerUnwritable(error);
    }
    for (const { notification, reason } of superseded) {
      if (settled.has(notification.key)) {
        counts.superseded += 1;
        logger.info({ ...describe(notification), reason }, `not sending a notification due again: no longer true (${reason}); `
          + 'recorded as superseded');
      } else {
        counts.claimedElsewhere += 1;
        backlog.leftBehind(notification.itemDate);
        logger.debug(describe(notification), 'claimed by another live run: skipping it');
      }
    }
  };
  /** An owed delivery not true yet as of the run date: neither claimed nor settled, so a later run sends it. */
  const leaveOwed = (notification: Notification, reason: string) => {
    backlog.leftBehind(notification.itemDate);
    logger.info({ ...describe(notification), reason }, `not sending a notification due again yet: ${reason}; `
      + 'it stays owed for a run whose date it is true for');
  };
  /** A row the ledger cannot key (no UUID workspace): logged and skipped, never the cause of a failed batch. */
  const skipUnrecordable = (notification: Notification) => {
    counts.failedPermanently += 1;
    logger.warn({ ...describe(notification), reason: 'its workspace id is not a UUID' },
      'item cannot be recorded in the delivery ledger: skipping it');
  };

  let failure: unknown;
  let pages = 0;
  let paused: JobPause | undefined;
  let finished = false;
  let coordination: { stop(): void } | undefined;
  try {
    let abandonedSeen = false;
    coordination = await startRunCoordination({ db, job: deps.job, logger, onChange: ({ liveRunners, pause, abandonedRuns }) => {
      if (!abandonedSeen) {
        abandonedSeen = true;
        context.metrics.setGauge(ABANDONED_RUNS_GAUGE.name, ABANDONED_RUNS_GAUGE.help, abandonedRuns);
        if (abandonedRuns > 0) {
          logger.warn({ abandonedRuns }, `${abandonedRuns} run(s) of this job in the last day were left running by a process that `
            + 'died without recording its end (shown abandoned: sweep runs --status abandoned); what they held passes to a run once their lease is over');
        }
      }
      // The job's --max-rate is shared by its live runners, retries included; a lone one has all of it.
      if (rateLimiter && options.maxRate && rateLimiter.perSecond !== options.maxRate / liveRunners) {
        rateLimiter.setRate(options.maxRate / liveRunners);
        logger.info({ liveRunners, maxRate: options.maxRate, share: rateLimiter.perSecond },
          `${liveRunners} live runner(s) share the job's --max-rate: this one sends up to ${rateLimiter.perSecond.toFixed(1)}/s`);
      }
      if (pause && !paused) {
        paused = pause;
        logger.warn({ pausedBy: pause.pausedBy, pausedAt: pause.pausedAt.toISOString(), reason: pause.reason },
          `the job was ${describePause(pause)}: stopping; what this run holds is finished or released`);
        stop.stopGracefully(describePause(pause));
      }
    } }).catch((error: unknown) => {
      throw new AbortRunError(`cannot read the run registry: ${describeDatabaseError(error)}`, {}, { cause: error });
    });
    for await (const page of pageTrace.read(deps.pages())) {
      if (page.superseded?.length && !stop.stopping.aborted) await supersede(page.superseded);
      for (const { notification, reason } of page.notYet ?? []) leaveOwed(notification, reason);
      const { reached, claimed } = await sendPage(page);
      pageTrace.claimed({ claimed, considered: reached });
      if (reached > 0) logPage(logger, { page: pages += 1, ...page, claimed, considered: reached, sentSoFar: counts.sent, describe });
      if (reached === page.notifications.length) await deps.settled?.(page);
      if (reached < page.notifications.length) {
        // Stopping: the rest of this page and the pages after it are not reached. A scan
        // reads in the job's order, not by date: what is not reached counts from here on.
        for (const notification of page.notifications.slice(reached)) backlog.leftBehind(notification.itemDate);
        break;
      }
    }
    finished = !stop.stopping.aborted;
  } catch (error) {
    failure = error;
    // A run that fails (the ledger or the items cannot be read or written) starts no request
    // it could not record; those in flight finish within the grace period.
    stop.stopGracefully(`the run failed: ${describeDatabaseError(error)}`);
    endLedgerTrouble();
  } finally {
    await inFlight.waitBelow(1);
    coordination?.stop();
    stop.dispose();
    closeHttpClient(http);
    counts.tokenFetches = tokens.fetches;
  }
  try {
    await recorder.flush();
    // Whatever this run still holds goes back at once, not when its lease expires.
    if (stop.stopping.aborted) await ledger.releaseAll(`released by a run that stopped: ${String(stop.stopping.reason)}`);
  } catch (error) {
    failure ??= ledgerUnwritable(error);
  } finally {
    // Only now: until its last outcome is written, the run still holds those claims.
    heartbeat.stop();
  }
  if (failure) throw failure;
  return { paused, finished };
}

function logPage(logger: JobContext['logger'], page: NotificationPage & { page: number; claimed: number; considered: number;
  sentSoFar: number; describe: DescribeItem }): void {
  const first = page.notifications[0] as Notification;
  const last = page.notifications[page.notifications.length - 1] as Notification;
  logger.info({ page: page.page, source: page.source, items: page.notifications.length, claimed: page.claimed,
    claimedElsewhere: page.considered - page.claimed, from: page.describe(first), to: page.describe(last), sentSoFar: page.sentSoFar },
  `page ${page.page} (${page.source === 'due' ? 'due again' : page.source === 'changed' ? 'changed behind the scan' : 'new'}): `
    + `claimed ${page.claimed} of ${page.notifications.length}`);
}

async function claim(ledger: DeliveryLedger, notifications: Notification[]): Promise<Set<string>> {
  try {
    return await ledger.claim(notifications);
  } catch (error) {
    throw ledgerUnwritable(error);
  }
}

function ledgerUnwritable(error: unknown): AbortRunError {
  return new AbortRunError(`cannot write the delivery ledger: ${describeDatabaseError(error)}; `
    + 'claims not recorded expire with their lease and the next run completes them', {}, { cause: error });
}
