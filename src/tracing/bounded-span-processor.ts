import type { Context } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import { BatchSpanProcessor, type ReadableSpan, type Span, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { TraceExport } from './telemetry-config.js';

export interface BoundedSpanProcessor extends SpanProcessor {
  /** Spans lost: not queued because the queue was full, or handed to an export that failed or never ended. */
  dropped(): { queueFull: number; exportFailed: number };
  /** After a bounded shutdown: what is still queued or in an export is counted lost. */
  abandon(): void;
}

/**
 * OpenTelemetry's batch span processor with a bound that also counts what is being
 * exported: at most `maxQueueSize` ended spans are held, queued or in an export request,
 * however slow the Collector. The SDK's own queue drops what overflows it, but only
 * reports it through its diagnostic logger; here every span lost is counted, so the run
 * can say once how many, and memory stays bound whatever the run's size.
 */
export function createBoundedSpanProcessor(exporter: SpanExporter, settings: Pick<TraceExport,
  'maxQueueSize' | 'maxExportBatchSize' | 'scheduleDelayMs' | 'exportTimeoutMs'>): BoundedSpanProcessor {
  let held = 0;
  let queueFull = 0;
  let exportFailed = 0;
  let abandoned = false;
  const counting: SpanExporter = {
    export(spans, done) {
      exporter.export(spans, (result) => {
        if (!abandoned) {
          held -= spans.length;
          if (result.code !== ExportResultCode.SUCCESS) exportFailed += spans.length;
        }
        done(result);
      });
    },
    shutdown: () => exporter.shutdown(),
    forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
  };
  const batch = new BatchSpanProcessor(counting, {
    maxQueueSize: settings.maxQueueSize,
    maxExportBatchSize: settings.maxExportBatchSize,
    scheduledDelayMillis: settings.scheduleDelayMs,
    exportTimeoutMillis: settings.exportTimeoutMs,
  });
  return {
    onStart: (span: Span, parent: Context) => batch.onStart(span, parent),
    onEnd(span: ReadableSpan) {
      if ((span.spanContext().traceFlags & 1) === 0 || abandoned) return;
      if (held >= settings.maxQueueSize) {
        queueFull += 1;
        return;
      }
      held += 1;
      batch.onEnd(span);
    },
    forceFlush: () => batch.forceFlush(),
    shutdown: () => batch.shutdown(),
    dropped: () => ({ queueFull, exportFailed }),
    abandon() {
      if (abandoned) return;
      abandoned = true;
      exportFailed += held;
      held = 0;
    },
  };
}
