import type { Attributes } from '@opentelemetry/api';
import type { InternalAxiosRequestConfig } from 'axios';
import { failSpan, startSpan, traceparentOf, type TraceSpan } from './tracing.js';

/**
 * One CLIENT span per HTTP request to the auth or notify service, with the semantic
 * conventions' attributes (opentelemetry.io/docs/specs/semconv/http/http-spans): method,
 * the URL (which never carries a credential here: the token travels in Authorization, the
 * client secret in Basic auth, and neither header is ever an attribute), server, status,
 * and `http.request.resend_count` for a retry. The request carries the span's W3C
 * `traceparent`, so the service's own trace joins the run's.
 *
 * A notification's first try is its notification's own span (`traceAs`): one span per
 * notification, not two, is most of what tracing costs a run (issue 31). Only a first try
 * that is not the last gets a span of its own, drawn afterwards (`traceEarlierTry`).
 */
const spans = new WeakMap<object, TraceSpan>();

/** A request's place among its notification's tries: 0 for the first, 1 for the first retry... */
export interface TracedRequest {
  resendCount?: number;
  /** The span the request belongs to (a notification, a token fetch). */
  traceParent?: TraceSpan;
  /** The span the request is (a notification's first try): it carries that span's traceparent and makes none of its own. */
  traceAs?: TraceSpan;
}

export function startRequestSpan(config: InternalAxiosRequestConfig & TracedRequest): void {
  if (config.traceAs) {
    const traceparent = traceparentOf(config.traceAs);
    if (traceparent) config.headers.set('traceparent', traceparent);
    return;
  }
  const method = (config.method ?? 'get').toUpperCase();
  const target = targetOf(method, config.baseURL, config.url);
  const span = startSpan(target.name, { kind: 'client', parent: config.traceParent, onlyUnderParent: true,
    attributes: config.resendCount ? { ...target.attributes, 'http.request.resend_count': config.resendCount } : target.attributes });
  const traceparent = traceparentOf(span);
  if (!traceparent) return;
  spans.set(config, span);
  config.headers.set('traceparent', traceparent);
}

/** The span's name and attributes for a method and URL, worked out once: a run asks to one service's two endpoints. */
const targets = new Map<string | undefined, Map<string, { name: string; attributes: Attributes }>>();

export function targetOf(method: string, baseURL: string | undefined, path: string | undefined): { name: string; attributes: Attributes } {
  const id = `${method} ${path ?? ''}`;
  let ofBase = targets.get(baseURL);
  if (!ofBase) targets.set(baseURL, ofBase = new Map());
  let target = ofBase.get(id);
  if (target) return target;
  let url: URL | undefined;
  try {
    url = new URL(path ?? '', baseURL);
  } catch {
    url = undefined;
  }
  target = { name: `${method} ${url?.pathname ?? ''}`.trim(), attributes: {
    'http.request.method': method,
    ...(url ? { 'url.full': `${url.origin}${url.pathname}`, 'url.template': url.pathname, 'server.address': url.hostname,
      'server.port': Number(url.port || (url.protocol === 'https:' ? 443 : 80)) } : {}),
  } };
  if (ofBase.size >= 100) ofBase.clear();
  ofBase.set(id, target);
  return target;
}

type Answer = { status?: number; error?: { code?: string; message?: string } };

/** Ends the request's span with the answer's status (4xx and 5xx are errors, as the conventions say for a client). */
export function endRequestSpan(config: object | undefined, answer: Answer): void {
  const span = config ? spans.get(config) : undefined;
  if (!span) return;
  spans.delete(config as object);
  settle(span, answer);
  span.end();
}

/** A try that was made as its parent's span (`traceAs`), drawn as a span of its own once a later try followed it. */
export interface EarlierTry extends Answer {
  startTime: number;
  endTime: number;
}

export function traceEarlierTry(parent: TraceSpan, target: { name: string; attributes: Attributes }, earlier: EarlierTry): void {
  const span = startSpan(target.name, { kind: 'client', parent, startTime: earlier.startTime, attributes: target.attributes });
  settle(span, earlier);
  span.end(earlier.endTime);
}

function settle(span: TraceSpan, answer: Answer): void {
  if (answer.status !== undefined) {
    span.setAttribute('http.response.status_code', answer.status);
    if (answer.status >= 400) failSpan(span, `answered ${answer.status}`, String(answer.status));
  } else {
    failSpan(span, answer.error?.message ?? 'request failed', answer.error?.code ?? 'error');
  }
}
