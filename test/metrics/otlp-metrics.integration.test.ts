import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { delayNotifications } from '../support/job-fixtures.js';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver.js';
import { runSweep } from '../support/run-sweep.js';
import { useTestbed } from '../support/testbed.js';

/** OTEL_METRICS_EXPORTER=otlp: the Pushgateway's series, to a Collector, under the same names. */
describe('the run\'s metrics over OTLP', () => {
  const testbed = useTestbed();
  let receiver: OtlpReceiver;
  let gateway: Server;
  let gatewayUrl: string;
  const pushed: string[] = [];
  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    // A Pushgateway that keeps what it is sent (the exposition format's text).
    gateway = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => { body += chunk.toString(); });
      req.on('end', () => {
        pushed.push(body);
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve));
    gatewayUrl = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await receiver?.close();
    gateway?.closeAllConnections();
    await new Promise((resolve) => gateway?.close(resolve));
  });

  it('exports the very series the Pushgateway gets, with their values, the job as sweep.job', async () => {
    await delayNotifications.seed(testbed.database.db, 6, 2);

    const run = await runSweep([delayNotifications.job, ...delayNotifications.args], { database: testbed.database, servicesUrl: testbed.mock.url,
      env: { PUSHGATEWAY_URL: gatewayUrl, OTEL_METRICS_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `${receiver.url}/v1/metrics`,
        OTEL_SERVICE_NAME: 'sweep-metrics' } });

    expect(run.exitCode).toBe(0);
    // Metrics only: no OTEL_EXPORTER_OTLP_ENDPOINT, so no traces.
    expect(receiver.spans).toHaveLength(0);
    const pushedNames = new Set(pushed.join('\n').split('\n').filter((line) => line !== '' && !line.startsWith('#'))
      .map((line) => /^[a-z_]+/.exec(line)![0].replace(/_(bucket|sum|count)$/, '')));
    const exported = new Map(receiver.metrics.map((metric) => [metric.name, metric]));
    expect(new Set(exported.keys())).toEqual(pushedNames);
    expect(pushedNames.size).toBeGreaterThan(6);
    const point = (name: string, count?: string) => exported.get(name)!.points.find((p) => count === undefined || p.attributes.count === count)!;
    expect(point('sweep_run_exit_code')).toMatchObject({ value: 0, attributes: { 'sweep.job': delayNotifications.job } });
    expect(point('sweep_run_items', 'sent').value).toBe(6);
    const requests = exported.get('sweep_request_duration_seconds')!.points;
    expect(requests.reduce((sum, p) => sum + (p.value ?? 0), 0)).toBe(testbed.mock.journal().length);
    expect(exported.get('sweep_run_exit_code')!.resource['service.name']).toBe('sweep-metrics');
  });

  it('a Collector that is down costs one warning line, not the run', async () => {
    await delayNotifications.seed(testbed.database.db, 2, 1);
    const gone = await startOtlpReceiver();
    await gone.close();

    const run = await runSweep([delayNotifications.job, ...delayNotifications.args], { database: testbed.database, servicesUrl: testbed.mock.url,
      env: { OTEL_METRICS_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: gone.url, OTEL_TRACES_EXPORTER: 'none' } });

    expect(run.exitCode).toBe(0);
    expect(run.summary).toMatchObject({ sent: 2 });
    expect(run.logs.filter((line) => /could not export the run's metrics over OTLP/.test(line.msg))).toHaveLength(1);
  });
});
