import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobRunner, type JobRunner } from '../../src/console/job-runner.js';
import { notificationJobs } from '../../src/jobs.js';
import { call, OPERATOR, signIn, startTestConsole, VIEWER, type TestConsole } from '../support/console-server.js';
import { delayNotifications } from '../support/job-fixtures.js';
import { FAST_HTTP_ENV } from '../support/run-sweep.js';
import { useTestbed } from '../support/testbed.js';

const SEND = 'send-delay-notifications';

/**
 * On the embedded database the console is the one process that may open it: an operator
 * runs a job from the console, in its process, on its database, while it serves.
 */
describe('running a job from the console', () => {
  const testbed = useTestbed();
  const db = () => testbed.database.db;
  let server: TestConsole;
  let runner: JobRunner;
  let log = '';
  const stop = new AbortController();
  beforeAll(async () => {
    const output = new PassThrough();
    output.on('data', (chunk: Buffer) => { log += chunk.toString(); });
    runner = createJobRunner({ db: db(), jobs: notificationJobs, cwd: process.cwd(), log: output, signal: stop.signal,
      env: { ...testbed.database.env, ...FAST_HTTP_ENV, SERVICES_URL: testbed.mock.url, LOG_FORMAT: 'json' } });
    server = await startTestConsole(db(), { jobRunner: runner });
  });
  afterAll(async () => {
    await runner?.idle();
    await server?.close();
  });

  it('runs it once, recorded as any run, sending what is due; a second while it runs is refused; a viewer may not', async () => {
    await delayNotifications.seed(db(), 6, 2);
    expect((await call(`${server.url}/api/v1/jobs/${SEND}/run`, VIEWER.token, 'POST')).status).toBe(403);

    const started = await call(`${server.url}/api/v1/jobs/${SEND}/run`, OPERATOR.token, 'POST');
    const again = await call(`${server.url}/api/v1/jobs/${SEND}/run`, OPERATOR.token, 'POST');
    expect(started).toMatchObject({ status: 202, body: { started: SEND } });
    expect(again).toMatchObject({ status: 409, body: { error: `a run the console started (${SEND}) is under way: wait for it to end` } });
    await runner.idle();

    expect(runner.last()).toMatchObject({ job: SEND, startedBy: 'olivia', exitCode: 0 });
    expect(await db()('job_runs').where({ job: SEND }).pluck('status')).toEqual(['succeeded']);
    expect(testbed.mock.journal().filter((entry) => entry.endpoint === 'notify')).toHaveLength(6);
    expect(log).toContain('"job":"send-delay-notifications"');

    const { cookie } = await signIn(server.url, OPERATOR.token);
    const page = await (await fetch(`${server.url}/jobs`, { headers: { cookie } })).text();
    expect(page).toContain('send-delay-notifications, started here by olivia, ended with exit code 0.');
    expect(page).toContain(`action="/jobs/${SEND}/run"`);
  });

  it('is refused on PostgreSQL, where the CronJobs run the jobs', async () => {
    const plain = await startTestConsole(db());
    try {
      expect(await call(`${plain.url}/api/v1/jobs/${SEND}/run`, OPERATOR.token, 'POST')).toMatchObject({ status: 409,
        body: { error: 'the console runs jobs only on the embedded database; on PostgreSQL their CronJobs run them (or `sweep <job>`)' } });
    } finally {
      await plain.close();
    }
  });
});
