import type { CircuitBreaker } from '../../http/circuit-breaker.js';
import { ServiceError } from '../../http/service-error.js';
import { TOKEN_ENDPOINT } from '../../http/token.client.js';
import type { OutcomeRecorder } from '../../ledger/outcome-recorder.js';
import type { Logger } from '../../logging/logger.js';
import type { StopControl } from '../../sweep/stop-control.js';
import type { DelayedTodo } from './delayed-todo.type.js';
import type { NotificationClient } from '../../http/notification.client.js';
import { delayNotificationKey, delayNotificationMessage } from './notification-key.js';

export interface DeliveryCounts {
  sent: number;
  duplicates: number;
  failedPermanently: number;
  failedTransiently: number;
  workspacesWithoutToken: number;
  skippedWithoutToken: number;
  released: number;
}

export function itemContext(todo: DelayedTodo) {
  return { workspaceId: todo.workspaceId, todoId: todo.id, dueDate: todo.dueDate, key: delayNotificationKey(todo) };
}

/**
 * Sends one todo's notification and hands its outcome to the recorder; never throws,
 * so one failing item never stops the page. Work that has not started when the run
 * stops, or that the run abandons, is released to the next run without spending an
 * attempt: the Idempotency-Key makes a second send of an abandoned request harmless.
 */
export function createDeliverer(deps: {
  client: NotificationClient;
  recorder: OutcomeRecorder;
  logger: Logger;
  counts: DeliveryCounts;
  stop: StopControl;
  breaker: CircuitBreaker;
  /** Told of each todo this run leaves to a later one (retry, released, no token). */
  onLeftBehind?: (todo: DelayedTodo) => void;
}) {
  const { client, recorder, logger, counts, stop, breaker, onLeftBehind } = deps;
  const workspacesWithoutToken = new Set<string>();

  const release = (todo: DelayedTodo, key: string, reason: string) => {
    counts.released += 1;
    onLeftBehind?.(todo);
    recorder.add({ key, result: 'released', error: reason });
  };

  // The per-item context is built only for a line that is written: the happy path of a
  // big sweep runs this function millions of times.
  const debugEnabled = () => logger.isLevelEnabled('debug');

  return async (todo: DelayedTodo): Promise<void> => {
    const key = delayNotificationKey(todo);
    if (stop.stopping.aborted) return release(todo, key, `not started: ${String(stop.stopping.reason)}`);
    try {
      const delivered = await client.send({ workspaceId: todo.workspaceId, key, message: delayNotificationMessage(todo) }, {
        signal: stop.cancelled,
        onFailedAttempt: ({ error, attemptNumber, willRetry }) => {
          if (error.kind === 'transient' && breaker.record(false) && !stop.cancelled.aborted) {
            logger.error({ reason: breaker.reason }, 'the notify service looks down: stopping this run without spending '
              + 'attempts; its claims are released for the next run');
            stop.cancel('the notify service looks down');
          }
          if (debugEnabled()) {
            logger.debug({ ...itemContext(todo), status: error.status, code: error.details.code, attempt: attemptNumber, reason: error.message },
              willRetry ? 'notification attempt failed: retrying' : 'notification attempt failed');
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
        logger.debug({ ...itemContext(todo), status: delivered.status, attempts: delivered.attempts },
          delivered.status === 409 ? 'notification was already accepted earlier (409): recorded as sent' : 'sent a delay notification');
      }
      recorder.add({ key, result: 'sent', httpStatus: delivered.status });
    } catch (caught) {
      const context = itemContext(todo);
      if (stop.cancelled.aborted) {
        logger.info(context, 'run stopped before this notification was answered: released for the next run');
        return release(todo, key, `abandoned: ${String(stop.cancelled.reason)}`);
      }
      const error = caught instanceof ServiceError
        ? caught
        : new ServiceError(`unexpected error: ${(caught as Error)?.message ?? String(caught)}`, 'transient', { endpoint: 'client' });
      const failure = { ...context, status: error.status, code: error.details.code, reason: error.message };
      if (error.details.endpoint === TOKEN_ENDPOINT && error.kind === 'permanent') {
        counts.skippedWithoutToken += 1;
        if (!workspacesWithoutToken.has(todo.workspaceId)) {
          workspacesWithoutToken.add(todo.workspaceId);
          counts.workspacesWithoutToken += 1;
          logger.error({ workspaceId: todo.workspaceId, status: error.status, reason: error.message },
            'no token for this workspace: skipping all its todos in this run; the next run tries them again');
        }
        onLeftBehind?.(todo);
        recorder.add({ key, result: 'released', error: error.message });
      } else if (error.kind === 'permanent') {
        counts.failedPermanently += 1;
        logger.warn(failure, 'notification refused: recorded as failed, skipping it');
        recorder.add({ key, result: 'failed', httpStatus: error.status, error: error.message });
      } else {
        counts.failedTransiently += 1;
        logger.warn(failure, 'notification failed after its retries: skipping it, a later run retries it');
        onLeftBehind?.(todo);
        recorder.add({ key, result: 'retry', httpStatus: error.status, error: error.message });
      }
    }
  };
}
