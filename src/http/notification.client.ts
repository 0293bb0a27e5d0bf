import type { Readable } from 'node:stream';
import type { Axios, AxiosResponse } from 'axios';
import { discardBody, ERROR_BODY_BYTES, readBody, STREAMED } from './response-body.js';
import { withRetry, type FailedAttempt, type RetryOptions } from './retry.js';
import { classifyRequestError, classifyStatus, errorFromResponse, ServiceError } from './service-error.js';
import type { RateLimiter } from './rate-limiter.js';
import type { TokenCache } from './token-cache.js';
import { targetOf, traceEarlierTry, type EarlierTry } from '../tracing/http-spans.js';
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
  const target = () => targetOf('POST', deps.http.defaults.baseURL, PATH);
  /**
   * One request. Traced, `trace.span` is the notification's span: the first try is that
   * span (its start and answer kept in `trace.first`), drawn as a span of its own when a
   * second try begins; a retry is a span of its own under it.
   */
  const post = async (notification: Notification, token: string, resendCount: number, signal?: AbortSignal,
    trace?: NotificationTrace): Promise<AxiosResponse<Readable>> => {
    await deps.rateLimiter?.take(signal);
    if (trace?.first && resendCount === 1) traceEarlierTry(trace.span, target(), trace.first);
    const first = trace && resendCount === 0 ? (trace.first = { startTime: Date.now(), endTime: 0 }) : undefined;
    try {
      // request(), not post(): post() merges its arguments into a config of their own first.
      const response = await deps.http.request<Readable>({
        method: 'post',
        url: PATH,
        data: { message: notification.message },
        ...STREAMED,
        signal,
        // Read by the request's trace span (its parent, http.request.resend_count); axios passes them through.
        ...(trace ? (first ? { traceAs: trace.span } : { traceParent: trace.span, resendCount }) : {}),
        headers: {
          Authorization: `Bearer ${token}`,
          'Idempotency-Key': notification.key,
          'Content-Type': 'application/json',
        },
      });
      if (first) Object.assign(first, { endTime: Date.now(), status: response.status });
      return response;
    } catch (error) {
      const failure = classifyRequestError(error, ENDPOINT);
      if (first) Object.assign(first, { endTime: Date.now(), error: failure });
      throw failure;
    }
  };

  return {
    send(notification, options = {}) {
      if (!tracingEnabled()) return send(notification, options);
      const { name, attributes } = target();
      return withSpan(name, { kind: 'client', parent: options.traceParent,
        attributes: { ...attributes, 'sweep.workspace.id': notification.workspaceId, 'sweep.notification.key': notification.key } },
        async (span) => {
          try {
            const delivered = await send(notification, options, { span });
            span.setAttributes({ 'sweep.notification.attempts': delivered.attempts, 'http.response.status_code': delivered.status });
            return delivered;
          } catch (error) {
            if (error instanceof ServiceError && error.status !== undefined) span.setAttribute('http.response.status_code', error.status);
            throw error;
          }
        });
    },
  };

  /** One notification's tries; traced, `trace.span` is its own span, the parent of its retries and waits. */
  async function send(notification: Notification, { onFailedAttempt, signal }: SendOptions, trace?: NotificationTrace): Promise<Delivered> {
    let attempts = 0;
    return withRetry(async () => {
      const token = await deps.tokens.get(notification.workspaceId, signal);
      let response = await post(notification, token, attempts++, signal, trace);
      if (classifyStatus(response.status) === 'unauthorized') {
        discardBody(response);
        deps.tokens.invalidate(notification.workspaceId, token);
        response = await post(notification, await deps.tokens.get(notification.workspaceId, signal), attempts++, signal, trace);
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
    }, { ...deps.retry, onFailedAttempt, signal, traceParent: trace?.span });
  }
}

/** A traced notification: its span, and its first try, drawn as a span of its own only if another try follows. */
interface NotificationTrace {
  span: TraceSpan;
  first?: EarlierTry;
}

export { ENDPOINT as NOTIFY_ENDPOINT };
