import { describe, expect, inject, it } from 'vitest';
import { delayNotifications, dueSoonReminders } from '../support/job-fixtures.js';
import { FAST_HTTP_ENV, runSweep } from '../support/run-sweep.js';
import { startSweepProcess, waitFor } from '../support/sweep-process.js';
import { useTestbed } from '../support/testbed.js';

const JOB = delayNotifications.job;

describe('the pause switch', () => {
  const testbed = useTestbed();
  const sweep = (args: string[]) => runSweep(args, { database: testbed.database, servicesUrl: testbed.mock.url });
  const accepted = () => testbed.mock.journal().filter((entry) => entry.outcome === 'accepted').map((entry) => entry.key!);

  it('makes a run of a paused job send nothing, say who paused it and why, and exit 0; resume lets the next one send', async () => {
    const expected = await delayNotifications.seed(testbed.database.db, 5, 2);
    const other = await dueSoonReminders.seed(testbed.database.db, 2, 1);
    const pause = await sweep(['pause', JOB, '--reason', 'wrong text in the message', '--by', 'alice']);
    expect(pause.exitCode).toBe(0);

    const paused = await sweep([JOB, ...delayNotifications.args]);

    expect(paused.exitCode).toBe(0);
    expect(testbed.mock.stats().notificationRequests).toBe(0);
    expect(paused.logs.find((line) => line.level === 'warn' && line.pausedBy === 'alice')).toMatchObject({
      reason: 'wrong text in the message', pausedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      msg: expect.stringMatching(/paused by alice at .*: wrong text in the message: sending nothing/),
    });
    expect(await testbed.database.db('job_runs').where({ job: JOB }).first())
      .toMatchObject({ status: 'paused', error: expect.stringMatching(/^paused by alice at .*: wrong text in the message$/) });
    expect(await testbed.database.db('deliveries')).toEqual([]);
    // Another job is not paused.
    expect((await sweep([dueSoonReminders.job, ...dueSoonReminders.args])).summary).toMatchObject({ sent: other.length });
    const runs = await sweep(['runs']);
    expect(runs.output).toMatch(new RegExp(`\\npaused: ${JOB}, paused by alice at .*: wrong text in the message \\(sweep resume ${JOB}\\)\\n`));
    expect(runs.output).toMatch(new RegExp(`${JOB} .* paused `));

    expect((await sweep(['resume', JOB])).exitCode).toBe(0);
    const resumed = await sweep([JOB, ...delayNotifications.args]);
    expect(resumed.summary).toMatchObject({ sent: expected.length });
    expect((await sweep(['runs'])).output).not.toContain('paused:');
  });

  it('refuses to pause a job it does not know, with exit 64', async () => {
    const run = await sweep(['pause', 'send-everything']);
    expect(run.exitCode).toBe(64);
    expect(run.stderr).toMatch(/'send-everything' is invalid for argument 'job'. Allowed choices are send-delay-notifications/);
  });

  it.skipIf(inject('testDatabase').kind !== 'postgres')(
    'stops every live runner within seconds: in-flight requests finish, the rest is released, exit 75; nothing is lost', async () => {
      const expected = await delayNotifications.seed(testbed.database.db, 400, 4);
      testbed.mock.configure({ latencyMs: 200 });
      const env = { ...testbed.database.env, ...FAST_HTTP_ENV, SERVICES_URL: testbed.mock.url };
      const runners = [1, 2].map(() => startSweepProcess([JOB, ...delayNotifications.args, '--concurrency', '4', '--page-size', '20'], env));
      await waitFor(() => runners.every((runner) => runner.logs().some((line) => /fetched a token/.test(line.msg))),
        20_000, 'both runners sending');

      await sweep(['pause', JOB, '--reason', 'stop it', '--by', 'oncall']);
      const pausedAt = Date.now();
      const exitCodes = await Promise.all(runners.map((runner) => runner.exited));

      expect(exitCodes).toEqual([75, 75]);
      expect(Date.now() - pausedAt).toBeLessThan(5000);
      // No request started more than a couple of seconds after the pause.
      const late = testbed.mock.journal().filter((entry) => entry.endpoint === 'notify' && Date.parse(entry.at) > pausedAt + 2500);
      expect(late).toEqual([]);
      const rows = await testbed.database.db('deliveries').select('key', 'status');
      expect(rows.filter((row) => row.status === 'pending')).toEqual([]);
      expect(rows.filter((row) => row.status === 'sent').map((row) => row.key).sort()).toEqual([...accepted()].sort());
      expect(await testbed.database.db('job_runs').where({ job: JOB }).pluck('status')).toEqual(['paused', 'paused']);
      for (const runner of runners) expect(runner.logs().some((line) => line.pausedBy === 'oncall' && line.level === 'warn')).toBe(true);

      testbed.mock.configure({ latencyMs: 0 });
      await sweep(['resume', JOB]);
      const after = await sweep([JOB, ...delayNotifications.args]);
      expect(after.exitCode).toBe(0);
      expect(accepted().sort()).toEqual(expected.map((n) => n.key));
    });
});
