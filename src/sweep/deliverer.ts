import type { CircuitBreaker } from '../http/circuit-breaker.js';
import type { NotificationClient } from '../http/notification.client.js';
import { ServiceError } from '../http/service-error.js';
import { TOKEN_ENDPOINT } from '../http/token.client.js';
import type { OutcomeRecorder } from '../ledger/outcome-recorder.js';
import type { Logger } from '../logging/logger.js';
import { contractViolation } from './notification-contract.js';
import type { ItemRef, Notification } from './notification-job.js';
import type { TraceSpan } from '../tracing/tracing.js';
import type { StopControl } from './stop-control.js';
import type { SweepCounts } from './sweep-counts.js';

/** An item's log fields: its workspace, the job's own names for it, its key. */
export type DescribeItem = (notification: Pick<Notification, 'key' | 'workspaceId' | 'itemId' | 'itemDate'>) => Record<string, unknown>;

export function itemContext(describe: (item: ItemRef) => Record<string, unknown>): DescribeItem {
  return (notification) => ({ workspaceId: notification.workspaceId, ...describe(notification), key: notification.key });
}

/**
 * Sends one notification and hands its outcome to the recorder; never throws, so one
 * failing item never stops the page. Work that has not started when the run stops, or
 * that the run abandons, is released to the next run without spending an attempt: the
 * Idempotency-Key makes a second send of an abandoned request harmless.
 */
export function createDeliverer(deps: {
  client: NotificationClient;
  recorder: OutcomeRecorder;
  logger: Logger;
  counts: SweepCounts;
  stop: StopControl;
  breaker: CircuitBreaker;
  describe: DescribeItem;
  /** Told of each notification this run leaves to a later one (retry, released, no token). */
  onLeftBehind: (notification: Notification) => void;
  /** While the ledger cannot be written, what resolves once it can again (or the run stops): no request starts before. */
  ledgerWritable?: () => Promise<void> | undefined;
}) {
  const { client, recorder, logger, counts, stop, breaker, describe, onLeftBehind, ledgerWritable } = deps;
  const workspacesWithoutToken = new Set<string>();

  const release = (notification: Notification, reason: string) => {
    counts.released += 1;
    onLeftBehind(notification);
    recorder.add({ key: notification.key, result: 'released', error: reason });
  };

  // The per-item context is built only for a line that is written: the happy path of a
  // big sweep runs this function millions of times.
  const debugEnabled = () => logger.isLevelEnabled('debug');

  /** `traceParent`: the span of the notification's page, when the run is traced. */
  return async (notification: Notification, traceParent?: TraceSpan): Promise<void> => {
    const { key } = notification;
    const writable = ledgerWritable?.();
    if (writable) await writable;
    if (stop.stopping.aborted) return release(notification, `not started: ${String(stop.stopping.reason)}`);
    const violation = contractViolation(notification);
    if (violation) {
      counts.failedPermanently += 1;
      logger.warn({ ...describe(notification), reason: violation }, 'notification refused before sending: it breaks the notify '
        + 'contract; recorded as failed, skipping it');
      return recorder.add({ key, result: 'failed', error: `not sent: ${violation}` });
    }
    try {
      const delivered = await client.send({ workspaceId: notification.workspaceId, key, message: notification.message }, {
        signal: stop.cancelled,
        traceParent,
        onFailedAttempt: ({ error, attemptNumber, willRetry }) => {
          if (error.kind === 'transient' && breaker.record(false) && !stop.cancelled.aborted) {
            logger.error({ reason: breaker.reason }, 'the notify service looks down: stopping this run without spending '
              + 'attempts; its claims are released for the next run');
            stop.cancel('the notify service looks down');
          }
          if (debugEnabled()) {
            logger.debug({ ...describe(notification), status: error.status, code: error.details.code, attempt: attemptNumber,
              reason: error.message }, willRetry ? 'notification attempt failed: retrying' : 'notification attempt failed');
          }
        },
      });
      breaker.record(true);
      counts.sent += 1;
      if (delivered.status === 409) counts.duplicates += 1;
      // debug, not info: at millions a day one line per send would be most of the run's CPU
      // and of the log store; the ledger (sweep deliveries) answers "was it sent", and each
      // page gets an info line.
      if (debugEnabled()) {
        logger.debug({ ...describe(notification), status: delivered.status, attempts: delivered.attempts },
          delivered.status === 409 ? 'notification was already accepted earlier (409): recorded as sent' : 'sent a notification');
      }
      recorder.add({ key, result: 'sent', httpStatus: delivered.status });
    } catch (caught) {
      if (stop.cancelled.aborted) {
        logger.info(describe(notification), 'run stopped before this notification was answered: released for the next run');
        return release(notification, `abandoned: ${String(stop.cancelled.reason)}`);
      }
      const error = caught instanceof ServiceError
        ? caught
        : new ServiceError(`unexpected error: ${(caught as Error)?.message ?? String(caught)}`, 'transient', { endpoint: 'client' });
      if (error.details.endpoint === TOKEN_ENDPOINT && error.kind === 'permanent') {
        counts.skippedWithoutToken += 1;
        if (!workspacesWithoutToken.has(notification.workspaceId)) {
          workspacesWithoutToken.add(notification.workspaceId);
          counts.workspacesWithoutToken += 1;
          logger.error({ workspaceId: notification.workspaceId, status: error.status, reason: error.message },
            'no token for this workspace: skipping all its items in this run; the next run tries them again');
        }
        onLeftBehind(notification);
        return recorder.add({ key, result: 'released', error: error.message });
      }
      const failure = { ...describe(notification), status: error.status, code: error.details.code, reason: error.message };
      if (error.kind === 'permanent') {
        counts.failedPermanently += 1;
        logger.warn(failure, 'notification refused: recorded as failed, skipping it');
        recorder.add({ key, result: 'failed', httpStatus: error.status, error: error.message });
      } else {
        counts.failedTransiently += 1;
        logger.warn(failure, 'notification failed after its retries: skipping it, a later run retries it');
        onLeftBehind(notification);
        recorder.add({ key, result: 'retry', httpStatus: error.status, error: error.message });
      }
    }
  };
}
