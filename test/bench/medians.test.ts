import { describe, expect, it } from 'vitest';
import type { Measurement } from './measurement.type.js';
import { medianRows, pickMedian } from './medians.js';

const row = (kind: Measurement['kind'], rate: number | null, wall: number, verdict = 'ok'): Measurement => ({
  kind, concurrency: 64, runners: 1, todos: 100, workspaces: 10, latencyMs: 20, pageSize: 500, ratePerSecond: rate,
  ratioToCeiling: null, jobRatePerSecond: null, maxRate: null, idealRatePerSecond: null, ratioToIdeal: null, wallSeconds: wall,
  peakRssMb: null, roundTrips: null, roundTripsPer1000: null, clientCpuSeconds: 1, mockCpuSeconds: null, pgCpuSeconds: null,
  pgCpuPercentOfSweep: null, pgBackendCpuSeconds: null, tokenFetches: null,
  mock: { notificationRequests: 0, accepted: 0, duplicates: 0 } as Measurement['mock'], mockRssMb: null, verdict,
});

describe('pickMedian', () => {
  it('picks the middle by score, the lower middle for an even count', () => {
    expect(pickMedian([5, 1, 9], (n) => n)).toBe(5);
    expect(pickMedian([4, 1, 9, 7], (n) => n)).toBe(4);
    expect(pickMedian([], (n: number) => n)).toBeUndefined();
  });
});

describe('medianRows', () => {
  it('keeps a single repeat as it is', () => {
    const rows = [row('ceiling', 100, 1), row('sweep', 90, 1.1), row('rerun', null, 0.4)];
    expect(medianRows([rows])).toBe(rows);
  });

  it('takes the median repeat of each kind and the ratio of the two median rates', () => {
    const rows = medianRows([
      [row('ceiling', 100, 1), row('sweep', 80, 1.2), row('rerun', null, 0.9)],
      [row('ceiling', 120, 1), row('sweep', 95, 1.1), row('rerun', null, 0.5)],
      [row('ceiling', 110, 1), row('sweep', 99, 1.0), row('rerun', null, 0.6)],
    ]);
    expect(rows.map((m) => [m.kind, m.ratePerSecond, m.wallSeconds])).toEqual([
      ['ceiling', 110, 1], ['sweep', 95, 1.1], ['rerun', null, 0.6],
    ]);
    expect(rows[1]?.ratioToCeiling).toBeCloseTo(95 / 110);
  });

  it('keeps a failure of any repeat in the verdict', () => {
    const rows = medianRows([
      [row('ceiling', 100, 1), row('sweep', 90, 1), row('rerun', null, 0.5)],
      [row('ceiling', 100, 1), row('sweep', 91, 1, 'FAILED: mock saw 2 duplicates'), row('rerun', null, 2.5, 'SLOW: over the 2 s target')],
      [row('ceiling', 100, 1), row('sweep', 92, 1), row('rerun', null, 0.6)],
    ]);
    expect(rows[1]?.verdict).toBe('FAILED in 1 of 3 repeats: mock saw 2 duplicates');
    expect(rows[2]?.verdict).toBe('ok (SLOW in 1 of 3 repeats)');
  });
});
