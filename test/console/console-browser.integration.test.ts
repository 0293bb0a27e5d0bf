import { existsSync, mkdirSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { insertOwedDeliveries } from '../support/delivery-fixtures.js';
import { OPERATOR, startTestConsole, VIEWER, type TestConsole } from '../support/console-server.js';
import { delayNotifications } from '../support/job-fixtures.js';
import { FAST_HTTP_ENV, runSweep } from '../support/run-sweep.js';
import { startSweepProcess, waitFor } from '../support/sweep-process.js';
import { useTestbed } from '../support/testbed.js';

const SEND = 'send-delay-notifications';
/** Debian's chromium (apt-get install -y chromium); CHROMIUM_PATH for another one. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run'];
const HOSTILE = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>';
const available = existsSync(CHROMIUM);
if (!available && process.env.CI === 'true') throw new Error(`no Chromium at ${CHROMIUM}: CI runs the browser tests (apt-get install -y chromium)`);
if (!available) console.log(`skipping the console's browser tests: no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`);

/** The console in a real headless Chromium: what a person sees and can do, as a viewer and as an operator. */
describe.skipIf(!available)('the console in a browser', () => {
  const testbed = useTestbed();
  const db = () => testbed.database.db;
  let server: TestConsole;
  let browser: Browser;
  beforeAll(async () => {
    server = await startTestConsole(db());
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  async function signedIn(token: string): Promise<Page> {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${server.url}/jobs`);
    expect(new URL(page.url()).pathname).toBe('/login');
    await page.fill('input[name=token]', token);
    await page.click('button[type=submit]');
    await page.waitForURL(`${server.url}/jobs`);
    return page;
  }

  it('signs an operator in and shows the jobs; a screenshot for the README', async () => {
    // A day of the sweep every 15 minutes with a bad hour, and one digest run.
    await db()('job_runs').insert([
      ...Array.from({ length: 40 }, (_, i) => ({ id: randomUUID(), job: SEND, status: i >= 20 && i < 24 ? 'partial' : 'succeeded',
        parameters: '{}', counts: JSON.stringify({ sent: 40 + ((i * 37) % 60), failedTransiently: i >= 20 && i < 24 ? 30 : 0 }),
        started_at: db().raw(`now() - ? * interval '15 minutes'`, [40 - i]),
        finished_at: db().raw(`now() - ? * interval '15 minutes' + ? * interval '1 second'`, [40 - i, 20 + ((i * 13) % 40)]) })),
      // and one run a day on the six days before, for the week's chart.
      ...Array.from({ length: 6 }, (_, i) => ({ id: randomUUID(), job: SEND, status: 'succeeded', parameters: '{}',
        counts: JSON.stringify({ sent: 900 + ((i * 311) % 700) }),
        started_at: db().raw(`now() - ? * interval '1 day'`, [i + 2]), finished_at: db().raw(`now() - ? * interval '1 day' + interval '50 seconds'`, [i + 2]) })),
      { id: randomUUID(), job: 'send-workspace-digests', status: 'partial', parameters: '{}', counts: JSON.stringify({ sent: 3, failedPermanently: 2 }),
        started_at: db().raw(`now() - interval '3 hours'`), finished_at: db().raw(`now() - interval '3 hours' + interval '42 seconds'`) },
    ]);
    await insertOwedDeliveries(db(), 3, { status: 'retry' });
    await insertOwedDeliveries(db(), 2);
    const page = await signedIn(OPERATOR.token);

    expect((await page.locator('h1').innerText()).trim()).toBe('Jobs');
    expect(await page.locator('tbody tr').count()).toBe(3);
    expect((await page.locator('header .who').innerText()).trim()).toBe('olivia (operator)');
    expect(await page.locator(`form[action="/jobs/${SEND}/pause"] button`).count()).toBe(1);
    if (process.env.UPDATE_SCREENSHOT === '1') {
      const docs = fileURLToPath(new URL('../../docs/', import.meta.url));
      mkdirSync(docs, { recursive: true });
      await page.setViewportSize({ width: 1500, height: 420 });
      await page.screenshot({ path: `${docs}console.png`, fullPage: true });
    }
  });

  it('shows a viewer no action', async () => {
    const page = await signedIn(VIEWER.token);
    expect((await page.locator('header .who').innerText()).trim()).toBe('victor (viewer)');
    expect(await page.locator('form[action$="/pause"], form[action$="/resume"]').count()).toBe(0);
    await page.goto(`${server.url}/deliveries?status=dead`);
    expect(await page.locator('form[action="/deliveries/rearm/preview"]').count()).toBe(0);
  });

  it('shows hostile text from the database as text, and runs none of it', async () => {
    await db()('job_pauses').insert({ job: SEND, paused_by: 'mallory', reason: HOSTILE });
    await insertOwedDeliveries(db(), 1, { last_error: HOSTILE });
    const page = await signedIn(VIEWER.token);
    expect(await page.locator('tbody tr', { hasText: SEND }).innerText()).toContain(HOSTILE);
    await page.goto(`${server.url}/deliveries?status=dead`);
    expect((await page.locator('td.error').first().innerText()).trim()).toBe(HOSTILE);
    expect(await page.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.locator('img').count()).toBe(0);
  });

  it('pauses a job with a reason, and the page then offers to resume it', async () => {
    const page = await signedIn(OPERATOR.token);
    const form = page.locator(`form[action="/jobs/${SEND}/pause"]`);
    await form.locator('input[name=reason]').fill('wrong text, INC-42');
    await form.locator('button').click();
    await page.waitForURL(`${server.url}/jobs`);

    const row = page.locator('tbody tr', { hasText: SEND });
    expect(await row.locator('.state').innerText()).toBe('paused');
    expect(await row.innerText()).toContain('paused by olivia: wrong text, INC-42');
    expect(await page.locator(`form[action="/jobs/${SEND}/resume"]`).count()).toBe(1);
    expect(await db()('job_pauses')).toMatchObject([{ job: SEND, paused_by: 'olivia', reason: 'wrong text, INC-42' }]);
  });

  it('re-arms dead deliveries: preview, then confirm with a reason', async () => {
    const dead = await insertOwedDeliveries(db(), 2);
    const page = await signedIn(OPERATOR.token);
    await page.goto(`${server.url}/deliveries?status=dead`);
    await page.click('form.rearm-filter button');
    await page.waitForURL(`${server.url}/deliveries/rearm/preview`);
    expect((await page.locator('h1').innerText()).trim()).toBe('Confirm the re-arm');
    await page.fill('form[action="/deliveries/rearm"] input[name=reason]', 'notify service fixed');
    await page.click('form[action="/deliveries/rearm"] button');
    await page.waitForURL(`${server.url}/deliveries/rearm`);

    expect(await page.locator('.notice').innerText()).toContain('Re-armed 2 delivery(ies)');
    const rows = await db()('deliveries').whereIn('key', dead.map(({ key }) => key)).select('status');
    expect(rows.map((row) => row.status)).toEqual(['retry', 'retry']);
    await page.goto(`${server.url}/audit`);
    expect(await page.locator('tbody tr').first().innerText()).toContain('notify service fixed');
  });

  it.skipIf(inject('testDatabase').kind !== 'postgres')(
    'pauses a job from the page while a real runner sends: the runner stops within seconds, the rest left for later', async () => {
      await delayNotifications.seed(db(), 300, 3);
      testbed.mock.configure({ latencyMs: 200 });
      const runner = startSweepProcess([SEND, ...delayNotifications.args, '--concurrency', '4', '--page-size', '20'],
        { ...testbed.database.env, ...FAST_HTTP_ENV, SERVICES_URL: testbed.mock.url });
      try {
        await waitFor(() => runner.logs().some((line) => /fetched a token/.test(line.msg)), 20_000, 'the runner sending');
        const page = await signedIn(OPERATOR.token);
        const form = page.locator(`form[action="/jobs/${SEND}/pause"]`);
        await form.locator('input[name=reason]').fill('wrong text in the notifications, INC-77');
        await form.locator('button').click();
        const pausedAt = Date.now();

        expect(await runner.exited).toBe(75);
        expect(Date.now() - pausedAt).toBeLessThan(5000);
        expect(await db()('job_runs').where({ job: SEND }).pluck('status')).toEqual(['paused']);
        expect(runner.logs().some((line) => line.pausedBy === 'olivia' && line.level === 'warn')).toBe(true);
        const sent = await db()('deliveries').where({ status: 'sent' }).count<{ n: string }[]>({ n: '*' });
        expect(Number(sent[0]!.n)).toBeLessThan(300);
      } finally {
        runner.child.kill('SIGKILL');
        testbed.mock.configure({ latencyMs: 0 });
      }
    });

  it('re-arms a dead delivery from its row, and the next run sends it once', async () => {
    const [dead] = await insertOwedDeliveries(db(), 1);
    const page = await signedIn(OPERATOR.token);
    await page.goto(`${server.url}/deliveries?key=${encodeURIComponent(dead!.key)}`);
    // The row's own re-arm: a preview of its key, then the reason, as for a set.
    await page.click(`tbody form[action="/deliveries/rearm/preview"] button[aria-label="re-arm ${dead!.key}"]`);
    expect(await page.locator('.notice').innerText()).toContain('1 delivery(ies) match now');
    await page.fill('form[action="/deliveries/rearm"] input[name=reason]', 'the workspace has a channel now');
    await page.click('form[action="/deliveries/rearm"] button');
    await page.waitForURL(`${server.url}/deliveries/rearm`);
    expect(await page.locator('.notice').innerText()).toContain('Re-armed 1 delivery(ies)');

    const sweep = () => runSweep([SEND, ...delayNotifications.args], { database: testbed.database, servicesUrl: testbed.mock.url });
    expect((await sweep()).exitCode).toBe(0);
    expect((await sweep()).exitCode).toBe(0);

    const requested = testbed.mock.journal().filter((entry) => entry.endpoint === 'notify').map((entry) => entry.key);
    expect(requested).toEqual([dead!.key]);
    expect(await db()('deliveries').where({ key: dead!.key }).first()).toMatchObject({ status: 'sent' });
  });

  it('re-arms one delivery from its own page', async () => {
    const [dead] = await insertOwedDeliveries(db(), 2);
    const page = await signedIn(OPERATOR.token);
    await page.goto(`${server.url}/delivery?key=${encodeURIComponent(dead!.key)}`);
    await page.click('main > form[action="/deliveries/rearm/preview"] button');
    await page.fill('form[action="/deliveries/rearm"] input[name=reason]', 'just this one');
    await page.click('form[action="/deliveries/rearm"] button');
    await page.waitForURL(`${server.url}/deliveries/rearm`);
    expect(await db()('deliveries').where({ status: 'retry' }).pluck('key')).toEqual([dead!.key]);
  });

  it('fits every page in 1280 px with the actions on screen, and reads on a 390 px phone, tables scrolling inside themselves', async () => {
    const long = `connect ECONNRESET ${'x'.repeat(3000)}`;
    const [dead] = await insertOwedDeliveries(db(), 3, { last_error: long });
    const runId = randomUUID();
    await db()('job_runs').insert({ id: runId, job: SEND, status: 'failed', parameters: '{}', counts: '{}', error: long,
      started_at: db().raw(`now() - interval '1 hour'`), finished_at: db().raw(`now() - interval '59 minutes'`) });
    await db()('console_audit').insert({ actor: 'olivia', source: 'console', action: 'pause', job: SEND, reason: long, details: '{}' });
    const pages = ['/jobs', '/runs', `/runs/${runId}`, '/deliveries?status=dead', `/delivery?key=${encodeURIComponent(dead!.key)}`, '/audit'];
    const widths = async (page: Page) => page.evaluate(() => {
      const root = (globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } }).document.documentElement;
      return { scroll: root.scrollWidth, client: root.clientWidth };
    });

    const wide = await signedIn(OPERATOR.token);
    await wide.setViewportSize({ width: 1280, height: 800 });
    for (const path of pages) {
      await wide.goto(`${server.url}${path}`);
      expect(await widths(wide), path).toEqual({ scroll: 1280, client: 1280 });
    }
    await wide.goto(`${server.url}/jobs`);
    const button = await wide.locator(`form[action="/jobs/${SEND}/pause"] button`).boundingBox();
    expect(button!.x + button!.width).toBeLessThanOrEqual(1280);

    const phone = await (await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true })).newPage();
    await phone.goto(`${server.url}/login`);
    await phone.fill('input[name=token]', OPERATOR.token);
    await phone.click('button[type=submit]');
    await phone.waitForURL(`${server.url}/jobs`);
    for (const path of pages) {
      await phone.goto(`${server.url}${path}`);
      // 390, not the 980 px a page without a viewport meta is laid out in and shrunk from.
      expect(await widths(phone), path).toEqual({ scroll: 390, client: 390 });
    }
    await phone.goto(`${server.url}/jobs`);
    const form = phone.locator(`form[action="/jobs/${SEND}/pause"]`);
    await form.locator('input[name=reason]').fill('from the phone');
    await form.locator('button').click();
    await phone.waitForURL(`${server.url}/jobs`);
    expect(await db()('job_pauses').pluck('reason')).toEqual(['from the phone']);
  });

  it('folds a 3 KB error to one line, the rest a click away', async () => {
    const long = `HTTP 500: ${'the notify service said something very long. '.repeat(70)}`;
    await insertOwedDeliveries(db(), 1, { last_error: long });
    const page = await signedIn(VIEWER.token);
    await page.goto(`${server.url}/deliveries?status=dead`);
    const row = page.locator('tbody tr').first();
    expect((await row.boundingBox())!.height).toBeLessThan(120);
    await row.locator('details.long summary').click();
    expect((await row.locator('td.error').innerText())).toContain(long.trim().slice(-60).trim());
    expect((await row.boundingBox())!.height).toBeGreaterThan(400);
  });

  it('sends a person who signs in with a next of /%09/evil.example/ to the console\'s jobs, not to another site', async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${server.url}/login?next=/%09/evil.example/`);
    await page.fill('input[name=token]', VIEWER.token);
    await page.click('button[type=submit]');
    await page.waitForURL(`${server.url}/jobs`);
    expect(new URL(page.url()).origin).toBe(server.url);
  });

  it('signs in from the one-time link with the token gone from the address bar; the link then signs nobody in', async () => {
    const link = { name: 'local-operator', role: 'operator' as const, token: 'one-time-link-for-the-browser-0123456789' };
    const demo = await startTestConsole(db(), { tokens: [], auth: { oneTimeLink: link } });
    try {
      const page = await (await browser.newContext()).newPage();
      await page.goto(`${demo.url}/login?token=${link.token}`);
      expect(page.url()).toBe(`${demo.url}/jobs`);
      expect((await page.locator('header .who').innerText()).trim()).toBe('local-operator (operator)');
      const again = await (await browser.newContext()).newPage();
      await again.goto(`${demo.url}/login?token=${link.token}`);
      expect(again.url()).toBe(`${demo.url}/login?notice=link`);
      expect(await again.locator('.notice').innerText()).toContain('That sign-in link is spent');
    } finally {
      await demo.close();
    }
  });

  it('says since when a page is stale once its refresh fails', async () => {
    const own = await startTestConsole(db());
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${own.url}/login`);
    await page.fill('input[name=token]', VIEWER.token);
    await page.click('button[type=submit]');
    await page.waitForURL(`${own.url}/jobs`);
    expect(await page.locator('#stale').isHidden()).toBe(true);

    await own.close();
    await page.locator('#stale').waitFor({ state: 'visible', timeout: 8000 });
    expect(await page.locator('#stale').innerText()).toMatch(/^Stale: these figures are as of \d{2}:\d{2}:\d{2} \(\d+ s ago\); the refresh failed: the console does not answer\.$/);
    await context.close();
  });

  it('refreshes a list page by itself, one request at a time, until the switch is turned off', async () => {
    const page = await signedIn(VIEWER.token);
    const requests: string[] = [];
    page.on('request', (request) => { if (request.url().endsWith('/jobs')) requests.push(request.url()); });
    expect(await page.locator('#auto-refresh').isChecked()).toBe(true);
    await db()('job_pauses').insert({ job: SEND, paused_by: 'someone-else', reason: 'seen without a reload' });
    await page.waitForFunction(() => (globalThis as unknown as { document: { querySelector(s: string): { textContent: string } | null } })
      .document.querySelector('main')?.textContent.includes('seen without a reload'), undefined, { timeout: 8000 });

    await page.locator('#auto-refresh').uncheck();
    const before = requests.length;
    await db()('job_pauses').where({ job: SEND }).update({ reason: 'not shown while paused' });
    await page.waitForTimeout(6500);
    expect(requests.length).toBe(before);
    expect(await page.locator('main').innerText()).not.toContain('not shown while paused');
  });
});
