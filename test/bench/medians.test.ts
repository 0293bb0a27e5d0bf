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

describe('the traced row (--tracing)', () => {
  const traced = (rate: number, vsRate: number, vsCpu: number) => ({ ...row('traced', rate, 1), vsUntraced: { rate: vsRate, cpuPerNotification: vsCpu } });

  it('compares by the median of each repeat\'s own ratio, not the ratio of two medians from different repeats', () => {
    const rows = medianRows([
      [row('sweep', 100, 1), traced(99, 0.99, 1.05)],
      [row('sweep', 200, 1), traced(150, 0.75, 1.3)],
      [row('sweep', 120, 1), traced(118, 0.983, 1.08)],
    ]);
    const row2 = rows.find((m) => m.kind === 'traced')!;
    expect(row2.vsUntraced).toEqual({ rate: 0.983, cpuPerNotification: 1.08 });
    expect(row2.verdict).toBe('ok: median of 3 paired ratios: rate x0.983, CPU/n x1.080 vs untraced');
  });

  it('says OVER TARGET when the median ratios miss the issue\'s targets', () => {
    const rows = medianRows([[traced(90, 0.9, 1.2)], [traced(91, 0.95, 1.15)], [traced(92, 0.96, 1.12)]]);
    expect(rows[0]!.verdict).toMatch(/^OVER TARGET: .*rate x0\.950, CPU\/n x1\.150/);
  });
});
