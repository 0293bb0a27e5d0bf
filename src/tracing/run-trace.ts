import type { Logger } from '../logging/logger.js';
import { failSpan, NOOP_SPAN as UNTRACED, outsideSpans, spanLogFields, startSpan, stopTracing, type TraceSpan } from './tracing.js';

/** How long a run that ends normally waits, at most, for its last spans to reach the Collector. */
export const TRACE_FLUSH_MS = 2000;

/**
 * A run's trace: its root span, under which every page, notification, request and
 * statement of the run is made. A run started by a scheduler that traces (TRACEPARENT in
 * its environment, W3C Trace Context) continues that trace; otherwise it starts its own.
 */
export interface RunTrace {
  /** The trace id, when the run's trace is sampled (exported); stored with the run. */
  readonly traceId: string | undefined;
  /** The root span: the parent the run passes to its pages, statements and token fetches. */
  readonly span: TraceSpan;
  /** trace_id and span_id for the run's logger (none untraced). */
  readonly logFields: Record<string, string>;
  /** Runs the run outside any active span (a run the console starts from a request is a trace of its own). */
  within<T>(fn: () => T): T;
  /** The run's row: its id goes on the root span. */
  recordRun(runId: string): void;
  /** The run's summary: its counts and how it ended. */
  recordResult(result: { counts?: Record<string, number>; status: string; runDate?: unknown; paused?: string }): void;
  /** Ends the root span: error status whenever the exit code is not 0 (failed, partial, interrupted, held...). */
  end(exitCode: number): void;
}

export function startRunTrace(job: string, env: Record<string, string | undefined>, traced = true): RunTrace {
  const traceparent = env.TRACEPARENT?.trim() || undefined;
  const tracestate = env.TRACESTATE?.trim() || undefined;
  const span: TraceSpan = traced ? startSpan(`run ${job}`, { root: { traceparent, tracestate }, attributes: { 'sweep.job': job } }) : UNTRACED;
  const context = span.spanContext();
  let status = 'unknown';
  return {
    traceId: span.isRecording() ? context.traceId : undefined,
    span,
    logFields: spanLogFields(span),
    within: (fn) => outsideSpans(fn),
    recordRun(runId) {
      span.setAttribute('sweep.run.id', runId);
    },
    recordResult(result) {
      if (!span.isRecording()) return;
      status = result.status;
      span.setAttribute('sweep.run.status', result.status);
      if (typeof result.runDate === 'string') span.setAttribute('sweep.run.date', result.runDate);
      if (result.paused) span.setAttribute('sweep.run.paused', result.paused);
      for (const [name, value] of Object.entries(result.counts ?? {})) {
        if (typeof value === 'number') span.setAttribute(`sweep.count.${name}`, value);
      }
    },
    end(exitCode) {
      span.setAttribute('process.exit.code', exitCode);
      if (exitCode !== 0) failSpan(span, `run ended with exit code ${exitCode} (${status})`, `exit ${exitCode}`);
      span.end();
    },
  };
}

/**
 * Exports the run's last spans and stops the SDK, within TRACE_FLUSH_MS and, for a run a
 * signal stopped, within `graceLeftMs`, what is left of its grace period: telemetry never
 * makes a run outlive the bound its scheduler gives it.
 */
export async function finishRunTrace(logger: Logger, graceLeftMs: number | undefined): Promise<void> {
  await stopTracing(Math.min(TRACE_FLUSH_MS, graceLeftMs ?? TRACE_FLUSH_MS), logger);
}
