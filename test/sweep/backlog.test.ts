import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logging/logger.js';
import { createRunMetrics } from '../../src/metrics/run-metrics.js';
import { createBacklog, recordBacklog } from '../../src/sweep/backlog.js';

const logger = createLogger({ level: 'silent', format: 'json' });
const NOW = Date.parse('2022-06-03T06:00:00Z');

async function ageAfter(oldest: string | undefined, owedDaysBefore?: number, fellDueAt?: Date): Promise<number> {
  const metrics = createRunMetrics();
  recordBacklog(metrics, logger, oldest, owedDaysBefore, NOW, fellDueAt);
  const gauge = (await metrics.registry.getMetricsAsJSON()).find((metric) => metric.name === 'sweep_backlog_oldest_age_seconds');
  return (gauge?.values[0]?.value as number | undefined) ?? Number.NaN;
}

describe('the backlog', () => {
  it('keeps the oldest item date it is told of, ignoring undated items', () => {
    const backlog = createBacklog();
    for (const date of ['2022-05-01', null, '2021-12-31', undefined, '2022-06-01']) backlog.leftBehind(date);
    expect(backlog.oldestItemDate).toBe('2021-12-31');
    expect(createBacklog().oldestItemDate).toBeUndefined();
  });

  it('is how long the oldest notification has been owed since its item date, and 0 with none', async () => {
    expect(await ageAfter(undefined)).toBe(0);
    expect(await ageAfter('2022-06-01')).toBe(2 * 86_400 + 6 * 3600);
  });

  it('counts a reminder as owed from the days before its due date, and not before', async () => {
    // Due tomorrow: owed since today, 06:00 into it.
    expect(await ageAfter('2022-06-04', 1)).toBe(6 * 3600);
    expect(await ageAfter('2022-06-04')).toBe(0);
    expect(await ageAfter('2022-06-10', 1)).toBe(0);
  });

  it('counts from when the notification fell due, where the run could say, never below 0', async () => {
    // A delay of a todo due 2022-06-01 in Los Angeles fell due at 07:00 UTC on the 2nd.
    expect(await ageAfter('2022-06-01', 0, new Date('2022-06-02T07:00:00Z'))).toBe(23 * 3600);
    expect(await ageAfter('2022-06-01', 0, new Date('2022-06-03T07:00:00Z'))).toBe(0);
    expect(await ageAfter(undefined, 0, new Date('2022-06-02T07:00:00Z'))).toBe(0);
  });
});
