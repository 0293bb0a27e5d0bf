import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { call, OPERATOR, startTestConsole, VIEWER, type TestConsole } from '../support/console-server.js';
import { buildDelayedTodos, insertTodos } from '../support/fixtures.js';
import { runSweep } from '../support/run-sweep.js';
import { useTestbed } from '../support/testbed.js';

const SEND = 'send-delay-notifications';
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run'];

/** A held run in the console (the brake on a storm): shown first, approved by an operator with a reason, through sweep approve's function. */
describe('a held job in the console', () => {
  const testbed = useTestbed();
  const db = () => testbed.database.db;
  let server: TestConsole;
  beforeAll(async () => { server = await startTestConsole(db()); });
  afterAll(async () => { await server?.close(); });
  beforeEach(async () => { await db()('console_audit').del(); });
  const api = (path: string, token: string, method = 'GET', body?: unknown) => call(`${server.url}${path}`, token, method, body);
  const sweep = (args: string[]) => runSweep([SEND, '--at', '2022-06-03T12:00:00Z', ...args], { database: testbed.database,
    servicesUrl: testbed.mock.url });

  async function holdAStorm(): Promise<string> {
    await insertTodos(db(), buildDelayedTodos(1500, 12, '2022-06-01'));
    expect((await sweep([])).exitCode).toBe(65);
    return (await db()('job_runs').where({ status: 'held' }).first()).id as string;
  }

  it('lists the held job first with its count against usual; a viewer may not approve; an operator approves with a reason, audited', async () => {
    const runId = await holdAStorm();

    const jobs = await api('/api/v1/jobs', VIEWER.token);
    expect(jobs.body.jobs[0]).toMatchObject({ job: SEND, health: { state: 'storm', reason: 'runs hold: 1,500 to send where 0 are usual (approve, or fix the data)' },
      held: { heldByRun: runId, hold: { count: 1500, usual: 0, threshold: 1000 } } });
    expect(jobs.body.jobs[0].held.hold.topWorkspaces).toHaveLength(10);
    expect((await api(`/api/v1/runs/${runId}`, VIEWER.token)).body.run).toMatchObject({ status: 'held', hold: { count: 1500 } });

    expect((await api(`/api/v1/jobs/${SEND}/approve`, VIEWER.token, 'POST', { reason: 'looks fine' })).status).toBe(403);
    expect((await api(`/api/v1/jobs/${SEND}/approve`, OPERATOR.token, 'POST', {})).status).toBe(400);
    expect((await api(`/api/v1/jobs/${SEND}/approve`, OPERATOR.token, 'POST', { reason: '  ' })).status).toBe(400);
    expect(await db()('console_audit')).toEqual([]);

    const approved = await api(`/api/v1/jobs/${SEND}/approve`, OPERATOR.token, 'POST', { reason: 'a new customer\'s import, INC-3' });

    expect(approved).toMatchObject({ status: 200, body: { approved: { job: SEND, approvedUpTo: 1500, approvedBy: 'olivia' } } });
    expect(await db()('console_audit')).toMatchObject([{ actor: 'olivia', source: 'console', action: 'approve', job: SEND,
      reason: 'a new customer\'s import, INC-3', details: { upTo: 1500, heldCount: 1500, heldByRun: runId } }]);
    expect((await api('/api/v1/jobs', VIEWER.token)).body.jobs[0].health.state).not.toBe('storm');
    const next = await sweep([]);
    expect(next.summary).toMatchObject({ sent: 1500, approvedUpTo: 1500 });
  });

  it('answers 409 to an approval with nothing held and no upTo', async () => {
    expect((await api(`/api/v1/jobs/${SEND}/approve`, OPERATOR.token, 'POST', { reason: 'nothing to approve' })).status).toBe(409);
    const ahead = await api(`/api/v1/jobs/${SEND}/approve`, OPERATOR.token, 'POST', { reason: 'campaign', upTo: 5000 });
    expect(ahead).toMatchObject({ status: 200, body: { approved: { approvedUpTo: 5000 } } });
  });

  describe.skipIf(!existsSync(CHROMIUM))('in a browser', () => {
    let browser: Browser;
    beforeAll(async () => { browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS }); });
    afterAll(async () => { await browser?.close(); });

    async function signedIn(token: string) {
      const page = await (await browser.newContext()).newPage();
      await page.goto(`${server.url}/jobs`);
      await page.fill('input[name=token]', token);
      await page.click('button[type=submit]');
      await page.waitForURL(`${server.url}/jobs`);
      return page;
    }

    it('shows the storm first with a sample; the held run\'s approve form is an operator\'s, needs a reason, and approves', async () => {
      const runId = await holdAStorm();
      const viewer = await signedIn(VIEWER.token);
      expect((await viewer.locator('tbody tr').first().locator('.state').innerText()).trim()).toBe('storm');
      expect(await viewer.locator('.held').first().innerText()).toMatch(/1,500 to send where 0\s+are usual/);
      await viewer.goto(`${server.url}/runs/${runId}`);
      expect(await viewer.locator('form.approve').count()).toBe(0);

      const page = await signedIn(OPERATOR.token);
      await page.locator('.held summary').first().click();
      expect(await page.locator('.held table.sample tbody tr').count()).toBe(10);
      await page.goto(`${server.url}/runs/${runId}`);
      const form = page.locator(`form.approve[action="/jobs/${SEND}/approve"]`);
      await form.locator('button').click();
      // The reason is required: the browser does not submit it empty.
      expect(new URL(page.url()).pathname).toBe(`/runs/${runId}`);
      expect(await db()('console_audit')).toEqual([]);
      await form.locator('input[name=reason]').fill('checked with the data team, INC-4');
      await form.locator('button').click();
      await page.waitForURL(`${server.url}/jobs`);
      expect(await db()('console_audit')).toMatchObject([{ actor: 'olivia', source: 'console', action: 'approve',
        reason: 'checked with the data team, INC-4', details: { upTo: 1500 } }]);
      expect(await page.locator('.state-storm').count()).toBe(0);
    });
  });
});
