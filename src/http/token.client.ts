import type { Readable } from 'node:stream';
import type { Axios } from 'axios';
import { ERROR_BODY_BYTES, readBody, STREAMED } from './response-body.js';
import { withRetry, type RetryOptions } from './retry.js';
import { registerSecret } from '../logging/secret-registry.js';
import { tracingEnabled, withSpan, type TraceSpan } from '../tracing/tracing.js';
import { classifyRequestError, errorFromResponse, ServiceError } from './service-error.js';
import type { IssuedToken } from './token-cache.js';

export const TOKEN_ENDPOINT = 'POST /auth/token';
const ENDPOINT = TOKEN_ENDPOINT;
/** The contract: without expires_in or a JWT exp, assume a minute. */
const DEFAULT_LIFETIME_MS = 60_000;
/** However long a service says a token lives, ask again within a day. */
const MAX_LIFETIME_MS = 24 * 3600 * 1000;
/** A token answer is a few hundred bytes; a JWT with many claims a few kilobytes. */
const MAX_ANSWER_BYTES = 1024 * 1024;

export interface ClientCredentials {
  clientId: string;
  clientSecret: string;
}

export interface TokenFetchOptions {
  /**
   * Retries of a transient failure, with backoff, before the fetch fails. A token fetch
   * retries on its own: retried only inside each notification's retries, a flaky
   * /auth/token spent the notification attempts of its workspace's items.
   */
  retry?: RetryOptions;
  /** Aborts the request in flight and any wait before a retry. */
  signal?: AbortSignal;
  /** The span the fetch's own span goes under (the run's), when traced. */
  traceParent?: TraceSpan;
}

/** OAuth 2.0 client credentials (RFC 6749 §4.4) for one workspace's scope. */
export async function fetchWorkspaceToken(
  http: Axios,
  credentials: ClientCredentials,
  workspaceId: string,
  options: TokenFetchOptions = {},
): Promise<IssuedToken> {
  const { retry, signal } = options;
  const fetch = (span?: TraceSpan) => (retry ? withRetry(() => requestToken(http, credentials, workspaceId, signal, span), { ...retry, signal, traceParent: span })
    : requestToken(http, credentials, workspaceId, signal, span));
  if (!tracingEnabled()) return fetch();
  // The token itself never goes on the span: only whose it is and how long it lives.
  return withSpan('fetch token', { parent: options.traceParent, attributes: { 'sweep.workspace.id': workspaceId } }, async (span) => {
    const issued = await fetch(span);
    span.setAttribute('sweep.token.expires_in_s', Math.round(issued.expiresInMs / 1000));
    return issued;
  });
}

async function requestToken(http: Axios, credentials: ClientCredentials, workspaceId: string, signal?: AbortSignal,
  traceParent?: TraceSpan): Promise<IssuedToken> {
  const body = new URLSearchParams({ grant_type: 'client_credentials', scope: `workspace:${workspaceId}` });
  let response;
  let answer;
  try {
    response = await http.post<Readable>('/auth/token', body.toString(), {
      ...STREAMED,
      signal,
      ...(traceParent ? { traceParent } : {}),
      auth: { username: credentials.clientId, password: credentials.clientSecret },
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
    });
    answer = await readBody(response, response.status === 200 ? MAX_ANSWER_BYTES : ERROR_BODY_BYTES);
  } catch (error) {
    throw classifyRequestError(error, ENDPOINT);
  }
  if (response.status !== 200) {
    const error = errorFromResponse(ENDPOINT, response.status, response.headers as Record<string, unknown>, answer.data);
    // A refused client or scope is a configuration problem, never worth a retry,
    // whatever status carried it; 401 here is not the notify endpoint's "refresh" 401.
    if (error.kind === 'unauthorized') throw new ServiceError(error.message, 'permanent', error.details);
    throw error;
  }
  if (answer.truncated) {
    throw new ServiceError(`answer from ${ENDPOINT} is larger than allowed`, 'permanent', { endpoint: ENDPOINT, status: 200, code: 'ERR_BODY_TOO_LARGE' });
  }
  const issued = parseTokenAnswer(answer.data);
  // From now on no log line, error text or stored row may carry it.
  registerSecret(issued.accessToken, { issued: true });
  return issued;
}

/** Reads a token answer; anything without a usable access_token is a permanent failure. */
export function parseTokenAnswer(data: unknown, now: number = Date.now()): IssuedToken {
  const answer = typeof data === 'object' && data !== null ? (data as Record<string, unknown>) : undefined;
  const accessToken = answer?.access_token;
  if (typeof accessToken !== 'string' || accessToken === '') {
    throw new ServiceError(`${ENDPOINT} answered 200 without an access_token`, 'permanent', { endpoint: ENDPOINT, status: 200 });
  }
  const expiresIn = answer?.expires_in;
  if (typeof expiresIn === 'number' && Number.isFinite(expiresIn) && expiresIn > 0) {
    return { accessToken, expiresInMs: Math.min(expiresIn * 1000, MAX_LIFETIME_MS) };
  }
  const exp = readJwtExpiry(accessToken);
  if (exp !== undefined) return { accessToken, expiresInMs: Math.min(Math.max(0, exp * 1000 - now), MAX_LIFETIME_MS) };
  return { accessToken, expiresInMs: DEFAULT_LIFETIME_MS };
}

/** The `exp` claim of a JWT, unverified: we only need to know when to ask again. */
export function readJwtExpiry(token: string): number | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts[1]) return undefined;
  try {
    const payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof payload.exp === 'number' && Number.isFinite(payload.exp) ? payload.exp : undefined;
  } catch {
    return undefined;
  }
}
