import { randomUUID } from 'node:crypto';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import knexModule from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REARM_CAP } from '../../src/console/request-filters.js';
import { registerSecret } from '../../src/logging/secret-registry.js';
import { insertOwedDeliveries } from '../support/delivery-fixtures.js';
import { call, OPERATOR, signIn, startTestConsole, VIEWER, type TestConsole } from '../support/console-server.js';
import { useTestDatabase } from '../support/testbed.js';

const SEND = 'send-delay-notifications';

/** The console's JSON API through a real HTTP port: who may do what, and what a change leaves behind. */
describe('the console API', () => {
  const testbed = useTestDatabase(['deliveries', 'job_runs', 'job_pauses', 'todos', 'console_audit', 'workspaces']);
  const db = () => testbed.database.db;
  let server: TestConsole;
  beforeAll(async () => { server = await startTestConsole(db()); });
  afterAll(async () => { await server?.close(); });
  /** `token` null: no Authorization header (a cookie in `headers`, or nothing). */
  const api = (path: string, token: string | null, method = 'GET', body?: unknown, headers?: Record<string, string>) =>
    call(`${server.url}${path}`, token ?? undefined, method, body, headers);
  const audit = () => db()('console_audit').orderBy('id');

  it('answers /healthz and /readyz without a token', async () => {
    expect(await api('/healthz', null)).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(await api('/readyz', null)).toMatchObject({ status: 200, body: { status: 'ready' } });
  });

  it('refuses no token and a wrong token with 401 and a JSON error', async () => {
    const none = await api('/api/v1/jobs', null);
    expect(none).toMatchObject({ status: 401, body: { error: 'sign in on /login, or send Authorization: Bearer <token>' } });
    const wrong = await api('/api/v1/jobs', 'not-a-token-of-this-console-at-all');
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toMatch(/no known token/);
    expect((await api('/api/v1/jobs', `${OPERATOR.token}x`)).status).toBe(401);
  });

  it('shows a viewer every job, and refuses a viewer\'s pause with 403, changing nothing', async () => {
    const jobs = await api('/api/v1/jobs', VIEWER.token);
    expect(jobs.status).toBe(200);
    expect(jobs.body.jobs.map((job: { job: string }) => job.job)).toEqual([SEND, 'send-due-soon-reminders', 'send-workspace-digests']);

    const refused = await api(`/api/v1/jobs/${SEND}/pause`, VIEWER.token, 'POST', { reason: 'just looking' });

    expect(refused).toMatchObject({ status: 403, body: { error: 'victor is a viewer: only an operator may do this' } });
    expect(await db()('job_pauses')).toEqual([]);
    expect(await audit()).toEqual([]);
  });

  it('pauses and resumes for an operator, with an audit row each; a reason is required', async () => {
    expect((await api(`/api/v1/jobs/${SEND}/pause`, OPERATOR.token, 'POST', {})).status).toBe(400);
    expect((await api(`/api/v1/jobs/${SEND}/pause`, OPERATOR.token, 'POST', { reason: '' })).status).toBe(400);
    expect((await api(`/api/v1/jobs/${SEND}/pause`, OPERATOR.token, 'POST', { reason: '   ' })).status).toBe(400);
    expect((await api('/api/v1/jobs/no-such-job/pause', OPERATOR.token, 'POST', { reason: 'x' })).status).toBe(404);
    expect(await db()('job_pauses')).toEqual([]);

    const paused = await api(`/api/v1/jobs/${SEND}/pause`, OPERATOR.token, 'POST', { reason: 'wrong text, INC-7' });

    expect(paused).toMatchObject({ status: 200, body: { paused: { job: SEND, pausedBy: 'olivia', reason: 'wrong text, INC-7' } } });
    const job = (await api('/api/v1/jobs', VIEWER.token)).body.jobs.find((entry: { job: string }) => entry.job === SEND);
    expect(job).toMatchObject({ job: SEND, paused: { by: 'olivia', reason: 'wrong text, INC-7' },
      health: { state: 'paused', reason: 'paused by olivia: wrong text, INC-7' } });
    const resumed = await api(`/api/v1/jobs/${SEND}/resume`, OPERATOR.token, 'POST', { reason: 'fixed' });
    expect(resumed).toMatchObject({ status: 200, body: { resumed: true } });
    expect(await audit()).toMatchObject([
      { actor: 'olivia', source: 'console', action: 'pause', job: SEND, reason: 'wrong text, INC-7' },
      { actor: 'olivia', source: 'console', action: 'resume', job: SEND, reason: 'fixed' },
    ]);
    const listed = await api('/api/v1/audit', VIEWER.token);
    expect(listed.body.entries.map((entry: { action: string }) => entry.action)).toEqual(['resume', 'pause']);
  });

  it('stores a pause\'s reason cleaned of every known secret, as the audit does: every viewer reads it', async () => {
    registerSecret(OPERATOR.token);
    const reason = `pasted by mistake: Bearer ${OPERATOR.token} (INC-9)`;
    await api(`/api/v1/jobs/${SEND}/pause`, OPERATOR.token, 'POST', { reason });

    expect(await db()('job_pauses').select('reason')).toEqual([{ reason: 'pasted by mistake: Bearer [redacted] (INC-9)' }]);
    const [job] = (await api('/api/v1/jobs', VIEWER.token)).body.jobs;
    expect(JSON.stringify(job)).not.toContain(OPERATOR.token);
    expect((await audit())[0].reason).toBe('pasted by mistake: Bearer [redacted] (INC-9)');
  });

  it('refuses a change carried by a session cookie from another origin, whatever the cookie', async () => {
    const { cookie } = await signIn(server.url, OPERATOR.token);
    const pause = (headers: Record<string, string>) => api(`/api/v1/jobs/${SEND}/pause`, null, 'POST', { reason: 'csrf' }, { cookie, ...headers });

    expect(await pause({ origin: 'http://evil.example' })).toMatchObject({ status: 403 });
    expect(await pause({ 'sec-fetch-site': 'cross-site', origin: server.url })).toMatchObject({ status: 403 });
    expect(await pause({})).toMatchObject({ status: 403 });
    expect(await db()('job_pauses')).toEqual([]);

    expect(await pause({ origin: server.url })).toMatchObject({ status: 200 });
    expect(await audit()).toMatchObject([{ actor: 'olivia', source: 'console', action: 'pause' }]);
  });

  it('signs in with a session cookie that is HttpOnly, SameSite=Strict, Secure behind https, and never the token', async () => {
    const plain = await signIn(server.url, VIEWER.token);
    expect(plain.setCookie).toMatch(/HttpOnly/);
    expect(plain.setCookie).toMatch(/SameSite=Strict/);
    expect(plain.setCookie).not.toMatch(/Secure/);
    expect(plain.setCookie).not.toContain(VIEWER.token);
    const secure = await signIn(server.url, VIEWER.token, { 'x-forwarded-proto': 'https' });
    expect(secure.setCookie).toMatch(/Secure/);
    expect((await api('/api/v1/jobs', null, 'GET', undefined, { cookie: plain.cookie })).status).toBe(200);
    expect((await api(`/api/v1/jobs/${SEND}/pause`, null, 'POST', { reason: 'x' }, { cookie: plain.cookie, origin: server.url })).status).toBe(403);
  });

  it('leaves a delivery whose todo is gone and lists why, unless the operator forces it, as deliveries retry --force', async () => {
    const [gone, stands] = await insertOwedDeliveries(db(), 2);
    await db()('todos').where({ id: gone!.todo.id }).delete();
    const preview = async () => (await api('/api/v1/deliveries/rearm/preview', OPERATOR.token, 'POST', { job: SEND, status: 'dead' })).body.previewId;

    const plain = await api('/api/v1/deliveries/rearm', OPERATOR.token, 'POST', { previewId: await preview(), reason: 'service fixed' });
    expect(plain).toMatchObject({ status: 200, body: { rearmed: 1, forced: false, notStanding: [{ key: gone!.key }] } });
    expect(await db()('deliveries').where({ key: gone!.key }).first()).toMatchObject({ status: 'dead' });
    expect(await db()('deliveries').where({ key: stands!.key }).first()).toMatchObject({ status: 'retry' });

    const forced = await api('/api/v1/deliveries/rearm', OPERATOR.token, 'POST', { previewId: await preview(), reason: 'send it anyway', force: true });
    expect(forced).toMatchObject({ status: 200, body: { rearmed: 1, forced: true } });
    expect(await db()('deliveries').where({ key: gone!.key }).first()).toMatchObject({ status: 'retry', forced: true });
    expect((await audit()).at(-1)).toMatchObject({ job: SEND, reason: 'send it anyway', details: { force: true, keys: [gone!.key] } });
    // The audit page shows it too: forced, and which key.
    const { cookie } = await signIn(server.url, VIEWER.token);
    const page = await (await fetch(`${server.url}/audit`, { headers: { cookie } })).text();
    expect(page).toContain('<strong class="forced">forced</strong>');
    expect(page).toContain(`<div>${gone!.key}</div>`);
  });

  it('re-arms exactly the previewed deliveries, not what matches the filter by then, once, with an audit row', async () => {
    const first = await insertOwedDeliveries(db(), 3);
    const preview = await api('/api/v1/deliveries/rearm/preview', OPERATOR.token, 'POST', { status: 'dead' });
    expect(preview).toMatchObject({ status: 200, body: { count: 3 } });
    const later = await insertOwedDeliveries(db(), 2);

    const applied = await api('/api/v1/deliveries/rearm', OPERATOR.token, 'POST', { previewId: preview.body.previewId, reason: 'service fixed' });

    expect(applied).toMatchObject({ status: 200, body: { rearmed: 3, notStanding: [] } });
    const statuses = Object.fromEntries((await db()('deliveries').select('key', 'status')).map((row) => [row.key, row.status]));
    for (const { key } of first) expect(statuses[key]).toBe('retry');
    for (const { key } of later) expect(statuses[key]).toBe('dead');
    // The row names the job (a filter by status alone: the one job of the keys), each key re-armed, and force.
    expect(await audit()).toMatchObject([{ actor: 'olivia', source: 'console', action: 'rearm', job: SEND, reason: 'service fixed',
      deliveries_touched: 3, details: { keys: first.map(({ key }) => key).sort(), keysAsked: 3, jobs: [SEND], force: false,
        previewId: preview.body.previewId } }]);
    expect((await api(`/api/v1/audit?job=${SEND}`, VIEWER.token)).body.entries).toMatchObject([{ action: 'rearm', job: SEND }]);
    const again = await api('/api/v1/deliveries/rearm', OPERATOR.token, 'POST', { previewId: preview.body.previewId, reason: 'again' });
    expect(again.status).toBe(404);
    expect((await api('/api/v1/deliveries/rearm', OPERATOR.token, 'POST', { previewId: 'not-a-uuid', reason: 'x' })).status).toBe(400);
    expect((await api('/api/v1/deliveries/rearm', OPERATOR.token, 'POST', { previewId: randomUUID() })).status).toBe(400);
    expect((await api('/api/v1/deliveries/rearm/preview', OPERATOR.token, 'POST', {})).status).toBe(400);
    expect((await api('/api/v1/deliveries/rearm/preview', VIEWER.token, 'POST', { status: 'dead' })).status).toBe(403);
  });

  it(`refuses a re-arm preview that matches more than ${REARM_CAP} deliveries`, async () => {
    await db().raw(`insert into deliveries (key, job, workspace_id, item_id, item_date, status, attempts, message)
      select 'send-delay-notifications:' || i || ':2020-01-01', 'send-delay-notifications', '00000000-0000-4000-8000-000000000001',
             i::text, '2020-01-01', 'dead', 5, 'm' from generate_series(1, ?) as i`, [REARM_CAP + 1]);

    const preview = await api('/api/v1/deliveries/rearm/preview', OPERATOR.token, 'POST', { status: 'dead' });

    expect(preview).toMatchObject({ status: 400, body: { error: `the filter matches more than ${REARM_CAP} re-armable deliveries: narrow it (by job, status, workspace)` } });
    await db()('deliveries').where('item_id', String(REARM_CAP + 1)).del();
    const capped = await api('/api/v1/deliveries/rearm/preview', OPERATOR.token, 'POST', { status: 'dead' });
    expect(capped).toMatchObject({ status: 200, body: { count: REARM_CAP } });
  });

  it('pages runs newest first by cursor, filters them, and tells a malformed filter (400) from an unknown one (404)', async () => {
    const ids = Array.from({ length: 5 }, () => randomUUID());
    await db()('job_runs').insert(ids.map((id, i) => ({ id, job: SEND, status: i === 2 ? 'failed' : 'succeeded', parameters: '{}',
      started_at: db().raw(`now() - ? * interval '1 minute' + interval '123 microseconds'`, [i]) })));
    const seen: string[] = [];
    let cursor: string | null = '';
    while (cursor !== null) {
      const page = await api(`/api/v1/runs?limit=2${cursor ? `&cursor=${cursor}` : ''}`, VIEWER.token);
      expect(page.status).toBe(200);
      seen.push(...page.body.runs.map((run: { id: string }) => run.id));
      cursor = page.body.nextCursor;
    }
    expect(seen).toEqual(ids);
    expect((await api(`/api/v1/runs?status=failed&job=${SEND}`, VIEWER.token)).body.runs.map((run: { id: string }) => run.id)).toEqual([ids[2]]);
    expect((await api('/api/v1/runs?status=exploded', VIEWER.token)).status).toBe(400);
    expect((await api('/api/v1/runs?cursor=bm9wZQ', VIEWER.token)).status).toBe(400);
    expect((await api('/api/v1/runs?job=nope', VIEWER.token)).status).toBe(404);
    expect((await api(`/api/v1/runs/${ids[0]}`, VIEWER.token)).body).toMatchObject({ run: { id: ids[0] }, failures: [], failureCount: 0 });
    expect((await api('/api/v1/runs/not-a-uuid', VIEWER.token)).status).toBe(400);
    expect((await api(`/api/v1/runs/${randomUUID()}`, VIEWER.token)).status).toBe(404);
  });

  it('pages deliveries in key order and filters them by job, status, workspace, key and item', async () => {
    const owed = await insertOwedDeliveries(db(), 5);
    const keys = owed.map(({ key }) => key).sort();
    const first = await api('/api/v1/deliveries?limit=3', VIEWER.token);
    const second = await api(`/api/v1/deliveries?limit=3&cursor=${first.body.nextCursor}`, VIEWER.token);
    expect([...first.body.deliveries, ...second.body.deliveries].map((row: { key: string }) => row.key)).toEqual(keys);
    expect(second.body.nextCursor).toBeNull();
    const { todo } = owed[0]!;
    const byItem = await api(`/api/v1/deliveries?itemId=${todo.id}&workspace=${todo.workspace_id}&status=dead&job=${SEND}`, VIEWER.token);
    expect(byItem.body.deliveries).toMatchObject([{ key: owed[0]!.key, status: 'dead', last_error: 'HTTP 500' }]);
    expect((await api('/api/v1/deliveries?workspace=nope', VIEWER.token)).status).toBe(400);
    expect((await api('/api/v1/deliveries?status=lost', VIEWER.token)).status).toBe(400);
  });

  it('shows one delivery in full with the run that last handled it; an unknown key is 404', async () => {
    const { key, todo } = (await insertOwedDeliveries(db(), 1, { last_error: '<img src=x onerror=alert(1)>' }))[0]!;
    await db()('workspaces').insert({ id: todo.workspace_id, time_zone: 'Asia/Tokyo' });
    const runId = randomUUID();
    await db()('job_runs').insert({ id: runId, job: SEND, status: 'partial', started_at: new Date(), finished_at: new Date() });
    await db()('deliveries').where({ key }).update({ run_id: runId });

    const shown = await api(`/api/v1/deliveries/${encodeURIComponent(key)}`, VIEWER.token);

    expect(shown).toMatchObject({ status: 200, body: { delivery: { key, status: 'dead', attempts: 5, last_status: 500,
      last_error: '<img src=x onerror=alert(1)>', message: expect.stringContaining('is delayed') }, run: { id: runId, status: 'partial' } } });
    // Its workspace's zone, and when it fell due there: the local midnight that ended its due date.
    expect(shown.body.delivery).toMatchObject({ time_zone: 'Asia/Tokyo', fell_due_local: '2020-01-02 00:00' });
    const unknown = await api(`/api/v1/deliveries/${encodeURIComponent(`${SEND}:nothing:2026-01-01`)}`, VIEWER.token);
    expect(unknown).toMatchObject({ status: 404, body: { error: expect.stringContaining('no delivery with key') } });
  });

  it('counts what each job\'s ledger owes and how old the oldest owed notification is, from when it fell due', async () => {
    const { todo } = (await insertOwedDeliveries(db(), 2, { status: 'retry' }))[0]!;
    await insertOwedDeliveries(db(), 1);
    const jobs = async () => (await api('/api/v1/jobs', VIEWER.token)).body.jobs as Array<{ job: string; oldestOwed: { ageSeconds: number } }>;
    const ageOf = async () => (await jobs()).find((job) => job.job === SEND)!.oldestOwed.ageSeconds;
    const [job] = await jobs();
    expect(job).toMatchObject({ ledger: { retry: 2, dead: 1, failed: 0, pending: 0, superseded: 0 }, oldestOwed: { itemDate: '2020-01-01' } });
    // A delay of 2020-01-01 fell due at the midnight that ended it: in UTC, the only zone in use.
    expect(Math.abs(await ageOf() - (Date.now() - Date.parse('2020-01-02T00:00:00Z')) / 1000)).toBeLessThan(60);
    // With a workspace in Los Angeles, the latest it fell due in a zone in use: eight hours later.
    await db()('workspaces').insert({ id: todo.workspace_id, time_zone: 'America/Los_Angeles' });
    expect(Math.abs(await ageOf() - (Date.now() - Date.parse('2020-01-02T08:00:00Z')) / 1000)).toBeLessThan(60);
  });

  it('never writes a token into its log', async () => {
    await signIn(server.url, OPERATOR.token);
    await fetch(`${server.url}/login?token=${encodeURIComponent(VIEWER.token)}`, { redirect: 'manual' });
    await api('/api/v1/jobs', VIEWER.token);
    expect(server.logs()).toContain('console request');
    expect(server.logs()).not.toContain(OPERATOR.token);
    expect(server.logs()).not.toContain(VIEWER.token);
  });
});

