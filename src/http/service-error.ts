import { redactSecrets } from '../logging/secret-registry.js';

/**
 * How a call to another team's service ended, mapped in this one place from HTTP
 * statuses and socket errors, as the contract prescribes (docs/services-contract.md).
 * - permanent: the request is wrong or refused; retrying cannot help.
 * - transient: the service or the network had a bad moment; retry with backoff.
 * - unauthorized: the token was refused (401); refresh it once and try again.
 */
export type FailureKind = 'permanent' | 'transient' | 'unauthorized';

export class ServiceError extends Error {
  constructor(
    message: string,
    readonly kind: FailureKind,
    readonly details: {
      endpoint: string;
      status?: number;
      code?: string;
      /** From a Retry-After header: how long the service asked us to wait. */
      retryAfterMs?: number;
    },
  ) {
    super(message);
    this.name = 'ServiceError';
  }

  get status(): number | undefined {
    return this.details.status;
  }
}

/** What an answer's status means for the caller. */
export type StatusClass = 'ok' | 'conflict' | FailureKind;

export function classifyStatus(status: number): StatusClass {
  if (status >= 200 && status < 300) return 'ok';
  if (status === 409) return 'conflict';
  if (status === 401) return 'unauthorized';
  // 408 and 429 are the 4xx that invite a retry.
  if (status === 408 || status === 429 || status >= 500) return 'transient';
  return 'permanent';
}

/** Socket and client errors that say nothing about the request itself. */
const TRANSIENT_CODES = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'ETIMEDOUT', 'ESOCKETTIMEDOUT', 'EPIPE', 'EAI_AGAIN',
  'ENETUNREACH', 'EHOSTUNREACH', 'ENOTFOUND', 'ERR_SOCKET_CONNECTION_TIMEOUT', 'UND_ERR_SOCKET',
  // The egress proxy refused or could not open the way (proxy-routes.ts): a network failure, retried as one.
  'EPROXY',
]);

/** Classifies an error thrown before any answer arrived (axios sets `code`). */
export function classifyRequestError(error: unknown, endpoint: string): ServiceError {
  const e = error as { code?: string; message?: string };
  const code = e.code ?? 'UNKNOWN';
  if (code === 'ECONNABORTED' || code === 'ETIMEDOUT' || /timeout/i.test(e.message ?? '')) {
    return new ServiceError(`no answer from ${endpoint} within the timeout`, 'transient', { endpoint, code: 'ETIMEDOUT' });
  }
  if (code === 'ERR_CANCELED') {
    // Our own signal ended it (the run stopping): nothing is known about the request.
    return new ServiceError(`request to ${endpoint} was cancelled`, 'transient', { endpoint, code });
  }
  // The transport marks a failure on the way through the proxy; AxiosError.from keeps it as the cause.
  const through = e as { proxy?: string; cause?: { proxy?: string } };
  if (through.proxy ?? through.cause?.proxy) {
    // The proxy's own words (which proxy, what it refused): the way out, not the service, failed.
    return new ServiceError(`connection to ${endpoint} failed (${code}): ${sanitize(e.message ?? '')}`, 'transient', { endpoint, code });
  }
  if (TRANSIENT_CODES.has(code) || /socket hang up/i.test(e.message ?? '')) {
    return new ServiceError(`connection to ${endpoint} failed (${code})`, 'transient', { endpoint, code });
  }
  if (code === 'ERR_BAD_RESPONSE' && /maxContentLength/i.test(e.message ?? '')) {
    return new ServiceError(`answer from ${endpoint} is larger than allowed`, 'permanent', { endpoint, code: 'ERR_BODY_TOO_LARGE' });
  }
  // Certificate errors and anything unknown: retrying will not fix them, and an
  // unknown error hammered in a loop hides the real problem.
  return new ServiceError(`request to ${endpoint} failed: ${sanitize(e.message ?? String(error))}`, 'permanent', { endpoint, code });
}

/** Classifies an answer that is not a success. */
export function errorFromResponse(
  endpoint: string,
  status: number,
  headers: Record<string, unknown>,
  body: unknown,
  now: number = Date.now(),
): ServiceError {
  const kind = classifyStatus(status);
  const reason = describeBody(body);
  if (status >= 300 && status < 400) {
    // Never followed: an Authorization header must not travel to another host.
    return new ServiceError(`${endpoint} answered ${status} (redirect, not followed)`, 'permanent', { endpoint, status });
  }
  const retryAfterMs = status === 429 || status === 503 ? parseRetryAfter(headers['retry-after'], now) : undefined;
  return new ServiceError(`${endpoint} answered ${status}${reason ? `: ${reason}` : ''}`,
    kind === 'ok' || kind === 'conflict' ? 'permanent' : kind, { endpoint, status, retryAfterMs });
}

/** Retry-After is either seconds or an HTTP date (RFC 9110 §10.2.3); undefined when absent or unreadable. */
export function parseRetryAfter(value: unknown, now: number = Date.now()): number | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/** A short, single-line reason from an error body, never the body's secrets in full. */
function describeBody(body: unknown): string {
  if (body === undefined || body === null || body === '') return '';
  if (typeof body === 'object') {
    const b = body as { error?: unknown; message?: unknown; error_description?: unknown };
    const parts = [b.error, b.error_description, b.message].filter((p) => typeof p === 'string');
    if (parts.length > 0) return sanitize(parts.join(' - '));
  }
  return sanitize(typeof body === 'string' ? body : JSON.stringify(body));
}

function sanitize(text: string): string {
  // Secrets go before anything is cut: half a secret is still too much of it.
  // One line without control characters: it goes to logs, tables and terminals.
  const oneLine = redactSecrets(text).replace(/[\s\p{Cc}]+/gu, ' ').trim();
  // Bearer values echoed back by a service must not reach our logs, registered or not.
  const noTokens = oneLine.replace(/\b(bearer|basic)\b(?:[\s:]+(?:bearer|basic)\b)*[\s:]*[^\s"',;}]+/gi, '$1 [redacted]');
  return noTokens.length > 200 ? `${noTokens.slice(0, 200)}…` : noTokens;
}
