import pLimit from 'p-limit';
import type { Knex } from 'knex';
import { describeDatabaseError } from '../../database/database.js';
import { closeHttpClient, createHttpClient } from '../../http/http-client.js';
import { createCircuitBreaker } from '../../http/circuit-breaker.js';
import { createRateLimiter } from '../../http/rate-limiter.js';
import { createTokenCache } from '../../http/token-cache.js';
import { fetchWorkspaceToken } from '../../http/token.client.js';
import { createDeliveryLedger, type DeliveryLedger } from '../../ledger/deliveries.js';
import { startLeaseRenewal } from '../../ledger/lease-renewal.js';
import { createOutcomeRecorder } from '../../ledger/outcome-recorder.js';
import { AbortRunError } from '../../runner/errors.js';
import { claimBatchSize } from '../../sweep/claim-batch.js';
import { createInFlight } from '../../sweep/in-flight.js';
import type { JobContext, JobResult } from '../../runner/job.type.js';
import { todayUtc } from '../../runner/option-parsers.js';
import { createStopControl } from '../../sweep/stop-control.js';
import { countDelayedTodos, getDelayedTodos } from './delayed-todo.dao.js';
import type { DelayedTodo, DelayedTodoCursor, SendDelayNotificationsOptions } from './delayed-todo.type.js';
import { createDeliverer, itemContext } from './delay-notification.deliverer.js';
import { createNotificationClient } from '../../http/notification.client.js';
import { delayNotificationKey, JOB_NAME } from './notification-key.js';

type Counts = ReturnType<typeof newCounts>;

const newCounts = () => ({
  delayed: 0, alreadySent: 0, previouslyFailed: 0, found: 0, claimed: 0, sent: 0, duplicates: 0,
  failedPermanently: 0, failedTransiently: 0, dead: 0, claimedElsewhere: 0,
  workspacesWithoutToken: 0, skippedWithoutToken: 0, released: 0, tokenFetches: 0,
});

const TABLE: Array<[string, string]> = [
  ['delayed todos', 'delayed'],
  ['already notified before this run', 'alreadySent'],
  ['to notify (found this run)', 'found'],
  ['sent', 'sent'],
  ['  of which already accepted (409)', 'duplicates'],
  ['failed permanently (recorded, skipped)', 'failedPermanently'],
  ['failed transiently (next run retries)', 'failedTransiently'],
  ['dead (out of attempts)', 'dead'],
  ['skipped: another run has them, or backing off', 'claimedElsewhere'],
  ['skipped: no token for their workspace', 'skippedWithoutToken'],
  ['released unsent (run stopped early)', 'released'],
  ['tokens fetched', 'tokenFetches'],
  ['rate (notifications/s)', 'ratePerSecond'],
];

/**
 * Pages through the delayed todos not yet notified, claims each page in the ledger,
 * sends one notification per claimed todo (bounded by p-limit, retried by p-retry)
 * and records every outcome in batches. Reading the next page overlaps sending the
 * current one, so the notify service's latency, not the database, sets the pace.
 */
export async function sendDelayNotifications(context: JobContext, options: SendDelayNotificationsOptions): Promise<JobResult> {
  const { db, logger } = context;
  const runDate = options.date ?? todayUtc();
  const counts = newCounts();
  const totals = await countDelayedTodos(db, runDate).catch((error: unknown) => {
    throw unreadable(error, { runDate });
  });
  const { firstToDo, ...totalCounts } = totals;
  Object.assign(counts, totalCounts);
  logger.info({ runDate, ...totalCounts, firstToDo },
    `${totals.delayed} delayed todo(s) as of ${runDate}: ${totals.alreadySent} already notified, ${totals.previouslyFailed} failed earlier`);
  // Where the scan starts: todos due earlier are all settled, as of the count. One due
  // earlier that appears after it (created late, or moved back) is the next run's work.
  const scan = { runDate, from: firstToDo };

  const startedAt = performance.now();
  const progress = setInterval(() => context.printer.progress(describeProgress(counts, startedAt)), 1000);
  progress.unref();
  const backlog = createBacklog();
  try {
    if (options.dryRun) await listWouldSend(context, scan, options.pageSize, counts, backlog);
    else await sendAll(context, options, scan, counts, backlog);
  } finally {
    clearInterval(progress);
    context.printer.clearProgress();
  }
  const seconds = (performance.now() - startedAt) / 1000;
  recordBacklog(context, backlog.oldestDueDate);

  if (counts.found === 0 && counts.delayed > 0 && counts.delayed === counts.alreadySent) {
    logger.info({ runDate, alreadySent: counts.alreadySent }, `all ${counts.delayed} delayed todo(s) were already notified: nothing to send`);
  } else if (counts.found === 0) {
    logger.info({ runDate }, 'no delayed todo to notify');
  }
  return {
    outcome: counts.failedTransiently > 0 || counts.skippedWithoutToken > 0 || counts.released > 0 ? 'partial' : 'done',
    counts,
    details: { runDate, dryRun: options.dryRun, ratePerSecond: seconds > 0 ? Math.round((counts.sent / seconds) * 10) / 10 : 0 },
    table: options.dryRun ? [['delayed todos', 'delayed'], ['would send', 'found']] : TABLE,
  };
}

