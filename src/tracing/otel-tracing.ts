import { AsyncLocalStorage } from 'node:async_hooks';
import { defaultTextMapGetter, ROOT_CONTEXT, trace, type Context, type Span } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AlwaysOffSampler, AlwaysOnSampler, BasicTracerProvider, ParentBasedSampler, TraceIdRatioBasedSampler,
  type Sampler } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { createBoundedSpanProcessor } from './bounded-span-processor.js';
import type { TelemetryConfig, TraceExport } from './telemetry-config.js';
import { NOOP_SPAN, SPAN_KIND, type SpanOptions, type TraceSpan, type TracingBackend } from './span-types.js';

/**
 * The OpenTelemetry SDK behind tracing.ts, loaded only when traces are configured.
 *
 * A run passes each span's parent along explicitly and never enters an async context:
 * on Node 20 and 22 an AsyncLocalStorage in use puts a hook on every promise, which
 * made a traced sweep cost 1.8 times the CPU per notification (docs/performance.md). Only
 * the console, at a person's pace, runs its requests in one (our own, not the API's
 * global context manager: nothing else in the process reads or writes it).
 */
export function createOtelTracing(telemetry: TelemetryConfig): TracingBackend {
  const traces = telemetry.traces as TraceExport;
  const exporter = new OTLPTraceExporter({ url: traces.url, headers: traces.headers, timeoutMillis: traces.timeoutMs });
  const processor = createBoundedSpanProcessor(exporter, traces);
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ ...telemetry.resourceAttributes, [ATTR_SERVICE_NAME]: telemetry.serviceName }),
    sampler: samplerOf(traces),
    spanProcessors: [processor],
  });
  const tracer = provider.getTracer('sweep');
  const active = new AsyncLocalStorage<TraceSpan>();
  const propagator = new W3CTraceContextPropagator();
  // A page's span parents hundreds of notifications: its context is made once, not per child.
  const contexts = new WeakMap<TraceSpan, Context>();
  const contextOf = (parent: TraceSpan): Context => {
    let context = contexts.get(parent);
    if (!context) contexts.set(parent, context = trace.setSpan(ROOT_CONTEXT, parent as Span));
    return context;
  };

  const parentContext = (options: SpanOptions): Context | undefined => {
    if (options.root) {
      const { traceparent, tracestate } = options.root;
      return traceparent ? propagator.extract(ROOT_CONTEXT, { traceparent, ...(tracestate ? { tracestate } : {}) }, defaultTextMapGetter)
        : ROOT_CONTEXT;
    }
    const parent = options.parent && options.parent !== NOOP_SPAN ? options.parent : active.getStore();
    if (!parent) return options.onlyUnderParent ? undefined : ROOT_CONTEXT;
    return contextOf(parent);
  };

  return {
    startSpan(name, options) {
      const parent = parentContext(options);
      // A statement outside a run's or a request's span: no trace of its own (the no-op span).
      if (!parent) return NOOP_SPAN;
      return tracer.startSpan(name, { kind: SPAN_KIND[options.kind ?? 'internal'], attributes: options.attributes,
        startTime: options.startTime }, parent);
    },
    within: (span, fn) => active.run(span, fn),
    outside: (fn) => (active.getStore() === undefined ? fn() : active.exit(fn)),
    activeSpan: () => active.getStore(),
    traceparentOf(span) {
      const { traceId, spanId, traceFlags } = span.spanContext();
      return `00-${traceId}-${spanId}-${(traceFlags & 1) === 1 ? '01' : '00'}`;
    },
    async close(ms, shutdown) {
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<void>((resolve) => { timer = setTimeout(resolve, ms); });
      // A Collector that does not answer costs at most `ms`: what it did not take is dropped.
      await Promise.race([(shutdown ? provider.shutdown() : provider.forceFlush()).catch(() => undefined), bound]);
      clearTimeout(timer);
      if (shutdown) processor.abandon();
    },
    dropped: () => processor.dropped(),
  };
}

/**
 * The configured sampler, decided once per trace: the root (the run's span, or the
 * scheduler's span its TRACEPARENT names) is sampled or not, and every span under it
 * follows, so a run is exported whole or not at all. The parentbased_* samplers are
 * that already; always_on, always_off and traceidratio get the same for the spans under
 * a root of ours (traceidratio decides by the trace id anyway: the same for every span).
 */
function samplerOf(traces: TraceExport): Sampler {
  const base = traces.sampler.replace('parentbased_', '');
  const root = base === 'always_on' ? new AlwaysOnSampler() : base === 'always_off' ? new AlwaysOffSampler()
    : new TraceIdRatioBasedSampler(traces.ratio);
  if (traces.sampler.startsWith('parentbased_')) return new ParentBasedSampler({ root });
  // Not parent-based: a remote parent's decision is not followed, ours is decided afresh.
  return new ParentBasedSampler({ root, remoteParentSampled: root, remoteParentNotSampled: root });
}
