import { randomUUID } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import knexModule from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertOwedDeliveries } from '../support/delivery-fixtures.js';
import { call, OPERATOR, signIn, startTestConsole, VIEWER, type TestConsole } from '../support/console-server.js';
import { useTestDatabase } from '../support/testbed.js';

const SEND = 'send-delay-notifications';
const DUE_SOON = 'send-due-soon-reminders';
const DIGESTS = 'send-workspace-digests';

/** What the on-call operator reads: each job's health, the same in the API, the pages and the metrics; errors as pages for people. */
describe('the console on call', () => {
  const testbed = useTestDatabase(['deliveries', 'job_runs', 'job_pauses', 'todos', 'console_audit']);
  const db = () => testbed.database.db;
  let server: TestConsole;
  beforeAll(async () => { server = await startTestConsole(db()); });
  afterAll(async () => { await server?.close(); });
  const run = (job: string, status: string, hoursAgo: number, error: string | null = null) => ({
    id: randomUUID(), job, status, parameters: '{}', counts: '{}', error,
    started_at: db().raw(`now() - ? * interval '1 hour'`, [hoursAgo]), finished_at: db().raw(`now() - ? * interval '1 hour' + interval '5 seconds'`, [hoursAgo]),
  });

  it('says each job\'s health in a word and a reason, unhealthy first, alike in the API, the jobs page and the metrics', async () => {
    await db()('job_runs').insert([
      // A 15-minute job whose last two runs failed, though it succeeded an hour ago: failing, not "on schedule".
      run(SEND, 'succeeded', 1), run(SEND, 'failed', 0.5, 'the notify service answered 503'), run(SEND, 'failed', 0.25, 'the notify service answered 503'),
      // A 15-minute job with no success for three days: overdue.
      run(DUE_SOON, 'succeeded', 72),
      // A 15-minute job that succeeds, with dead deliveries no run will send: held.
      run(DIGESTS, 'succeeded', 0.1),
    ]);
    await insertOwedDeliveries(db(), 2);
    await db()('deliveries').update({ job: DIGESTS });

    const jobs = (await call(`${server.url}/api/v1/jobs`, VIEWER.token)).body.jobs as Array<{ job: string; health: { state: string; reason: string } }>;
    expect(jobs.map(({ job, health }) => [job, health.state])).toEqual([[SEND, 'failing'], [DUE_SOON, 'overdue'], [DIGESTS, 'held']]);
    expect(jobs[0]!.health.reason).toBe('the last two runs failed: the notify service answered 503');
    expect(jobs[1]!.health.reason).toBe('no success for 3 d (expected every 15 min)');
    expect(jobs[2]!.health.reason).toBe('2 dead or failed deliveries wait for a re-arm');

    const { cookie } = await signIn(server.url, VIEWER.token);
    const page = await (await fetch(`${server.url}/jobs`, { headers: { cookie } })).text();
    const order = [SEND, DUE_SOON, DIGESTS].map((job) => page.indexOf(`<tr class="health-${job === SEND ? 'failing' : job === DUE_SOON ? 'overdue' : 'held'}">`));
    expect(order.every((at, i) => at > 0 && (i === 0 || at > order[i - 1]!))).toBe(true);
    expect(page).toContain('<span class="state state-failing">failing</span>');
    expect(page).toMatch(/<a class="run run-failed" href="\/runs\/[0-9a-f-]+">failed<\/a>/);
    expect(page).not.toContain('running on schedule');

    const metrics = await call(`${server.url}/metrics`, VIEWER.token);
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    expect(metrics.body).toContain(`sweep_job_health{job="${SEND}",state="failing"} 1`);
    expect(metrics.body).toContain(`sweep_job_health{job="${SEND}",state="healthy"} 0`);
    expect(metrics.body).toContain(`sweep_job_health{job="${DUE_SOON}",state="overdue"} 1`);
    expect(metrics.body).toContain(`sweep_job_deliveries_waiting_for_operator{job="${DIGESTS}"} 2`);
    expect((await call(`${server.url}/metrics`, undefined)).status).toBe(401);
  });

  it('answers a person with an error page and a script with JSON: 404, a stale form\'s 403', async () => {
    const { cookie } = await signIn(server.url, OPERATOR.token);
    const browser = { cookie, accept: 'text/html,application/xhtml+xml' };
    const missing = await fetch(`${server.url}/no-such-page`, { headers: browser });
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toContain('text/html');
    expect(await missing.text()).toContain('<h1>404: not found</h1>');
    expect(await call(`${server.url}/api/v1/no-such-route`, OPERATOR.token, 'GET', undefined, { accept: 'text/html' }))
      .toMatchObject({ status: 404, body: { error: 'no route GET /api/v1/no-such-route' } });

    const stale = await fetch(`${server.url}/jobs/${SEND}/pause`, { method: 'POST', redirect: 'manual',
      headers: { ...browser, 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' },
      body: new URLSearchParams({ reason: 'x', _csrf: 'an-old-token' }).toString() });
    expect(stale.status).toBe(403);
    expect(await stale.text()).toContain('the form is stale or not the console&#39;s own');
  });

  it('answers 500 as a page on the pages and as JSON on the API while the database is down', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const down = knexModule.knex({ client: 'pg', connection: { host: '127.0.0.1', port, user: 'nobody', database: 'none' }, pool: { min: 0, max: 1 },
      acquireConnectionTimeout: 2000, log: { error: () => undefined, warn: () => undefined } });
    const broken = await startTestConsole(down);
    try {
      const { cookie } = await signIn(broken.url, VIEWER.token);
      const page = await fetch(`${broken.url}/jobs`, { headers: { cookie, accept: 'text/html' } });
      expect(page.status).toBe(500);
      expect(await page.text()).toContain('The database may be down');
      expect(await call(`${broken.url}/api/v1/jobs`, VIEWER.token))
        .toMatchObject({ status: 500, body: { error: 'the console could not answer; its log says why' } });
    } finally {
      await broken.close();
      await down.destroy();
    }
  });
});
