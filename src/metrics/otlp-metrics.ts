import { ValueType } from '@opentelemetry/api';
import { ExportResultCode, hrTime } from '@opentelemetry/core';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationTemporality, DataPointType, type MetricData, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import type { Registry } from 'prom-client';
import type { MetricExport } from '../tracing/telemetry-config.js';

/**
 * The run's metrics as OTLP, for a cluster with a Collector and no Pushgateway: the very
 * series the Pushgateway gets, read from the same prom-client registry, under the same
 * names (a Collector's Prometheus exporter gives them back unchanged), with the
 * Pushgateway's grouping key `job` as the attribute `sweep.job`. Gauges stay gauges, the
 * request-duration histogram keeps its buckets; cumulative from the run's start. Sent
 * once, at the run's end, by the SDK's own OTLP/HTTP protobuf exporter. Loaded only when
 * OTEL_METRICS_EXPORTER=otlp.
 */
export async function exportRegistry(registry: Registry, settings: { target: MetricExport; job: string; serviceName: string;
  resourceAttributes: Record<string, string>; startedAt: Date }): Promise<void> {
  const exporter = new OTLPMetricExporter({ url: settings.target.url, headers: settings.target.headers,
    timeoutMillis: settings.target.timeoutMs, temporalityPreference: AggregationTemporality.CUMULATIVE });
  const start = hrTime(settings.startedAt.getTime());
  const end = hrTime();
  const metrics: MetricData[] = [];
  for (const metric of await registry.getMetricsAsJSON()) {
    const descriptor = { name: metric.name, description: metric.help, unit: metric.name.endsWith('_seconds') ? 's' : '', valueType: ValueType.DOUBLE };
    const common = { descriptor, aggregationTemporality: AggregationTemporality.CUMULATIVE };
    const values = metric.values as Array<{ value: number; labels: Record<string, string | number>; metricName?: string }>;
    if (String(metric.type) === 'histogram') {
      metrics.push({ ...common, dataPointType: DataPointType.HISTOGRAM, dataPoints: histogramPoints(metric.name, values, settings.job, start, end) });
    } else {
      metrics.push({ ...common, dataPointType: DataPointType.GAUGE, dataPoints: values.map(({ value, labels }) => ({
        startTime: start, endTime: end, attributes: { ...labels, 'sweep.job': settings.job }, value })) });
    }
  }
  const resourceMetrics: ResourceMetrics = {
    resource: resourceFromAttributes({ ...settings.resourceAttributes, [ATTR_SERVICE_NAME]: settings.serviceName }),
    scopeMetrics: [{ scope: { name: 'sweep' }, metrics }],
  };
  try {
    await new Promise<void>((resolve, reject) => {
      exporter.export(resourceMetrics, (result) => (result.code === ExportResultCode.SUCCESS ? resolve()
        : reject(result.error ?? new Error('the export failed'))));
    });
  } finally {
    void exporter.shutdown().catch(() => undefined);
  }
}

/** prom-client's cumulative `le` buckets, per label set, as OTLP's explicit-bucket counts. */
function histogramPoints(name: string, values: Array<{ value: number; labels: Record<string, string | number>; metricName?: string }>,
  job: string, startTime: [number, number], endTime: [number, number]) {
  const series = new Map<string, { attributes: Record<string, string | number>; le: Array<[number, number]>; sum: number; count: number }>();
  for (const { value, labels, metricName } of values) {
    const { le, ...attributes } = labels;
    const id = JSON.stringify(attributes);
    let entry = series.get(id);
    if (!entry) series.set(id, entry = { attributes, le: [], sum: 0, count: 0 });
    if (metricName === `${name}_bucket` && le !== undefined) entry.le.push([le === '+Inf' ? Infinity : Number(le), value]);
    else if (metricName === `${name}_sum`) entry.sum = value;
    else if (metricName === `${name}_count`) entry.count = value;
  }
  return [...series.values()].map(({ attributes, le, sum, count }) => {
    le.sort((a, b) => a[0] - b[0]);
    const boundaries = le.filter(([bound]) => Number.isFinite(bound)).map(([bound]) => bound);
    const cumulative = [...le.filter(([bound]) => Number.isFinite(bound)).map(([, n]) => n), count];
    const counts = cumulative.map((n, i) => n - (i > 0 ? cumulative[i - 1]! : 0));
    return { startTime, endTime, attributes: { ...attributes, 'sweep.job': job }, value: { buckets: { boundaries, counts }, sum, count } };
  });
}
