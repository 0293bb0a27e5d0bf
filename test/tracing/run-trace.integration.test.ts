import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { delayNotifications } from '../support/job-fixtures.js';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver.js';
import { runSweep } from '../support/run-sweep.js';
import { useTestbed } from '../support/testbed.js';
import { drawTraceWaterfall } from '../support/trace-waterfall.js';

/**
 * A traced run, as a Collector receives it: the SDK's exporter sends protobuf over HTTP
 * to a receiver on 127.0.0.1 that decodes it; nothing on the sending side is mocked.
 */
describe('a traced run', () => {
  const testbed = useTestbed();
  let receiver: OtlpReceiver;
  beforeAll(async () => { receiver = await startOtlpReceiver(); });
  afterAll(async () => { await receiver?.close(); });
  afterEach(() => {
    receiver.spans.length = 0;
    receiver.setMode('ok');
  });

  const traced = (extra: Record<string, string> = {}) => ({
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SERVICE_NAME: 'sweep-test', OTEL_BSP_SCHEDULE_DELAY: '50', ...extra,
  });
  const sweep = (env: Record<string, string>, args: string[] = ['--page-size', '4']) =>
    runSweep([delayNotifications.job, ...delayNotifications.args, ...args], { database: testbed.database, servicesUrl: testbed.mock.url, env });
  const children = (of: ReceivedSpan, spans = receiver.spans) => spans.filter((span) => span.parentSpanId === of.spanId);
  const isNotification = (span: ReceivedSpan) => span.attributes['sweep.notification.key'] !== undefined;

  it('is one trace: the run at its root, its pages under it, each notification under its page as its request', async () => {
    const expected = await delayNotifications.seed(testbed.database.db, 10, 3);

    const run = await sweep(traced());

    expect(run.exitCode).toBe(0);
    const roots = receiver.spans.filter((span) => span.name === `run ${delayNotifications.job}`);
    expect(roots).toHaveLength(1);
    const root = roots[0]!;
    expect(root.parentSpanId).toBe('');
    expect(receiver.spans.every((span) => span.traceId === root.traceId)).toBe(true);
    expect(root.resource['service.name']).toBe('sweep-test');
    expect(root.attributes).toMatchObject({ 'sweep.job': delayNotifications.job, 'sweep.run.status': 'succeeded',
      'sweep.count.sent': 10, 'process.exit.code': 0, 'sweep.run.date': '2022-06-03' });
    expect(root.status.code).toBe(0);

    const pages = children(root).filter((span) => span.name === 'page' && span.attributes['sweep.page.items'] !== 0)
      .sort((a, b) => Number(a.attributes['sweep.page.number']) - Number(b.attributes['sweep.page.number']));
    expect(pages.map((page) => page.attributes['sweep.page.items'])).toEqual([4, 4, 2]);
    expect(pages.map((page) => page.attributes['sweep.page.claimed'])).toEqual([4, 4, 2]);
    const notifications = pages.flatMap((page) => children(page).filter(isNotification));
    expect(notifications.map((span) => span.attributes['sweep.notification.key']).sort()).toEqual(expected.map((n) => n.key));
    for (const page of pages) expect(children(page).some((span) => span.name === 'read page')).toBe(true);
    // Answered at the first try, a notification is one span: its request's, with the HTTP conventions' attributes.
    for (const notification of notifications) {
      expect(notification).toMatchObject({ kind: 3, attributes: { 'http.request.method': 'POST', 'http.response.status_code': 201,
        'server.address': '127.0.0.1', 'url.full': `${testbed.mock.url}/notify/notifications`, 'sweep.notification.attempts': 1 } });
      expect(children(notification)).toEqual([]);
    }
    // A token per workspace, fetched under the first notification that needed it.
    const tokenFetches = receiver.spans.filter((span) => span.name === 'fetch token');
    expect(tokenFetches).toHaveLength(3);
    for (const fetch of tokenFetches) expect(children(fetch).map((span) => span.name)).toEqual(['POST /auth/token']);
    expect(receiver.spans.filter((span) => span.name === 'record outcomes').every((span) => span.parentSpanId === root.spanId)).toBe(true);

    // Joined to everything else: the services got the run's traceparent, the log lines its ids, job_runs its trace id.
    const journal = testbed.mock.journal();
    expect(journal.length).toBeGreaterThan(0);
    for (const entry of journal) expect(entry.traceparent).toMatch(new RegExp(`^00-${root.traceId}-[0-9a-f]{16}-01$`));
    const requestIds = new Set(receiver.spans.filter((span) => span.kind === 3 && span.name.startsWith('POST')).map((span) => span.spanId));
    expect(journal.every((entry) => requestIds.has(entry.traceparent!.split('-')[2]!))).toBe(true);
    const spanIds = new Set(receiver.spans.map((span) => span.spanId));
    const tracedLines = run.logs.filter((line) => line.trace_id !== undefined);
    expect(tracedLines.length).toBe(run.logs.length);
    for (const line of tracedLines) {
      expect(line.trace_id).toBe(root.traceId);
      expect(spanIds.has(line.span_id as string)).toBe(true);
    }
    expect(run.summary!.span_id).toBe(root.spanId);
    const [row] = await testbed.database.db('job_runs').select('id', 'trace_id');
    expect(row).toEqual({ id: root.attributes['sweep.run.id'], trace_id: root.traceId });

    // docs/operating.md names every span a run makes, and draws this one.
    const operating = readFileSync(new URL('../../docs/operating.md', import.meta.url), 'utf8');
    for (const name of new Set(receiver.spans.map((span) => (span.attributes['db.system'] ? 'SELECT todos' : span.name)))) {
      expect(operating, name).toContain(`\`${name.replace(/^run .*/, 'run <job>')}\``);
    }
    const picture = drawTraceWaterfall(receiver.spans, { maxRows: 70 });
    expect(picture).toContain(`trace ${root.traceId}: ${receiver.spans.length} spans`);
    if (process.env.SWEEP_WRITE_TRACE_SVG) writeFileSync(process.env.SWEEP_WRITE_TRACE_SVG, picture);
  });

  it('shows a retried notification\'s attempts, its backoff and its Retry-After wait', async () => {
    const [first, second] = await delayNotifications.seed(testbed.database.db, 2, 1);
    testbed.mock.configure({ rules: [
      { endpoint: 'notify', match: { key: first!.key }, status: 503, times: 2 },
      { endpoint: 'notify', match: { key: second!.key }, status: 429, headers: { 'Retry-After': '1' }, times: 1 },
    ] });

    const run = await sweep(traced({ HTTP_RETRY_BASE_MS: '20' }));

    expect(run.summary).toMatchObject({ sent: 2 });
    const notify = (key: string) => receiver.spans.find((span) => isNotification(span) && span.attributes['sweep.notification.key'] === key)!;
    const retried = notify(first!.key);
    expect(retried.attributes).toMatchObject({ 'sweep.notification.attempts': 3, 'http.response.status_code': 201 });
    expect(retried.status.code).toBe(0);
    const attempts = children(retried).filter((span) => span.kind === 3).sort((a, b) => a.startMs - b.startMs);
    expect(attempts.map((span) => [span.attributes['http.response.status_code'], span.attributes['http.request.resend_count'], span.status.code]))
      .toEqual([[503, undefined, 2], [503, 1, 2], [201, 2, 0]]);
    const waits = children(retried).filter((span) => span.name === 'retry backoff').sort((a, b) => a.startMs - b.startMs);
    expect(waits.map((span) => span.attributes['sweep.retry.next_attempt'])).toEqual([2, 3]);
    // Each wait lies between the try that failed and the next.
    expect(waits[0]!.startMs).toBeGreaterThanOrEqual(attempts[0]!.endMs);
    expect(waits[0]!.endMs).toBeLessThanOrEqual(attempts[1]!.startMs);
    // The first try went out as the notification's span: the service's own span of it hangs there.
    const firstTry = testbed.mock.journal().find((entry) => entry.key === first!.key)!;
    expect(firstTry.traceparent!.split('-')[2]).toBe(retried.spanId);
    const limited = notify(second!.key);
    expect(children(limited).map((span) => span.name)).toContain('Retry-After wait');
  });

  it('continues the trace a TRACEPARENT in its environment names', async () => {
    await delayNotifications.seed(testbed.database.db, 2, 1);
    const scheduler = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' };

    await sweep(traced({ TRACEPARENT: `00-${scheduler.traceId}-${scheduler.spanId}-01`, TRACESTATE: 'scheduler=argo' }));

    const root = receiver.spans.find((span) => span.name.startsWith('run '))!;
    expect(root).toMatchObject({ traceId: scheduler.traceId, parentSpanId: scheduler.spanId, traceState: 'scheduler=argo' });
    expect(receiver.spans.every((span) => span.traceId === scheduler.traceId)).toBe(true);
  });

  it('keeps or drops a run whole: a sampler that says no exports nothing, yet the services still get the traceparent', async () => {
    await delayNotifications.seed(testbed.database.db, 3, 1);

    const run = await sweep(traced({ OTEL_TRACES_SAMPLER: 'always_off' }));

    expect(run.summary).toMatchObject({ sent: 3 });
    expect(receiver.spans).toHaveLength(0);
    expect(testbed.mock.journal().every((entry) => /^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/.test(entry.traceparent ?? ''))).toBe(true);
    // A run not sampled makes no span under its root: every request carries the root's ids.
    expect(new Set(testbed.mock.journal().map((entry) => entry.traceparent))).toHaveProperty('size', 1);
    expect((await testbed.database.db('job_runs').first('trace_id')).trace_id).toBeNull();
  });

  it('gives the root span error status when the run holds (exit 65), with nothing sent', async () => {
    await delayNotifications.seed(testbed.database.db, 3, 1);

    const run = await sweep(traced(), ['--hold-min', '2']);

    expect(run.exitCode).toBe(65);
    const root = receiver.spans.find((span) => span.name.startsWith('run '))!;
    expect(root.status).toMatchObject({ code: 2, message: expect.stringContaining('exit code 65 (held)') });
    expect(root.attributes).toMatchObject({ 'process.exit.code': 65, 'sweep.run.status': 'held' });
    expect(receiver.spans.filter(isNotification)).toHaveLength(0);
  });

  it('gives the root span error status when the run does not exit 0', async () => {
    const [refused] = await delayNotifications.seed(testbed.database.db, 2, 1);
    testbed.mock.configure({ rules: [{ endpoint: 'notify', match: { key: refused!.key }, status: 503 }] });

    const run = await sweep(traced());

    expect(run.exitCode).toBe(75);
    const root = receiver.spans.find((span) => span.name.startsWith('run '))!;
    expect(root.status).toMatchObject({ code: 2, message: expect.stringContaining('exit code 75') });
    expect(root.attributes).toMatchObject({ 'process.exit.code': 75, 'sweep.run.status': 'partial', 'sweep.count.failedTransiently': 1 });
  });
});
