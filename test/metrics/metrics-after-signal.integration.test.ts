import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { delayNotifications } from '../support/job-fixtures.js';
import { FAST_HTTP_ENV } from '../support/run-sweep.js';
import { startSweepProcess, waitFor } from '../support/sweep-process.js';
import { useTestbed } from '../support/testbed.js';

// A process of its own, signalled: the embedded database belongs to the test process.
const onServer = inject('testDatabase').kind === 'postgres';

/** A Pushgateway and a Collector that take the request and never answer. */
async function startHangingServer(): Promise<{ url: string; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const server: Server = createServer((req) => {
    requests.push(`${req.method} ${req.url}`);
    req.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

describe('a run stopped by a signal, at a metrics endpoint that hangs', () => {
  const testbed = useTestbed();
  const servers: Array<{ close(): Promise<void> }> = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.close();
  });

  it.runIf(onServer)('pushes its metrics within what is left of its grace period, never past it', async () => {
    const hanging = await startHangingServer();
    servers.push(hanging);
    await delayNotifications.seed(testbed.database.db, 6, 2);
    testbed.mock.configure({ latencyMs: 3000 });
    const run = startSweepProcess([delayNotifications.job, ...delayNotifications.args, '--concurrency', '2', '--grace-seconds', '1'], {
      ...testbed.database.env, ...FAST_HTTP_ENV, SERVICES_URL: testbed.mock.url,
      // Each push alone may wait 5 s and 2 s: together far past a grace of 1 s.
      HTTP_TIMEOUT_MS: '5000', PUSHGATEWAY_URL: hanging.url,
      OTEL_METRICS_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `${hanging.url}/v1/metrics`,
    });
    await waitFor(() => testbed.mock.stats().notificationRequests >= 2, 20_000, 'requests in flight');

    const signalledAt = Date.now();
    run.child.kill('SIGTERM');
    const exitCode = await run.exited;

    expect(exitCode).toBe(143);
    expect(Date.now() - signalledAt).toBeLessThan(2500);
    // Each push said it could not; the run's record is in the database either way.
    const warnings = run.logs().filter((line) => line.level === 'warn').map((line) => String(line.msg));
    expect(warnings).toEqual(expect.arrayContaining([expect.stringMatching(/^could not push the run's metrics/),
      expect.stringMatching(/^could not export the run's metrics over OTLP/)]));
    expect((await testbed.database.db('job_runs').first('status')).status).toBe('interrupted');
  });
});
