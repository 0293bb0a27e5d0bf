import { afterEach, describe, expect, inject, it } from 'vitest';
import { delayNotifications } from '../support/job-fixtures.js';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver.js';
import { FAST_HTTP_ENV, runSweep } from '../support/run-sweep.js';
import { startSweepProcess, waitFor } from '../support/sweep-process.js';
import { useTestbed } from '../support/testbed.js';

const onServer = inject('testDatabase').kind === 'postgres';

/** Tracing never in the way of a run, and never a place a secret can leak to. */
describe('tracing, whatever the Collector does', () => {
  const testbed = useTestbed();
  const receivers: OtlpReceiver[] = [];
  afterEach(async () => {
    for (const receiver of receivers.splice(0)) await receiver.close();
  });
  const receiver = async (mode: 'ok' | 'refuse' | 'slow' = 'ok') => {
    const started = await startOtlpReceiver(mode);
    receivers.push(started);
    return started;
  };
  const sweep = (env: Record<string, string>) => runSweep([delayNotifications.job, ...delayNotifications.args, '--page-size', '5'],
    { database: testbed.database, servicesUrl: testbed.mock.url, env: { OTEL_BSP_SCHEDULE_DELAY: '20', ...env } });
  const dropLines = (logs: Array<Record<string, unknown>>) => logs.filter((line) => /trace span\(s\) were not exported/.test(String(line.msg)));

  /** Runs the same 20 items untraced, then (rows and mock reset) with `env`: what the run did must not differ. */
  const compareWith = async (env: Record<string, string>) => {
    await delayNotifications.seed(testbed.database.db, 20, 2);
    const untraced = await sweep({});
    await testbed.database.db('deliveries').del();
    await testbed.database.db('job_positions').del();
    testbed.mock.reset();
    const started = performance.now();
    const traced = await sweep(env);
    return { untraced, traced, seconds: (performance.now() - started) / 1000 };
  };

  it.each([
    ['down (nothing listens)', 'dead'],
    ['refusing (503)', 'refuse'],
    ['hanging (never answers)', 'slow'],
  ] as const)('a Collector %s changes neither the exit code nor what is sent, and the loss is logged once', async (_, mode) => {
    let url: string;
    if (mode === 'dead') {
      const gone = await startOtlpReceiver();
      url = gone.url;
      await gone.close();
    } else url = (await receiver(mode)).url;

    // A hanging Collector keeps the exporter's own timeout (10 s): only the flush's bound ends the wait.
    const { untraced, traced, seconds } = await compareWith({ OTEL_EXPORTER_OTLP_ENDPOINT: url,
      ...(mode === 'slow' ? {} : { OTEL_EXPORTER_OTLP_TIMEOUT: '500' }) });

    expect(traced.exitCode).toBe(untraced.exitCode);
    expect(traced.exitCode).toBe(0);
    expect(traced.summary).toMatchObject({ sent: 20, found: 20 });
    expect(untraced.summary).toMatchObject({ sent: 20, found: 20 });
    expect(testbed.mock.stats().notificationRequests).toBe(20);
    const lines = dropLines(traced.logs);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'warn', spansDropped: expect.any(Number) });
    expect(lines[0]!.spansDropped as number).toBeGreaterThan(20);
    // The exit waits for the Collector at most TRACE_FLUSH_MS (2 s), never the exporter's timeout or its retries.
    expect(seconds).toBeLessThan(mode === 'slow' ? 5 : 4);
  });

  it('holds at most OTEL_BSP_MAX_QUEUE_SIZE spans while the Collector hangs, and counts the rest as dropped', async () => {
    const slow = await receiver('slow');
    await delayNotifications.seed(testbed.database.db, 20, 2);

    const run = await sweep({ OTEL_EXPORTER_OTLP_ENDPOINT: slow.url, OTEL_BSP_MAX_QUEUE_SIZE: '10', OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '5' });

    expect(run.summary).toMatchObject({ sent: 20 });
    const [line] = dropLines(run.logs);
    expect(line!.queueFull as number).toBeGreaterThan(0);
    // Whatever is not in the queue was dropped at once: at most 10 were ever held (and exported nowhere).
    expect(line!.exportFailed as number).toBeLessThanOrEqual(10);
  });

  it('exports no secret: no token, no Authorization, no client secret, no OTLP header value', async () => {
    const collector = await receiver();
    await delayNotifications.seed(testbed.database.db, 4, 2);
    testbed.mock.configure({ rules: [{ endpoint: 'notify', status: 401, times: 1 }] });

    const run = await sweep({ OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=collector-key-5e3cr3t' });

    expect(run.summary).toMatchObject({ sent: 4 });
    expect(collector.spans.length).toBeGreaterThan(10);
    expect(collector.headers.every((headers) => headers['x-api-key'] === 'collector-key-5e3cr3t')).toBe(true);
    const exported = JSON.stringify(collector.spans);
    const tokens = testbed.mock.journal().flatMap((entry) => [entry.token, entry.authorization]).filter((value): value is string => Boolean(value));
    expect(tokens.length).toBeGreaterThan(4);
    for (const secret of [...new Set(tokens), 'sweep-local-secret', Buffer.from('sweep-local:sweep-local-secret').toString('base64'),
      'collector-key-5e3cr3t']) {
      expect(exported).not.toContain(secret);
    }
    expect(exported).not.toMatch(/bearer|authorization|db\.query\.text|idempotency/i);
  });

  it.runIf(onServer)('after SIGTERM, a hanging Collector never keeps the run past its grace period', async () => {
    const hanging = await receiver('slow');
    await delayNotifications.seed(testbed.database.db, 6, 2);
    testbed.mock.configure({ latencyMs: 3000 });
    const run = startSweepProcess([delayNotifications.job, ...delayNotifications.args, '--concurrency', '2', '--grace-seconds', '1'],
      { ...testbed.database.env, ...FAST_HTTP_ENV, SERVICES_URL: testbed.mock.url, OTEL_EXPORTER_OTLP_ENDPOINT: hanging.url,
        OTEL_BSP_SCHEDULE_DELAY: '20' });
    await waitFor(() => testbed.mock.stats().notificationRequests >= 2, 20_000, 'requests in flight');
    await waitFor(() => hanging.requests > 0, 20_000, 'a first export, left hanging');

    const signalledAt = Date.now();
    run.child.kill('SIGTERM');
    const exitCode = await run.exited;

    expect(exitCode).toBe(143);
    // The same bound as an untraced run's (test/sweep/signals.integration.test.ts): 1 s of grace, then out.
    expect(Date.now() - signalledAt).toBeLessThan(2500);
    expect(dropLines(run.logs())).toHaveLength(1);
  });

  it.runIf(onServer)('traces each statement with the database conventions, never its text or parameters', async () => {
    const collector = await receiver();
    const expected = await delayNotifications.seed(testbed.database.db, 3, 1);

    await sweep({ OTEL_EXPORTER_OTLP_ENDPOINT: collector.url });

    const statements = collector.spans.filter((span) => span.attributes['db.system'] === 'postgresql');
    expect(statements.length).toBeGreaterThan(5);
    for (const statement of statements) {
      expect(statement).toMatchObject({ kind: 3, attributes: { 'db.system.name': 'postgresql', 'db.operation.name': expect.stringMatching(/^[A-Z]+$/) } });
      expect(statement.name).toBe(statement.attributes['db.query.summary']);
    }
    expect(statements.map((span) => span.name)).toEqual(expect.arrayContaining(['INSERT job_runs', 'UPDATE job_runs']));
    // Not one statement outside the run's trace, and nothing of an item's text or key in them.
    const [root] = collector.spans.filter((span) => span.name.startsWith('run '));
    expect(statements.every((span) => span.traceId === root!.traceId)).toBe(true);
    const exported = JSON.stringify(statements);
    for (const notification of expected) {
      expect(exported).not.toContain(notification.key);
      expect(exported).not.toContain(notification.message);
    }
  });
});