async function listWouldSend({ db, logger }: JobContext, scan: Scan, pageSize: number, counts: Counts, backlog: Backlog): Promise<void> {
  for await (const page of readPages(db, scan, pageSize)) {
    counts.found += page.length;
    for (const todo of page) {
      backlog.leftBehind(todo.dueDate);
      logger.info(itemContext(todo), 'dry run: would send a delay notification');
    }
  }
}

interface Backlog {
  /** A delayed todo this run leaves to a later one. */
  leftBehind(dueDate: string): void;
  readonly oldestDueDate: string | undefined;
}

/**
 * The oldest due date among the todos a run leaves to a later run: retried, released,
 * without a token, held by another run or backing off, or not reached because the run
 * stopped. The scan visits every todo still to do, oldest first, so this costs no query
 * (a query at the end walked every delayed todo again). Todos refused for good (failed,
 * dead) are not in it: they have an alert of their own.
 */
function createBacklog(): Backlog {
  let oldest: string | undefined;
  return {
    leftBehind(dueDate) {
      // YYYY-MM-DD strings sort as the dates they name.
      if (oldest === undefined || dueDate < oldest) oldest = dueDate;
    },
    get oldestDueDate() {
      return oldest;
    },
  };
}

/** The live line at a terminal: found so far, sent, failed, rate, elapsed. */
export function describeProgress(counts: Counts, startedAt: number, now = performance.now()): string {
  const seconds = Math.max(0.001, (now - startedAt) / 1000);
  const failed = counts.failedPermanently + counts.failedTransiently;
  return `found ${counts.found} · sent ${counts.sent} · failed ${failed} · ${Math.round(counts.sent / seconds)}/s · ${Math.round(seconds)} s`;
}

/** The age of the oldest delayed todo left to a later run: the backlog an alert should watch. */
function recordBacklog({ metrics, logger }: JobContext, oldest: string | undefined): void {
  const ageSeconds = oldest ? Math.max(0, (Date.now() - Date.parse(`${oldest}T00:00:00Z`)) / 1000) : 0;
  metrics.setGauge('sweep_delay_backlog_oldest_age_seconds',
    'Age of the oldest delayed todo left to a later run (0: none), measured from its due date.', ageSeconds);
  if (oldest) logger.debug({ oldestDueDate: oldest }, 'oldest delayed todo left to a later run');
}

