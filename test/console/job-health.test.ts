import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EXPECTED_INTERVAL_SECONDS, judgeHealth, type HealthInput } from '../../src/console/job-health.js';

const input = (overrides: Partial<HealthInput> = {}): HealthInput => ({
  // A job no CronJob lists is taken as daily: every notification job runs every 15 minutes.
  job: 'a-daily-job', paused: null, recentRuns: [{ status: 'succeeded', error: null }], secondsSinceLastSuccess: 3600,
  waitingForOperator: 0, ...overrides,
});
const DAY = 86_400;

describe('a job\'s health', () => {
  it('is healthy when its last run succeeded within its interval and nothing waits for an operator', () => {
    expect(judgeHealth(input())).toEqual({ state: 'healthy', reason: 'succeeded 60 min ago' });
  });

  it('is failing when its last two runs failed, or its last one did, whatever the time since a success', () => {
    const failed = { status: 'failed', error: 'the notify service answered 500\nstack…' };
    expect(judgeHealth(input({ recentRuns: [failed, failed] }))).toEqual({ state: 'failing', reason: 'the last two runs failed: the notify service answered 500' });
    expect(judgeHealth(input({ recentRuns: [failed, { status: 'succeeded', error: null }] })).state).toBe('failing');
    expect(judgeHealth(input({ recentRuns: [{ status: 'partial', error: null }, { status: 'partial', error: null }] })))
      .toEqual({ state: 'failing', reason: 'the last two runs partial' });
    expect(judgeHealth(input({ recentRuns: [{ status: 'partial', error: null }, { status: 'succeeded', error: null }] })).state).toBe('healthy');
  });

  it('is overdue when a daily job has had no success for three days, or a 15-minute one for 30 minutes, or never', () => {
    expect(judgeHealth(input({ secondsSinceLastSuccess: 3 * DAY }))).toEqual({ state: 'overdue', reason: 'no success for 3 d (expected every 24 h)' });
    expect(judgeHealth(input({ job: 'send-delay-notifications', secondsSinceLastSuccess: 30 * 60 })).state).toBe('overdue');
    expect(judgeHealth(input({ job: 'send-delay-notifications', secondsSinceLastSuccess: 20 * 60 })).state).toBe('healthy');
    expect(judgeHealth(input({ recentRuns: [], secondsSinceLastSuccess: null }))).toEqual({ state: 'overdue', reason: 'no successful run yet (expected every 24 h)' });
  });

  it('is held when dead or failed deliveries wait for a re-arm, and paused, with who and why, whatever else', () => {
    expect(judgeHealth(input({ waitingForOperator: 1200 }))).toEqual({ state: 'held', reason: '1,200 dead or failed deliveries wait for a re-arm' });
    const failed = { status: 'failed', error: null };
    expect(judgeHealth(input({ paused: { by: 'olivia', reason: 'INC-7' }, recentRuns: [failed, failed] })))
      .toEqual({ state: 'paused', reason: 'paused by olivia: INC-7' });
  });

  it('expects each job as often as its CronJob in deploy/ runs it', () => {
    const schedules = Object.fromEntries(readdirSync('deploy').filter((file) => file.endsWith('.cronjob.yaml') && file !== 'prune.cronjob.yaml')
      .map((file) => [file.replace('.cronjob.yaml', ''), /schedule: "([^"]+)"/.exec(readFileSync(`deploy/${file}`, 'utf8'))![1]]));
    const seconds = (cron: string) => (cron.startsWith('*/') ? Number(/^\*\/(\d+)/.exec(cron)![1]) * 60 : DAY);
    expect(Object.fromEntries(Object.entries(schedules).map(([job, cron]) => [job, seconds(cron!)]))).toEqual(EXPECTED_INTERVAL_SECONDS);
  });
});