describe('readiness', () => {
  it('answers /readyz with 503 within its own 2 s when the database hangs, and at once while that probe still hangs', async () => {
    // A "database" on 127.0.0.1 that takes the connection and never says a word, as a frozen server does.
    const held: Socket[] = [];
    const frozen = createServer((socket) => { held.push(socket); });
    await new Promise<void>((resolve) => frozen.listen(0, '127.0.0.1', resolve));
    const port = (frozen.address() as AddressInfo).port;
    const db = knexModule.knex({ client: 'pg', connection: { host: '127.0.0.1', port, user: 'nobody', database: 'none' }, pool: { min: 0, max: 1 },
      acquireConnectionTimeout: 60_000, log: { error: () => undefined, warn: () => undefined } });
    const server = await startTestConsole(db);
    try {
      let started = Date.now();
      expect(await call(`${server.url}/readyz`, undefined)).toMatchObject({ status: 503, body: { error: 'the database does not answer' } });
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1_900);
      started = Date.now();
      expect((await call(`${server.url}/readyz`, undefined)).status).toBe(503);
      expect(Date.now() - started).toBeLessThan(500);
      expect(await call(`${server.url}/healthz`, undefined)).toMatchObject({ status: 200 });
    } finally {
      for (const socket of held) socket.destroy();
      await server.close();
      await db.destroy();
      await new Promise<void>((resolve) => frozen.close(() => resolve()));
    }
  }, 15_000);

  it('answers /readyz with 503 when the database does not answer, and /healthz with 200 all the same', async () => {
    // A port of 127.0.0.1 nobody listens on: refused at once.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const db = knexModule.knex({ client: 'pg', connection: { host: '127.0.0.1', port, user: 'nobody', database: 'none' }, pool: { min: 0, max: 1 },
      acquireConnectionTimeout: 2000, log: { error: () => undefined, warn: () => undefined } });
    const server = await startTestConsole(db);
    try {
      expect(await call(`${server.url}/readyz`, undefined)).toMatchObject({ status: 503, body: { error: 'the database does not answer' } });
      expect(await call(`${server.url}/healthz`, undefined)).toMatchObject({ status: 200, body: { status: 'ok' } });
    } finally {
      await server.close();
      await db.destroy();
    }
  });
});
