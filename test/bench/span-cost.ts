import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readTelemetryConfig } from '../../src/tracing/telemetry-config.js';
import { startSpan, startTracing, stopTracing, traceparentOf, withSpan } from '../../src/tracing/tracing.js';

/**
 * What the OpenTelemetry SDK costs a notification, alone: the span a traced notification
 * makes (`POST /notify/notifications`, with the sweep's attributes and the HTTP
 * conventions', its traceparent worked out for the request), batched and exported over
 * OTLP/HTTP to a sink in this process, against the same loop untraced. `npx tsx
 * test/bench/span-cost.ts [N]` prints CPU microseconds per notification of each, 3
 * rounds, alternating (docs/performance.md, Tracing).
 */
const N = Number(process.argv[2] ?? 20_000);
const HTTP_ATTRIBUTES = { 'http.request.method': 'POST', 'url.full': 'http://127.0.0.1:3001/notify/notifications',
  'url.template': '/notify/notifications', 'server.address': '127.0.0.1', 'server.port': 3001 };
const headers: Record<string, string | undefined> = {};

async function loop(): Promise<number> {
  const run = startSpan('run bench', { root: {} });
  const before = process.cpuUsage();
  for (let i = 0; i < N; i += 1) {
    await withSpan('POST /notify/notifications', { kind: 'client', parent: run, attributes: { ...HTTP_ATTRIBUTES,
      'sweep.workspace.id': `ws-${i % 200}`, 'sweep.notification.key': `job:${i}` } },
    async (span) => {
      headers.traceparent = traceparentOf(span);
      span.setAttributes({ 'sweep.notification.attempts': 1, 'http.response.status_code': 201 });
    });
    // Let the batch processor's exports run, as they do between a sweep's requests.
    if (i % 500 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  run.end();
  return before.user;
}

const sink = createServer((req, res) => {
  req.resume();
  req.on('end', () => res.end());
});
await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;
const silent = { warn: () => undefined };
for (let round = 1; round <= 3; round += 1) {
  for (const traced of [false, true]) {
    if (traced) await startTracing(readTelemetryConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: url, OTEL_TRACES_SAMPLER: 'always_on' }, []));
    const before = process.cpuUsage();
    await loop();
    // The export of what is queued is part of the cost.
    if (traced) await stopTracing(10_000, silent);
    const used = process.cpuUsage(before);
    process.stdout.write(`round ${round} ${traced ? 'traced  ' : 'untraced'} ${((used.user + used.system) / N).toFixed(1)} us CPU per notification\n`);
  }
}
sink.close();
