/**
 * OpenTelemetry's standard environment variables, read as the specification defines them
 * (opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables and
 * .../protocol/exporter): nothing sweep-specific to learn. Pure, so it is unit-tested and
 * costs nothing when none of them is set; a value that is set and wrong is a problem in
 * the configuration (exit 64), as any other variable's is.
 */

export type SamplerName = 'always_on' | 'always_off' | 'traceidratio'
  | 'parentbased_always_on' | 'parentbased_always_off' | 'parentbased_traceidratio';

const SAMPLERS: readonly SamplerName[] = ['always_on', 'always_off', 'traceidratio',
  'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'];

export interface OtlpTarget {
  /** The signal's whole URL: OTEL_EXPORTER_OTLP_<SIGNAL>_ENDPOINT as is, or OTEL_EXPORTER_OTLP_ENDPOINT + /v1/<signal>. */
  url: string;
  /** OTEL_EXPORTER_OTLP_(<SIGNAL>_)HEADERS: often an API key, so never logged. */
  headers: Record<string, string>;
  /** OTEL_EXPORTER_OTLP_(<SIGNAL>_)TIMEOUT, default 10000 ms: one export request at most. */
  timeoutMs: number;
}

export interface TraceExport extends OtlpTarget {
  sampler: SamplerName;
  /** OTEL_TRACES_SAMPLER_ARG for the ratio samplers, default 1. */
  ratio: number;
  /** OTEL_BSP_*: the batch span processor's queue (the bound of what waits in memory) and its batches. */
  maxQueueSize: number;
  maxExportBatchSize: number;
  scheduleDelayMs: number;
  exportTimeoutMs: number;
}

export interface MetricExport extends OtlpTarget {
  /** OTEL_METRIC_EXPORT_TIMEOUT, default 30000 ms. */
  exportTimeoutMs: number;
}

export interface TelemetryConfig {
  /** Set when traces are exported; undefined: nothing of OpenTelemetry is loaded for them. */
  traces?: TraceExport;
  /** Set when OTEL_METRICS_EXPORTER=otlp: the run's metrics go to the Collector too. */
  metrics?: MetricExport;
  /** OTEL_SERVICE_NAME, default sweep (it wins over service.name in OTEL_RESOURCE_ATTRIBUTES). */
  serviceName: string;
  /** OTEL_RESOURCE_ATTRIBUTES: key=value pairs, values percent-decoded. */
  resourceAttributes: Record<string, string>;
}

const DEFAULT_ENDPOINT = 'http://localhost:4318';

type Env = Record<string, string | undefined>;

