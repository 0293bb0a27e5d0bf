import type { Readable } from 'node:stream';
import type { Axios, AxiosResponse } from 'axios';
import { discardBody, ERROR_BODY_BYTES, readBody, STREAMED } from './response-body.js';
import { withRetry, type FailedAttempt, type RetryOptions } from './retry.js';
import { classifyRequestError, classifyStatus, errorFromResponse, ServiceError } from './service-error.js';
import type { RateLimiter } from './rate-limiter.js';
import type { TokenCache } from './token-cache.js';
import { tracingEnabled, withSpan, type TraceSpan } from '../tracing/tracing.js';

const PATH = '/notify/notifications';
const ENDPOINT = `POST ${PATH}`;

export interface Notification {
  workspaceId: string;
  key: string;
  message: string;
}

export interface Delivered {
  /** 200-202, or 409: the key had been accepted before. */
  status: number;
  /** Requests it took, retries and the 401 refresh included. */
  attempts: number;
}

export interface SendOptions {
  /** Told of each failed request, retried or not. */
  onFailedAttempt?: (failure: FailedAttempt) => void;
  /** Aborts the request in flight and any wait before a retry. */
  signal?: AbortSignal;
  /** The span the notification's own span goes under (its page's), when the run is traced. */
  traceParent?: TraceSpan;
}

export interface NotificationClient {
  send(notification: Notification, options?: SendOptions): Promise<Delivered>;
}

/**
 * POST /notify/notifications as docs/services-contract.md defines it: the
 * workspace's own token, the Idempotency-Key on every try, one token refresh on 401,
 * retries with backoff for what is transient.
 */
export function createNotificationClient(deps: {
  http: Axios;
  tokens: TokenCache;
  retry: RetryOptions;
  /** Paces every request, retries included (--max-rate). */
  rateLimiter?: RateLimiter;
}): NotificationClient {
  const post = async (notification: Notification, token: string, resendCount: number, signal?: AbortSignal,
    traceParent?: TraceSpan): Promise<AxiosResponse<Readable>> => {
    await deps.rateLimiter?.take(signal);
    try {
      // request(), not post(): post() merges its arguments into a config of their own first.
      return await deps.http.request<Readable>({
        method: 'post',
        url: PATH,
        data: { message: notification.message },
        ...STREAMED,
        signal,
        // Read by the request's trace span (its parent, http.request.resend_count); axios passes them through.
        ...(resendCount > 0 ? { resendCount } : {}),
        ...(traceParent ? { traceParent } : {}),
        headers: {
          Authorization: `Bearer ${token}`,
          'Idempotency-Key': notification.key,
          'Content-Type': 'application/json',
        },
      });
    } catch (error) {
      throw classifyRequestError(error, ENDPOINT);
    }
  };

  return {
    send(notification, options = {}) {
      if (!tracingEnabled()) return send(notification, options);
      return withSpan('notify', { parent: options.traceParent,
        attributes: { 'sweep.workspace.id': notification.workspaceId, 'sweep.notification.key': notification.key } },
        async (span) => {
          const delivered = await send(notification, { ...options, traceParent: span });
          span.setAttributes({ 'sweep.notification.attempts': delivered.attempts, 'http.response.status_code': delivered.status });
          return delivered;
        });
    },
  };

  /** One notification's tries; `traceParent` here is its own span, the parent of its requests and waits. */
  async function send(notification: Notification, { onFailedAttempt, signal, traceParent }: SendOptions): Promise<Delivered> {
    let attempts = 0;
    return withRetry(async () => {
      attempts += 1;
      const token = await deps.tokens.get(notification.workspaceId, signal);
      let response = await post(notification, token, attempts - 1, signal, traceParent);
      if (classifyStatus(response.status) === 'unauthorized') {
        discardBody(response);
        deps.tokens.invalidate(notification.workspaceId, token);
        attempts += 1;
        response = await post(notification, await deps.tokens.get(notification.workspaceId, signal), attempts - 1, signal, traceParent);
      }
      const outcome = classifyStatus(response.status);
      // Accepted is accepted, whatever the body says or however long it is.
      if (outcome === 'ok' || outcome === 'conflict') {
        discardBody(response);
        return { status: response.status, attempts };
      }
      const body = await readBody(response, ERROR_BODY_BYTES).catch((caught: unknown) => {
        throw classifyRequestError(caught, ENDPOINT);
      });
      const error = errorFromResponse(ENDPOINT, response.status, response.headers as Record<string, unknown>, body.data);
      // A second 401 right after a fresh token: the service refuses us, retrying will not help.
      throw error.kind === 'unauthorized' ? new ServiceError(`${error.message} (after a token refresh)`, 'permanent', error.details) : error;
    }, { ...deps.retry, onFailedAttempt, signal, traceParent });
  }
}

export { ENDPOINT as NOTIFY_ENDPOINT };
