import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readTelemetryConfig } from '../../src/tracing/telemetry-config.js';
import { startTracing, stopTracing } from '../../src/tracing/tracing.js';
import { createLogger } from '../../src/logging/logger.js';
import { call, signIn, startTestConsole, VIEWER } from '../support/console-server.js';
import { delayNotifications } from '../support/job-fixtures.js';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver.js';
import { runSweep } from '../support/run-sweep.js';
import { useTestbed } from '../support/testbed.js';

const TRACE_URL = 'https://jaeger.example/trace/{traceId}';

/** Where a person finds a run's trace: `sweep runs show`, the runs API and the console's run page; and the console's own traces. */
describe('a run\'s trace, from its record', () => {
  const testbed = useTestbed();
  let receiver: OtlpReceiver;
  let run: { id: string; traceId: string };
  beforeAll(async () => { receiver = await startOtlpReceiver(); });
  afterAll(async () => { await receiver?.close(); });

  // After the testbed has emptied the tables: a traced run, recorded.
  beforeEach(async () => {
    receiver.spans.length = 0;
    await delayNotifications.seed(testbed.database.db, 2, 1);
    await runSweep([delayNotifications.job, ...delayNotifications.args], { database: testbed.database, servicesUrl: testbed.mock.url,
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url } });
    const root = receiver.spans.find((span) => span.name.startsWith('run '))!;
    run = { id: String(root.attributes['sweep.run.id']), traceId: root.traceId };
  });

  it('sweep runs show prints the trace id, and the link SWEEP_TRACE_URL makes of it', async () => {
    const shown = await runSweep(['runs', 'show', run.id], { database: testbed.database, env: { SWEEP_TRACE_URL: TRACE_URL } });
    expect(shown.output).toMatch(new RegExp(`^trace +${run.traceId}$`, 'm'));
    expect(shown.output).toMatch(new RegExp(`^trace link +https://jaeger\\.example/trace/${run.traceId}$`, 'm'));
    const json = await runSweep(['runs', 'show', run.id, '--json'], { database: testbed.database, env: { SWEEP_TRACE_URL: TRACE_URL } });
    expect(JSON.parse(json.output.split('\n').find((line) => line.startsWith('{"run"'))!)).toMatchObject({
      run: { id: run.id, trace_id: run.traceId }, traceUrl: `https://jaeger.example/trace/${run.traceId}` });
    const plain = await runSweep(['runs', 'show', run.id], { database: testbed.database });
    expect(plain.output).not.toMatch(/^trace link/m);
  });

  it('the runs API and the console\'s run page show it, as a link', async () => {
    const server = await startTestConsole(testbed.database.db, { traceUrl: TRACE_URL });
    try {
      expect((await call(`${server.url}/api/v1/runs/${run.id}`, VIEWER.token)).body).toMatchObject({
        run: { trace_id: run.traceId }, traceUrl: `https://jaeger.example/trace/${run.traceId}` });
      const list = (await call(`${server.url}/api/v1/runs`, VIEWER.token)).body;
      expect(list.runs[0]).toMatchObject({ id: run.id, trace_id: run.traceId });
      const { cookie } = await signIn(server.url, VIEWER.token);
      const html = await (await fetch(`${server.url}/runs/${run.id}`, { headers: { cookie } })).text();
      expect(html).toContain(`<a href="https://jaeger.example/trace/${run.traceId}" rel="noopener noreferrer">${run.traceId}</a>`);
    } finally {
      await server.close();
    }
  });

  it('traces each console request as a trace of its own, named by its route, never by its URL', async () => {
    receiver.spans.length = 0;
    const problems: string[] = [];
    await startTracing(readTelemetryConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SERVICE_NAME: 'sweep-console' }, problems));
    const server = await startTestConsole(testbed.database.db);
    try {
      expect((await call(`${server.url}/api/v1/runs/${run.id}?secret-in-query=s3cr3t-q`, VIEWER.token)).status).toBe(200);
      expect((await call(`${server.url}/api/v1/runs/${run.id}`, undefined)).status).toBe(401);
    } finally {
      await server.close();
      await stopTracing(2000, createLogger({ level: 'silent', format: 'json' }));
    }
    const requests = receiver.spans.filter((span) => span.kind === 2);
    expect(requests.map((span) => [span.name, span.parentSpanId, span.attributes['http.route'], span.attributes['http.response.status_code'],
      span.status.code])).toEqual([
      ['GET /api/v1/runs/:id', '', '/api/v1/runs/:id', 200, 0],
      ['GET /api/v1/runs/:id', '', '/api/v1/runs/:id', 401, 0],
    ]);
    expect(new Set(requests.map((span) => span.traceId)).size).toBe(2);
    if (testbed.database.kind === 'postgres') {
      const statements = receiver.spans.filter((span) => span.traceId === requests[0]!.traceId && span.attributes['db.system'] === 'postgresql');
      expect(statements.length).toBeGreaterThan(0);
    }
    expect(JSON.stringify(receiver.spans)).not.toMatch(/s3cr3t-q|viewer-token/);
  });
});
