import { expect, it } from 'vitest';
import { notificationJobs } from '../../src/jobs.js';
import { JOB_FIXTURES } from '../support/job-fixtures.js';

it('drives every notification job of the registry through the reliability tests (test/support/job-fixtures.ts)', () => {
  expect(JOB_FIXTURES.map((fixture) => fixture.job).sort()).toEqual(notificationJobs.map((job) => job.name).sort());
});
