import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';

/**
 * A Collector's OTLP/HTTP receiver on 127.0.0.1, for tests: it decodes what the exporter
 * sends (protobuf, POST /v1/traces and /v1/metrics) with the OTLP codec OpenTelemetry
 * generated from opentelemetry-proto and shipped in @opentelemetry/otlp-transformer up to
 * 0.216 (installed as otlp-transformer-protobufjs: later releases write protobuf by hand
 * and ship no decoder). Nothing is mocked on the sending side: the SDK's exporter sends.
 *
 * Modes: `ok` answers 200; `refuse` answers 503; `slow` holds every request unanswered
 * until closed (a Collector that hangs).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Codec = any;
const codec = createRequire(import.meta.url)('otlp-transformer-protobufjs/build/src/generated/root.js') as Codec;
const proto = codec.opentelemetry.proto;

export type AttributeValue = string | number | boolean | AttributeValue[] | undefined;

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  /** W3C tracestate, as the span carries it. */
  traceState: string;
  name: string;
  /** OTLP's SpanKind: 1 internal, 2 server, 3 client. */
  kind: number;
  startMs: number;
  endMs: number;
  attributes: Record<string, AttributeValue>;
  /** 0 unset, 1 ok, 2 error. */
  status: { code: number; message: string };
  resource: Record<string, AttributeValue>;
}

export interface ReceivedMetric {
  name: string;
  resource: Record<string, AttributeValue>;
  points: Array<{ attributes: Record<string, AttributeValue>; value: number | undefined }>;
}

export interface OtlpReceiver {
  url: string;
  spans: ReceivedSpan[];
  metrics: ReceivedMetric[];
  /** Every request's headers, in order (the exporter's OTEL_EXPORTER_OTLP_HEADERS arrive here). */
  headers: IncomingMessage['headers'][];
  requests: number;
  setMode(mode: 'ok' | 'refuse' | 'slow'): void;
  close(): Promise<void>;
}

export async function startOtlpReceiver(mode: 'ok' | 'refuse' | 'slow' = 'ok'): Promise<OtlpReceiver> {
  const held: ServerResponse[] = [];
  const receiver = {
    url: '', spans: [] as ReceivedSpan[], metrics: [] as ReceivedMetric[], headers: [] as IncomingMessage['headers'][], requests: 0,
    setMode(next: typeof mode) { mode = next; },
  } as OtlpReceiver;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      receiver.requests += 1;
      receiver.headers.push(req.headers);
      if (mode === 'slow') {
        held.push(res);
        return;
      }
      if (mode === 'refuse') {
        res.writeHead(503, { 'content-type': 'text/plain' }).end('unavailable');
        return;
      }
      const body = Buffer.concat(chunks);
      if (req.url === '/v1/traces') receiver.spans.push(...decodeSpans(body));
      else if (req.url === '/v1/metrics') receiver.metrics.push(...decodeMetrics(body));
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  receiver.close = async () => {
    for (const res of held) res.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return receiver;
}

function decodeSpans(body: Buffer): ReceivedSpan[] {
  const request = proto.collector.trace.v1.ExportTraceServiceRequest.decode(body);
  const spans: ReceivedSpan[] = [];
  for (const resourceSpans of request.resourceSpans ?? []) {
    const resource = attributesOf(resourceSpans.resource?.attributes);
    for (const scope of resourceSpans.scopeSpans ?? []) {
      for (const span of scope.spans ?? []) {
        spans.push({
          traceId: hex(span.traceId), spanId: hex(span.spanId), parentSpanId: hex(span.parentSpanId), traceState: span.traceState ?? '',
          name: span.name, kind: span.kind,
          startMs: nanosToMs(span.startTimeUnixNano), endMs: nanosToMs(span.endTimeUnixNano),
          attributes: attributesOf(span.attributes), status: { code: span.status?.code ?? 0, message: span.status?.message ?? '' }, resource,
        });
      }
    }
  }
  return spans;
}

function decodeMetrics(body: Buffer): ReceivedMetric[] {
  const request = proto.collector.metrics.v1.ExportMetricsServiceRequest.decode(body);
  const metrics: ReceivedMetric[] = [];
  for (const resourceMetrics of request.resourceMetrics ?? []) {
    const resource = attributesOf(resourceMetrics.resource?.attributes);
    for (const scope of resourceMetrics.scopeMetrics ?? []) {
      for (const metric of scope.metrics ?? []) {
        const points = metric.gauge?.dataPoints ?? metric.sum?.dataPoints ?? metric.histogram?.dataPoints ?? [];
        metrics.push({ name: metric.name, resource, points: points.map((point: Codec) => ({
          attributes: attributesOf(point.attributes),
          value: point.asDouble ?? (point.asInt !== undefined && point.asInt !== null ? Number(point.asInt) : point.count !== undefined ? Number(point.count) : undefined),
        })) });
      }
    }
  }
  return metrics;
}

function attributesOf(list: Array<{ key: string; value: Codec }> | undefined): Record<string, AttributeValue> {
  return Object.fromEntries((list ?? []).map(({ key, value }) => [key, valueOf(value)]));
}

function valueOf(value: Codec): AttributeValue {
  if (!value) return undefined;
  if (value.stringValue !== undefined && value.stringValue !== null && value.stringValue !== '') return value.stringValue;
  if (value.boolValue !== undefined && value.boolValue !== null && value.value === 'boolValue') return value.boolValue;
  if (value.intValue !== undefined && value.intValue !== null && value.value === 'intValue') return Number(value.intValue);
  if (value.doubleValue !== undefined && value.doubleValue !== null && value.value === 'doubleValue') return value.doubleValue;
  if (value.arrayValue) return (value.arrayValue.values ?? []).map(valueOf);
  return value.stringValue ?? undefined;
}

function hex(bytes: Uint8Array | undefined): string {
  return bytes && bytes.length > 0 ? Buffer.from(bytes).toString('hex') : '';
}

function nanosToMs(value: Codec): number {
  if (value === undefined || value === null) return 0;
  return Number(BigInt(value.toString()) / 1_000_000n);
}
