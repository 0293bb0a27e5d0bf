import { describe, expect, it } from 'vitest';
import { getConfig, parseTraceUrl } from '../../src/configuration/config.js';
import { readTelemetryConfig } from '../../src/tracing/telemetry-config.js';

const read = (env: Record<string, string>) => {
  const problems: string[] = [];
  return { config: readTelemetryConfig(env, problems), problems };
};

describe('the OTEL_* variables, as the specification reads them', () => {
  it('leaves telemetry off when none is set', () => {
    const { config, problems } = read({});
    expect(config).toEqual({ serviceName: 'sweep', resourceAttributes: {} });
    expect(problems).toEqual([]);
  });

  it('exports traces to OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces, and to a signal endpoint as given', () => {
    expect(read({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }).config.traces)
      .toMatchObject({ url: 'http://collector:4318/v1/traces', sampler: 'parentbased_always_on', ratio: 1, maxQueueSize: 2048,
        maxExportBatchSize: 512, scheduleDelayMs: 5000, exportTimeoutMs: 30_000, timeoutMs: 10_000, headers: {} });
    expect(read({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://b/otlp/traces' }).config.traces?.url)
      .toBe('https://b/otlp/traces');
    // OTEL_TRACES_EXPORTER=otlp alone: the specification's default endpoint.
    expect(read({ OTEL_TRACES_EXPORTER: 'otlp' }).config.traces?.url).toBe('http://localhost:4318/v1/traces');
  });

  it('turns traces off with OTEL_TRACES_EXPORTER=none or OTEL_SDK_DISABLED=true, whatever the endpoint', () => {
    expect(read({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'none' }).config.traces).toBeUndefined();
    expect(read({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'true' }).config.traces).toBeUndefined();
  });

  it('reads the service name, resource attributes (percent-decoded) and headers (the signal\'s own replace the general ones)', () => {
    const { config } = read({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attrs,deployment.environment=prod%20eu',
      OTEL_EXPORTER_OTLP_HEADERS: 'x-a=1', OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'api-key=k%3D1, x-b = 2',
    });
    expect(config.serviceName).toBe('from-attrs');
    expect(config.resourceAttributes).toEqual({ 'service.name': 'from-attrs', 'deployment.environment': 'prod eu' });
    expect(config.traces?.headers).toEqual({ 'api-key': 'k=1', 'x-b': '2' });
    expect(read({ OTEL_SERVICE_NAME: 'mine', OTEL_RESOURCE_ATTRIBUTES: 'service.name=other' }).config.serviceName).toBe('mine');
  });

  it('reads the sampler and its ratio', () => {
    expect(read({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25' }).config.traces)
      .toMatchObject({ sampler: 'parentbased_traceidratio', ratio: 0.25 });
    // The argument means nothing to a sampler that takes none.
    expect(read({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_TRACES_SAMPLER: 'always_on', OTEL_TRACES_SAMPLER_ARG: '7' }).problems).toEqual([]);
  });

  it('names every variable set wrong, and never a header\'s value', () => {
    const { problems } = read({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318', OTEL_TRACES_SAMPLER: 'sometimes', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      OTEL_EXPORTER_OTLP_HEADERS: 'secret-value-without-key', OTEL_BSP_MAX_QUEUE_SIZE: 'many', OTEL_METRICS_EXPORTER: 'prometheus',
    });
    expect(problems).toEqual([
      "OTEL_TRACES_SAMPLER must be one of always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio (got 'sometimes')",
      "OTEL_BSP_MAX_QUEUE_SIZE must be a whole number of at least 1 (got 'many')",
      "OTEL_EXPORTER_OTLP_ENDPOINT must be an http:// or https:// URL (got 'collector:4318/v1/traces')",
      "OTEL_EXPORTER_OTLP_PROTOCOL must be http/protobuf: sweep exports OTLP over HTTP with protobuf (got 'grpc')",
      "OTEL_EXPORTER_OTLP_HEADERS must be key=value pairs separated by commas (a pair has no key)",
      "OTEL_METRICS_EXPORTER must be otlp or none (got 'prometheus')",
    ]);
    expect(problems.join(' ')).not.toContain('secret-value');
    expect(read({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '1.5' }).problems)
      .toEqual(["OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1 (got '1.5')"]);
  });

  it('exports metrics only when OTEL_METRICS_EXPORTER=otlp, to the metrics endpoint', () => {
    expect(read({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }).config.metrics).toBeUndefined();
    expect(read({ OTEL_METRICS_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }).config)
      .toMatchObject({ metrics: { url: 'http://c:4318/v1/metrics', exportTimeoutMs: 30_000 }, traces: { url: 'http://c:4318/v1/traces' } });
  });

  it('is part of getConfig: a wrong one is a configuration error (exit 64) with the others', () => {
    expect(() => getConfig({ OTEL_TRACES_SAMPLER: 'x', OTEL_TRACES_EXPORTER: 'otlp', HTTP_RETRIES: 'x' })).toThrow(/HTTP_RETRIES[\s\S]*OTEL_TRACES_SAMPLER/);
    expect(getConfig({ SWEEP_TRACE_URL: 'https://jaeger.example/trace/{traceId}' }).traceUrl).toBe('https://jaeger.example/trace/{traceId}');
    expect(() => parseTraceUrl('https://jaeger.example/trace/')).toThrow(/must contain \{traceId\}/);
    expect(() => parseTraceUrl('javascript:alert(1)//{traceId}')).toThrow(/http:\/\/ or https:\/\//);
  });
});
