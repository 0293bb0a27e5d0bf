import { describe, expect, it } from 'vitest';
import type { HistorySetup, Measurement } from './measurement.type.js';
import { zoneVariantsOf } from './measure-history.js';
import { formatHistoryTable, historyBaselines, historyVerdict, type HistoryRow } from './report.js';

const measurement = (kind: Measurement['kind'], rate: number | null, wall: number): Measurement => ({
  kind, concurrency: 64, runners: 1, todos: 100, workspaces: 10, latencyMs: 20, pageSize: 500, ratePerSecond: rate,
  ratioToCeiling: null, jobRatePerSecond: null, maxRate: null, idealRatePerSecond: null, ratioToIdeal: null, wallSeconds: wall,
  peakRssMb: null, roundTrips: null, roundTripsPer1000: null, clientCpuSeconds: 1, mockCpuSeconds: null, pgCpuSeconds: null,
  pgCpuPercentOfSweep: null, pgBackendCpuSeconds: null, tokenFetches: null,
  mock: { notificationRequests: 0, accepted: 0, duplicates: 0 } as Measurement['mock'], mockRssMb: null, verdict: 'ok',
});
const setup = (todos: number): HistorySetup => ({ todos, loadSeconds: 1, vacuumSeconds: 1, migrationSeconds: 1, laterMigrationsSeconds: 0,
  analyzeSeconds: 0, todosMb: 1, deliveriesMb: 1 });
const row = (history: number, variant: string, rate: number, first = true): HistoryRow => ({
  history, variant, setup: setup(history), firstRun: first ? measurement('first-run', null, 1) : undefined,
  rerun: measurement('rerun', null, 0.5), rerunAfter: measurement('rerun', null, 0.6), sweep: measurement('sweep', rate, 10),
});

describe('zoneVariantsOf', () => {
  it('measures the plain history mode once, and --zones Z as Z zones then UTC only', () => {
    expect(zoneVariantsOf({ zones: 0 })).toEqual([{ label: '', zones: 0 }]);
    expect(zoneVariantsOf({ zones: 40 })).toEqual([{ label: '40 zones', zones: 40 }, { label: 'UTC', zones: 0 }]);
  });
});

describe('the history table with --zones', () => {
  const rows = [row(0, '40 zones', 2000), row(0, 'UTC', 2000, false), row(10_000_000, '40 zones', 1850), row(10_000_000, 'UTC', 2000, false)];

  it('compares a zoned row with the UTC-only row of the same history, and each with its own variant\'s H = 0', () => {
    const baselines = historyBaselines(rows);
    expect(baselines.utcOnly(rows[2]!)).toBe(2000);
    expect(baselines.utcOnly(rows[3]!)).toBeNull();
    expect(baselines.noHistory(rows[2]!)).toBe(2000);
    expect(baselines.noHistory(rows[3]!)).toBe(2000);
  });

  it('calls a zoned rate under 0.95 of the UTC-only one SLOW, and one at 0.95 or over ok', () => {
    const baselines = historyBaselines(rows);
    expect(historyVerdict(rows[2]!, baselines)).toMatch(/SLOW: 0\.925 of the UTC-only rate/);
    const fast = [...rows.slice(0, 2), row(10_000_000, '40 zones', 1900), rows[3]!];
    expect(historyVerdict(fast[2]!, historyBaselines(fast))).toBe('ok');
  });

  it('shows a zones and an x UTC column, and no first run for the UTC row', () => {
    const lines = formatHistoryTable(rows, historyBaselines(rows), 20_000).split('\n');
    expect(lines[0]).toMatch(/history H\s+zones\s+load s.*x H=0\s+x UTC/);
    expect(lines.at(-2)).toMatch(/^10,000,000\s+40 zones\s.*\s0\.93\s+0\.93\s/);
    expect(lines.at(-1)).toMatch(/^10,000,000\s+UTC\s+\S+\s+\S+\s+-\s/);
  });

  it('has neither column in the plain history mode', () => {
    const plain = [row(0, '', 2000), row(1_000_000, '', 2010)];
    expect(formatHistoryTable(plain, historyBaselines(plain), 20_000).split('\n')[0]).not.toMatch(/zones|x UTC/);
  });
});
