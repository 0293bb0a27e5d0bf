import type { Attributes, Span, SpanKind } from '@opentelemetry/api';

/** The parts of an OpenTelemetry span the sweep uses. */
export type TraceSpan = Pick<Span, 'setAttribute' | 'setAttributes' | 'addEvent' | 'end' | 'spanContext' | 'setStatus' | 'isRecording'>;

export interface SpanOptions {
  kind?: 'internal' | 'client' | 'server';
  attributes?: Attributes;
  /** When it began, if before now (ms since the epoch). */
  startTime?: number;
  /** The parent, passed along explicitly (the batch path never pays for an async context); else the active span, if any. */
  parent?: TraceSpan;
  /** root: a new trace, or the remote parent in `traceparent`. */
  root?: { traceparent?: string; tracestate?: string };
  /** Made only under an active span: a statement outside any run or request starts no trace of its own. */
  onlyUnderParent?: boolean;
}

export interface TracingBackend {
  startSpan(name: string, options: SpanOptions): TraceSpan;
  within<T>(span: TraceSpan, fn: () => T): T;
  /** Runs `fn` outside any active span (a run the console starts is no child of the request). */
  outside<T>(fn: () => T): T;
  activeSpan(): TraceSpan | undefined;
  /** The W3C traceparent of a span, for a request it makes. */
  traceparentOf(span: TraceSpan): string;
  /** Exports what is queued, waiting at most `ms`; then stops when `shutdown`. */
  close(ms: number, shutdown: boolean): Promise<void>;
  /** Spans lost so far (queue full or export failed), by reason. */
  dropped(): { queueFull: number; exportFailed: number };
}

export const SPAN_KIND: Record<NonNullable<SpanOptions['kind']>, SpanKind> = { internal: 0 as SpanKind, server: 1 as SpanKind, client: 2 as SpanKind };
/** SpanStatusCode.ERROR, without loading the API to read it. */
export const STATUS_ERROR = 2;
const INVALID_CONTEXT = { traceId: '00000000000000000000000000000000', spanId: '0000000000000000', traceFlags: 0 };

/** The span of what is not traced: every method does nothing. */
export const NOOP_SPAN: TraceSpan = {
  setAttribute: () => NOOP_SPAN as Span,
  setAttributes: () => NOOP_SPAN as Span,
  addEvent: () => NOOP_SPAN as Span,
  end: () => undefined,
  spanContext: () => INVALID_CONTEXT,
  setStatus: () => NOOP_SPAN as Span,
  isRecording: () => false,
};

