import { describe, expect, it } from 'vitest';
import { JOB_FIXTURES } from '../support/job-fixtures.js';
import { runSweep } from '../support/run-sweep.js';
import { useTestbed } from '../support/testbed.js';

/** Far enough ahead to be after the database's today whenever this runs. */
const FUTURE = '2062-01-01';

describe.each(JOB_FIXTURES)('$job: a run date after today', (fixture) => {
  const testbed = useTestbed();
  const sweep = (args: string[]) => runSweep([fixture.job, ...args], { database: testbed.database, servicesUrl: testbed.mock.url });
  const recorded = async () => ({
    runs: await testbed.database.db('job_runs').count<Array<{ count: string }>>('* as count').then(([row]) => Number(row!.count)),
    deliveries: await testbed.database.db('deliveries').count<Array<{ count: string }>>('* as count').then(([row]) => Number(row!.count)),
  });

  it('is refused with exit 64 and one line saying why; nothing is recorded or sent', async () => {
    await fixture.seed(testbed.database.db, 3, 2);

    const run = await sweep(['--date', FUTURE]);

    expect(run.exitCode).toBe(64);
    const errors = run.logs.filter((line) => line.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.msg).toMatch(new RegExp(`^the run date ${FUTURE} is after today \\(\\d{4}-\\d\\d-\\d\\d, UTC, by the database's clock\\)`));
    expect(errors[0]!.msg).toContain('--allow-future-date');
    expect(await recorded()).toEqual({ runs: 0, deliveries: 0 });
    expect(testbed.mock.journal()).toEqual([]);
  });

  it('runs with --allow-future-date, and as a dry run, which records nothing', async () => {
    await fixture.seed(testbed.database.db, 3, 2);

    const dryRun = await sweep(['--date', FUTURE, '--dry-run']);
    expect(dryRun.exitCode).toBe(0);
    expect(await recorded()).toEqual({ runs: 0, deliveries: 0 });

    const allowed = await sweep(['--date', FUTURE, '--allow-future-date']);
    expect(allowed.exitCode).toBe(0);
    expect((await recorded()).runs).toBe(1);
    expect(allowed.summary).toMatchObject({ runDate: FUTURE });
  });
});
