import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertOwedDeliveries } from '../support/delivery-fixtures.js';
import { OPERATOR, signIn, startTestConsole, VIEWER, type TestConsole } from '../support/console-server.js';
import { useTestDatabase } from '../support/testbed.js';

const SEND = 'send-delay-notifications';
const HOSTILE = '<script>alert(1)</script><img src=x onerror="alert(2)">';

/** The server-rendered pages: escaped, forms for operators only, and a form from elsewhere refused. */
describe('the console pages', () => {
  const testbed = useTestDatabase(['deliveries', 'job_runs', 'job_pauses', 'todos', 'console_audit']);
  const db = () => testbed.database.db;
  let server: TestConsole;
  beforeAll(async () => { server = await startTestConsole(db()); });
  afterAll(async () => { await server?.close(); });
  const page = async (path: string, cookie: string) => {
    const response = await fetch(`${server.url}${path}`, { headers: { cookie }, redirect: 'manual' });
    return { status: response.status, html: await response.text(), headers: response.headers };
  };
  const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1];

  it('sends an anonymous visitor to /login and a signed-in one to the jobs', async () => {
    const anonymous = await fetch(`${server.url}/runs?job=${SEND}`, { redirect: 'manual' });
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.get('location')).toBe(`/login?next=${encodeURIComponent(`/runs?job=${SEND}`)}`);
    const login = await (await fetch(`${server.url}/login`)).text();
    expect(login).toContain('<input type="password" name="token"');
    const { cookie } = await signIn(server.url, VIEWER.token);
    expect((await page('/jobs', cookie)).html).toContain('victor (viewer)');
  });

  it('draws each job\'s runs of the last day, and of the last week per day, as inline SVGs, no script', async () => {
    await db()('job_runs').insert({ id: randomUUID(), job: SEND, status: 'succeeded', parameters: '{}',
      counts: JSON.stringify({ sent: 7, failedPermanently: 1, failedTransiently: 2 }), started_at: db().raw(`now() - interval '1 hour'`),
      finished_at: db().raw(`now() - interval '1 hour' + interval '3 seconds'`) });
    const { cookie } = await signIn(server.url, VIEWER.token);
    const { html } = await page('/jobs', cookie);
    expect(html).toContain('aria-label="1 runs in the last day: 7 sent, 3 failed; longest 3.0 s"');
    expect(html).toContain('no run in the last day');
    expect(html).toContain('aria-label="1 runs in the last 7 days: 7 sent, 3 failed; longest 3.0 s"');
  });

  it('pages runs, deliveries and the audit with keyset links that keep the filters, to the end and back to the first page', async () => {
    const started = Date.parse('2026-11-01T00:00:00Z');
    const runs = Array.from({ length: 130 }, (_, i) => ({ id: randomUUID(), job: SEND, status: 'succeeded', parameters: '{}',
      started_at: new Date(started + i * 60_000) }));
    await db()('job_runs').insert(runs);
    await db()('job_runs').insert({ id: randomUUID(), job: 'send-workspace-digests', status: 'succeeded', parameters: '{}', started_at: new Date(started) });
    const { cookie } = await signIn(server.url, VIEWER.token);
    const runIds = (html: string) => [...html.matchAll(/<a href="\/runs\/([0-9a-f-]{36})">/g)].map((match) => match[1]);
    const nextOf = (html: string) => /<a rel="next" href="([^"]+)">/.exec(html)?.[1]?.replaceAll('&amp;', '&');

    const first = await page(`/runs?job=${SEND}`, cookie);
    const second = await page(nextOf(first.html)!, cookie);

    expect(nextOf(first.html)).toMatch(new RegExp(`^/runs\\?job=${SEND}&cursor=`));
    const newestFirst = runs.map((run) => run.id).reverse();
    expect(runIds(first.html)).toEqual(newestFirst.slice(0, 100));
    expect(runIds(second.html)).toEqual(newestFirst.slice(100));
    expect(nextOf(second.html)).toBeUndefined();
    expect(second.html).toContain('The end of the list.');
    expect(second.html).toContain(`<a href="/runs?job=${SEND}">First page</a>`);
    expect((await page('/runs?cursor=not-a-cursor', cookie)).status).toBe(400);

    const owed = await insertOwedDeliveries(db(), 101);
    const keys = owed.map(({ key }) => key).sort();
    const deliveries = await page(`/deliveries?job=${SEND}&status=dead`, cookie);
    const rest = await page(nextOf(deliveries.html)!, cookie);
    const shownKeys = (html: string) => [...html.matchAll(/<a href="\/delivery\?key=([^"]+)">/g)].map((match) => decodeURIComponent(match[1]!));
    expect([...shownKeys(deliveries.html), ...shownKeys(rest.html)]).toEqual(keys);
    expect(nextOf(rest.html)).toBeUndefined();

    await db()('console_audit').insert(Array.from({ length: 105 }, (_, i) => ({ actor: `actor-${i}`, source: 'cli', action: 'pause', job: SEND })));
    const audit = await page('/audit', cookie);
    const older = await page(nextOf(audit.html)!, cookie);
    expect(older.html).toContain('actor-0<');
    expect(audit.html).not.toContain('actor-0<');
    expect(audit.html).toContain('actor-104<');
  });

  it('renders hostile text from the database as text, on every page that shows it', async () => {
    const { key } = (await insertOwedDeliveries(db(), 1, { last_error: HOSTILE }))[0]!;
    const runId = randomUUID();
    await db()('job_runs').insert({ id: runId, job: SEND, status: 'failed', parameters: JSON.stringify({ date: HOSTILE }), error: HOSTILE });
    await db()('job_pauses').insert({ job: SEND, paused_by: HOSTILE, reason: HOSTILE });
    await db()('console_audit').insert({ actor: HOSTILE, source: 'cli', action: 'pause', job: SEND, reason: HOSTILE });
    const { cookie } = await signIn(server.url, VIEWER.token);

    for (const path of ['/jobs', '/runs', `/runs/${runId}`, '/deliveries?status=dead', `/deliveries?key=${encodeURIComponent(key)}`, `/delivery?key=${encodeURIComponent(key)}`, '/audit']) {
      const { status, html, headers } = await page(path, cookie);
      expect(status, path).toBe(200);
      expect(html, path).toContain('&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=&quot;alert(2)&quot;&gt;');
      // The one script element a page may have is the console's own file.
      expect(html.replaceAll('<script src="/console.js" defer></script>', ''), path).not.toContain('<script');
      expect(html, path).not.toContain('<img');
      expect(headers.get('content-security-policy'), path).toContain("script-src 'self'");
    }
    expect((await page('/delivery?key=no-such-key', cookie)).status).toBe(404);
  });

  it('shows a viewer no action, and refuses the form if a viewer posts it anyway', async () => {
    const { cookie } = await signIn(server.url, VIEWER.token);
    const { html } = await page('/jobs', cookie);
    expect(html).not.toContain(`/jobs/${SEND}/pause`);
    const csrf = csrfOf(html)!;
    const posted = await fetch(`${server.url}/jobs/${SEND}/pause`, { method: 'POST', redirect: 'manual',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', origin: server.url },
      body: new URLSearchParams({ reason: 'sneaky', _csrf: csrf }).toString() });
    expect(posted.status).toBe(403);
    expect(await db()('job_pauses')).toEqual([]);
  });

  it('pauses a job from an operator\'s form with its CSRF token, and refuses the form without it', async () => {
    const { cookie } = await signIn(server.url, OPERATOR.token);
    const { html } = await page('/jobs', cookie);
    expect(html).toContain(`action="/jobs/${SEND}/pause"`);
    const post = (body: Record<string, string>) => fetch(`${server.url}/jobs/${SEND}/pause`, { method: 'POST', redirect: 'manual',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', origin: server.url }, body: new URLSearchParams(body).toString() });

    expect((await post({ reason: 'no token' })).status).toBe(403);
    expect((await post({ reason: 'forged', _csrf: 'x'.repeat(43) })).status).toBe(403);
    expect((await post({ reason: '', _csrf: csrfOf(html)! })).status).toBe(400);
    expect(await db()('job_pauses')).toEqual([]);

    const done = await post({ reason: 'INC-9', _csrf: csrfOf(html)! });

    expect(done.status).toBe(303);
    expect(await db()('job_pauses')).toMatchObject([{ job: SEND, paused_by: 'olivia', reason: 'INC-9' }]);
    expect(await db()('console_audit')).toMatchObject([{ actor: 'olivia', source: 'console', action: 'pause', reason: 'INC-9' }]);
    expect((await page('/jobs', cookie)).html).toContain(`action="/jobs/${SEND}/resume"`);
  });

  it('re-arms from the deliveries page: a preview of the filter, then a confirmation with a reason, for what was previewed only', async () => {
    const first = await insertOwedDeliveries(db(), 2);
    const { cookie } = await signIn(server.url, OPERATOR.token);
    const listing = (await page('/deliveries?status=dead', cookie)).html;
    expect(listing).toContain('Preview a re-arm of this filter');
    const form = (path: string, body: Record<string, string>) => fetch(`${server.url}${path}`, { method: 'POST', redirect: 'manual',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', origin: server.url }, body: new URLSearchParams(body).toString() });

    const preview = await form('/deliveries/rearm/preview', { status: 'dead', _csrf: csrfOf(listing)! });
    const confirmation = await preview.text();
    expect(preview.status).toBe(200);
    expect(confirmation).toContain('Re-arm 2 delivery(ies)');
    const later = await insertOwedDeliveries(db(), 1);
    const previewId = /name="previewId" value="([^"]+)"/.exec(confirmation)![1]!;
    expect((await form('/deliveries/rearm', { previewId, reason: 'fixed', _csrf: 'forged' })).status).toBe(403);

    const applied = await form('/deliveries/rearm', { previewId, reason: 'fixed', _csrf: csrfOf(confirmation)! });

    expect(await applied.text()).toContain('Re-armed 2 delivery(ies)');
    const statuses = Object.fromEntries((await db()('deliveries').select('key', 'status')).map((row) => [row.key, row.status]));
    expect(first.map(({ key }) => statuses[key])).toEqual(['retry', 'retry']);
    expect(statuses[later[0]!.key]).toBe('dead');
    expect(await db()('console_audit')).toMatchObject([{ actor: 'olivia', action: 'rearm', reason: 'fixed', deliveries_touched: 2 }]);
    const viewer = await signIn(server.url, VIEWER.token);
    expect((await page('/deliveries?status=dead', viewer.cookie)).html).not.toContain('Preview a re-arm');
  });
});
