import { redactSecrets } from '../logging/secret-registry.js';
import { NOOP_SPAN, STATUS_ERROR, type SpanOptions, type TraceSpan, type TracingBackend } from './span-types.js';
import type { TelemetryConfig } from './telemetry-config.js';

export { NOOP_SPAN, type SpanOptions, type TraceSpan } from './span-types.js';

/**
 * The sweep's own small tracing interface: every span the code makes goes through here.
 * Manual spans, not auto-instrumentation: their names and attributes are ours and stay
 * put when a library changes (the peers' auto-instrumentations broke on major upgrades).
 *
 * Off by default: until `startTracing` is given a configuration with traces, nothing of
 * OpenTelemetry is imported (only types are, erased at build), every span is the one
 * shared no-op object and `withSpan` calls its function directly. When on, the SDK is
 * loaded with a dynamic import (otel-tracing.ts) and stays one process-wide provider,
 * shared by the runs a process makes (the console's in-process runs), shut down with the last.
 */

/** Where the loss is said: a pino logger (structurally, so that logging may import tracing and not the reverse). */
export interface WarnLogger {
  warn(fields: object, message: string): void;
}

let backend: TracingBackend | undefined;
let users = 0;
let opening: Promise<TracingBackend> | undefined;

/** Whether spans are being made (traces configured); checked before building a span's attributes on a hot path. */
export function tracingEnabled(): boolean {
  return backend !== undefined;
}

/**
 * Starts tracing for a run or a service when the configuration asks for it; the first
 * caller loads the SDK, later ones share it. Every call is paired with `stopTracing`.
 */
export async function startTracing(telemetry: TelemetryConfig): Promise<boolean> {
  if (!telemetry.traces) return false;
  users += 1;
  if (!backend) {
    opening ??= import('./otel-tracing.js').then(({ createOtelTracing }) => createOtelTracing(telemetry));
    try {
      backend = await opening;
    } catch (error) {
      users -= 1;
      opening = undefined;
      throw error;
    }
  }
  return true;
}

/**
 * Exports what is queued within `boundMs` (never longer: a run must not outlive its grace
 * period for its telemetry) and, for the last user, shuts the SDK down. Says once what
 * was lost, if anything: a Collector that was down or slow costs spans, never the run.
 */
export async function stopTracing(boundMs: number, logger: WarnLogger): Promise<void> {
  if (!backend) return;
  const current = backend;
  users -= 1;
  const last = users <= 0;
  if (last) {
    backend = undefined;
    opening = undefined;
    users = 0;
  }
  await current.close(Math.max(0, boundMs), last);
  const { queueFull, exportFailed } = current.dropped();
  if (last && queueFull + exportFailed > 0) {
    logger.warn({ spansDropped: queueFull + exportFailed, queueFull, exportFailed },
      `${queueFull + exportFailed} trace span(s) were not exported (the Collector was unreachable, refused them or did not keep up); `
      + 'the run itself was not affected');
  }
}

export function startSpan(name: string, options: SpanOptions = {}): TraceSpan {
  if (!backend) return NOOP_SPAN;
  // Under a parent its sampler dropped (a run not sampled), a child would be dropped too:
  // the parent stands in for it, so such a run pays for no span, yet what it sends still
  // carries a traceparent with the decision.
  const { parent } = options;
  if (parent && parent !== NOOP_SPAN && (parent.spanContext().traceFlags & 1) === 0) return parent;
  return backend.startSpan(name, options);
}

/**
 * Runs `fn` with `span` as the active span, for the console's requests: what it starts
 * (statements) becomes the span's child without being told. An async context on every
 * promise: a run passes parents explicitly instead (`parent`).
 */
export function withinSpan<T>(span: TraceSpan, fn: () => T): T {
  return backend && span !== NOOP_SPAN ? backend.within(span, fn) : fn();
}

/** Runs `fn` outside any active span. */
export function outsideSpans<T>(fn: () => T): T {
  return backend ? backend.outside(fn) : fn();
}

/** Runs `fn` in a span of its own (its parent in `options`), ended when `fn` settles; an error ends it with error status. */
export async function withSpan<T>(name: string, options: SpanOptions, fn: (span: TraceSpan) => Promise<T>): Promise<T> {
  if (!backend) return fn(NOOP_SPAN);
  const span = startSpan(name, options);
  try {
    return await fn(span);
  } catch (error) {
    failSpan(span, error);
    throw error;
  } finally {
    span.end();
  }
}

/** Error status with the error's class and message (messages are built to carry no secret: tokens are redacted from them). */
export function failSpan(span: TraceSpan, error: unknown, type?: string): void {
  if (!span.isRecording()) return;
  // Our messages never carry a secret; a service's answer quoted in one might echo a token back.
  const message = redactSecrets(error instanceof Error ? error.message : String(error));
  span.setStatus({ code: STATUS_ERROR, message });
  span.setAttribute('error.type', type ?? (error as { code?: string })?.code ?? (error as Error)?.name ?? 'error');
}

/** The active span, if tracing is on and one is. */
export function activeSpan(): TraceSpan | undefined {
  return backend?.activeSpan();
}

/** The W3C traceparent of `span`, or undefined when tracing is off. */
export function traceparentOf(span: TraceSpan): string | undefined {
  return backend && span !== NOOP_SPAN ? backend.traceparentOf(span) : undefined;
}

/** Fields for a log line: the active span's ids (pino mixin, for the console's requests), none outside a span. */
export function traceLogFields(): Record<string, string> {
  const span = backend?.activeSpan();
  return span ? spanLogFields(span) : {};
}

/** A span's ids as log fields (a run's logger is bound to its span's). */
export function spanLogFields(span: TraceSpan): Record<string, string> {
  if (span === NOOP_SPAN) return {};
  const { traceId, spanId } = span.spanContext();
  return { trace_id: traceId, span_id: spanId };
}