async function sendAll(context: JobContext, options: SendDelayNotificationsOptions, scan: Scan, counts: Counts,
  backlog: Backlog): Promise<void> {
  const { db, logger, config } = context;
  const runId = context.runId ?? '';
  const leaseMs = options.leaseSeconds * 1000;
  const ledger = createDeliveryLedger(db, {
    job: JOB_NAME, runId, leaseMs, maxAttempts: options.maxAttempts,
    retryBackoffMs: options.retryBackoffSeconds * 1000, retryBackoffMaxMs: 6 * 3600 * 1000,
  });
  const recorder = createOutcomeRecorder(ledger, {
    maxBatch: Math.min(options.pageSize, 500),
    onRecorded: ({ notSent }) => {
      for (const row of notSent.filter((r) => r.status === 'dead')) {
        counts.dead += 1;
        logger.error({ workspaceId: row.workspace_id, todoId: row.item_id, key: row.key, attempts: row.attempts,
          lastStatus: row.last_status, lastError: row.last_error },
        `notification is dead after ${row.attempts} attempts: no longer retried (sweep deliveries --status dead; re-arm with sweep deliveries retry)`);
      }
    },
  });
  const http = createHttpClient({
    baseURL: config.servicesUrl, timeoutMs: config.http.timeoutMs, maxSockets: options.concurrency,
    onRequestDone: (endpoint, outcome, seconds) => context.metrics.requestDuration.observe({ endpoint, outcome }, seconds),
  });
  const tokens = createTokenCache({
    fetchToken: async (workspaceId, signal) => {
      const issued = await fetchWorkspaceToken(http, { clientId: config.serviceClientId, clientSecret: config.serviceClientSecret }, workspaceId,
        { signal, retry: { retries: config.http.retries, baseMs: config.http.retryBaseMs, maxMs: config.http.retryMaxMs } });
      logger.info({ workspaceId, expiresInSeconds: Math.round(issued.expiresInMs / 1000) }, 'fetched a token for the workspace');
      return issued;
    },
  });
  const client = createNotificationClient({
    http, tokens, rateLimiter: options.maxRate ? createRateLimiter(options.maxRate) : undefined,
    retry: { retries: config.http.retries, baseMs: config.http.retryBaseMs, maxMs: config.http.retryMaxMs },
  });
  const stop = createStopControl(context.signal, options.graceSeconds * 1000, (reason) => logger.warn({ reason,
    graceSeconds: options.graceSeconds }, 'stopping: no new claims; requests in flight may finish within the grace period'));
  const deliver = createDeliverer({ client, recorder, logger, counts, stop, breaker: createCircuitBreaker(),
    onLeftBehind: (todo) => backlog.leftBehind(todo.dueDate) });
  const limit = pLimit(options.concurrency);
  const inFlight = createInFlight();
  const stopRenewal = startLeaseRenewal({ db, ledger, runId, leaseMs, logger });

  const claimBatch = claimBatchSize(options.concurrency, options.pageSize);
  /**
   * Claims a page a batch at a time, each once the requests queued before it are nearly
   * all under way, and queues what it claimed: this run holds little more than it is
   * about to send, so runners sharing a sweep finish together. Returns how many of the
   * page's todos it reached (fewer when the run is stopping) and claimed.
   */
  const sendPage = async (page: DelayedTodo[]): Promise<{ reached: number; claimed: number }> => {
    let reached = 0;
    let claimedOnPage = 0;
    for (; reached < page.length && !stop.stopping.aborted; reached += claimBatch) {
      await inFlight.waitBelow(options.concurrency + claimBatch);
      if (stop.stopping.aborted) break;
      const batch = page.slice(reached, reached + claimBatch);
      counts.found += batch.length;
      const claimed = await claimTodos(ledger, batch);
      claimedOnPage += claimed.size;
      counts.claimed += claimed.size;
      for (const todo of batch) {
        if (claimed.has(delayNotificationKey(todo))) {
          inFlight.track(limit(() => deliver(todo)));
        } else {
          counts.claimedElsewhere += 1;
          backlog.leftBehind(todo.dueDate);
          logger.debug(itemContext(todo), 'claimed by another live run, or backing off after a failure: skipping it');
        }
      }
      if (recorder.failure) throw ledgerUnwritable(recorder.failure);
    }
    return { reached: Math.min(reached, page.length), claimed: claimedOnPage };
  };

  let failure: unknown;
  let pages = 0;
  try {
    for await (const page of readPages(db, scan, options.pageSize)) {
      const { reached, claimed } = await sendPage(page);
      if (reached > 0) logPage(logger, { page: pages += 1, todos: page, claimed, considered: reached, sentSoFar: counts.sent });
      if (reached < page.length) {
        // Stopping: the rest of this page and the pages after it are not reached, none of
        // them older than the first todo not reached.
        backlog.leftBehind((page[reached] as DelayedTodo).dueDate);
        break;
      }
    }
  } catch (error) {
    failure = error;
  } finally {
    await inFlight.waitBelow(1);
    stopRenewal();
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
  }
  if (failure) throw failure;
}

function logPage(logger: JobContext['logger'],
  { page, todos, claimed, considered, sentSoFar }: { page: number; todos: DelayedTodo[]; claimed: number; considered: number; sentSoFar: number }): void {
  const first = todos[0] as DelayedTodo;
  const last = todos[todos.length - 1] as DelayedTodo;
  logger.info({ page, todos: todos.length, claimed, claimedElsewhere: considered - claimed,
    from: { dueDate: first.dueDate, todoId: first.id }, to: { dueDate: last.dueDate, todoId: last.id }, sentSoFar },
  `page ${page}: claimed ${claimed} of ${todos.length} todo(s)`);
}

/** Which delayed todos a run pages through: due before runDate, from `from` on; none without `from`. */
interface Scan {
  runDate: string;
  from: string | undefined;
}

/** Pages of delayed todos in (due_date, id) order; the cursor only ever moves forward. */
async function* readPages(db: Knex, { runDate, from }: Scan, pageSize: number): AsyncGenerator<DelayedTodo[]> {
  if (from === undefined) return;
  let after: DelayedTodoCursor | undefined;
  for (;;) {
    const page = await getDelayedTodos(db, { runDate, after, from, limit: pageSize }).catch((error: unknown) => {
      throw unreadable(error, { runDate, after });
    });
    if (page.length > 0) yield page;
    if (page.length < pageSize) return;
    const last = page[page.length - 1] as DelayedTodo;
    after = { dueDate: last.dueDate, id: last.id };
  }
}

async function claimTodos(ledger: DeliveryLedger, todos: DelayedTodo[]): Promise<Set<string>> {
  try {
    return await ledger.claim(todos.map((todo) => ({
      key: delayNotificationKey(todo), workspaceId: todo.workspaceId, itemId: todo.id, itemDate: todo.dueDate,
    })));
  } catch (error) {
    throw ledgerUnwritable(error);
  }
}

function unreadable(error: unknown, context: Record<string, unknown>): AbortRunError {
  return new AbortRunError(`cannot read the delayed todos: ${describeDatabaseError(error)}`, context, { cause: error });
}

function ledgerUnwritable(error: unknown): AbortRunError {
  return new AbortRunError(`cannot write the delivery ledger: ${describeDatabaseError(error)}; `
    + 'claims not recorded expire with their lease and the next run completes them', {}, { cause: error });
}