/** Reads the telemetry settings; each problem is pushed to `problems` ("NAME must ..."). */
export function readTelemetryConfig(env: Env, problems: string[]): TelemetryConfig {
  const get = (name: string) => {
    const raw = env[name]?.trim();
    return raw === undefined || raw === '' ? undefined : raw;
  };
  // Traces and metrics share the general variables: a wrong one is said once.
  const problem = (name: string, text: string) => {
    if (!problems.includes(`${name} ${text}`)) problems.push(`${name} ${text}`);
  };
  const resourceAttributes = parseKeyValues(get('OTEL_RESOURCE_ATTRIBUTES'), (text) => problem('OTEL_RESOURCE_ATTRIBUTES', text));
  const serviceName = get('OTEL_SERVICE_NAME') ?? resourceAttributes['service.name'] ?? 'sweep';
  const config: TelemetryConfig = { serviceName, resourceAttributes };
  if (get('OTEL_SDK_DISABLED')?.toLowerCase() === 'true') return config;

  const wholeNumber = (name: string, fallback: number, min = 0) => {
    const raw = get(name);
    if (raw === undefined) return fallback;
    if (!/^\d+$/.test(raw) || Number(raw) < min) {
      problem(name, `must be a whole number of at least ${min} (got '${raw}')`);
      return fallback;
    }
    return Number(raw);
  };
  const target = (signal: 'traces' | 'metrics'): OtlpTarget => {
    const upper = signal.toUpperCase();
    const own = `OTEL_EXPORTER_OTLP_${upper}_ENDPOINT`;
    const url = get(own) ?? `${(get('OTEL_EXPORTER_OTLP_ENDPOINT') ?? DEFAULT_ENDPOINT).replace(/\/+$/, '')}/v1/${signal}`;
    const named = get(own) !== undefined ? own : 'OTEL_EXPORTER_OTLP_ENDPOINT';
    if (!/^https?:\/\/[^/\s]+/i.test(url) || !isUrl(url)) problem(named, `must be an http:// or https:// URL (got '${url}')`);
    const protocolName = get(`OTEL_EXPORTER_OTLP_${upper}_PROTOCOL`) !== undefined ? `OTEL_EXPORTER_OTLP_${upper}_PROTOCOL` : 'OTEL_EXPORTER_OTLP_PROTOCOL';
    const protocol = get(protocolName);
    if (protocol !== undefined && protocol !== 'http/protobuf') {
      problem(protocolName, `must be http/protobuf: sweep exports OTLP over HTTP with protobuf (got '${protocol}')`);
    }
    const headersName = get(`OTEL_EXPORTER_OTLP_${upper}_HEADERS`) !== undefined ? `OTEL_EXPORTER_OTLP_${upper}_HEADERS` : 'OTEL_EXPORTER_OTLP_HEADERS';
    return {
      url,
      // The signal's own headers replace the general ones, as its endpoint does.
      headers: parseKeyValues(get(headersName), (text) => problem(headersName, text)),
      timeoutMs: wholeNumber(`OTEL_EXPORTER_OTLP_${upper}_TIMEOUT`, wholeNumber('OTEL_EXPORTER_OTLP_TIMEOUT', 10_000, 1), 1),
    };
  };

  const tracesExporter = get('OTEL_TRACES_EXPORTER')?.toLowerCase();
  if (tracesExporter !== undefined && tracesExporter !== 'otlp' && tracesExporter !== 'none') {
    problem('OTEL_TRACES_EXPORTER', `must be otlp or none (got '${tracesExporter}')`);
  }
  const endpointSet = get('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT') !== undefined || get('OTEL_EXPORTER_OTLP_ENDPOINT') !== undefined;
  if (tracesExporter === 'otlp' || (tracesExporter === undefined && endpointSet)) {
    const samplerRaw = get('OTEL_TRACES_SAMPLER')?.toLowerCase() ?? 'parentbased_always_on';
    const sampler = (SAMPLERS as readonly string[]).includes(samplerRaw) ? samplerRaw as SamplerName : undefined;
    if (!sampler) problem('OTEL_TRACES_SAMPLER', `must be one of ${SAMPLERS.join(', ')} (got '${samplerRaw}')`);
    const ratioRaw = get('OTEL_TRACES_SAMPLER_ARG');
    const ratio = ratioRaw === undefined || !sampler?.endsWith('traceidratio') ? 1 : Number(ratioRaw);
    if (!(ratio >= 0 && ratio <= 1)) problem('OTEL_TRACES_SAMPLER_ARG', `must be a number from 0 to 1 (got '${ratioRaw}')`);
    const maxQueueSize = wholeNumber('OTEL_BSP_MAX_QUEUE_SIZE', 2048, 1);
    config.traces = {
      ...target('traces'),
      sampler: sampler ?? 'parentbased_always_on',
      ratio: ratio >= 0 && ratio <= 1 ? ratio : 1,
      maxQueueSize,
      maxExportBatchSize: Math.min(wholeNumber('OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 512, 1), maxQueueSize),
      scheduleDelayMs: wholeNumber('OTEL_BSP_SCHEDULE_DELAY', 5000),
      exportTimeoutMs: wholeNumber('OTEL_BSP_EXPORT_TIMEOUT', 30_000, 1),
    };
  }

  const metricsExporter = get('OTEL_METRICS_EXPORTER')?.toLowerCase();
  if (metricsExporter !== undefined && metricsExporter !== 'otlp' && metricsExporter !== 'none') {
    problem('OTEL_METRICS_EXPORTER', `must be otlp or none (got '${metricsExporter}')`);
  }
  // Metrics go to OTLP only when asked: a Pushgateway deployment that points its traces
  // at a Collector keeps its metrics where its dashboards read them.
  if (metricsExporter === 'otlp') {
    config.metrics = { ...target('metrics'), exportTimeoutMs: wholeNumber('OTEL_METRIC_EXPORT_TIMEOUT', 30_000, 1) };
  }
  return config;
}

/** `k1=v1,k2=v2` (W3C Baggage's format, which OTEL_RESOURCE_ATTRIBUTES and the OTLP headers use), values percent-decoded. */
export function parseKeyValues(raw: string | undefined, problem: (text: string) => void): Record<string, string> {
  const result: Record<string, string> = {};
  if (raw === undefined) return result;
  for (const pair of raw.split(',')) {
    if (pair.trim() === '') continue;
    const at = pair.indexOf('=');
    const key = at > 0 ? pair.slice(0, at).trim() : '';
    if (key === '') {
      // The pair itself may be a secret (a header's value): named by position only.
      problem('must be key=value pairs separated by commas (a pair has no key)');
      continue;
    }
    try {
      result[key] = decodeURIComponent(pair.slice(at + 1).trim());
    } catch {
      problem(`has a value that is not percent-encoded properly (key ${key})`);
    }
  }
  return result;
}

function isUrl(raw: string): boolean {
  try {
    return Boolean(new URL(raw).hostname);
  } catch {
    return false;
  }
}
