import { describe, expect, it } from 'vitest';
import { holdThreshold, toRounds, usualCount, type PastRun } from '../../src/sweep/usual-count.js';

const QUARTER = 15 * 60_000;
const HOUR = 3600_000;
const DAY = 24 * HOUR;
const START = Date.parse('2026-11-09T00:00:00Z'); // a Monday

/** Bursts at zones' midnights (hours after UTC midnight) with their weekday sizes, a third at weekends, plus a daytime curve. */
const BURSTS = [{ hour: 0, size: 250 }, { hour: 5, size: 300 }, { hour: 15, size: 200 }, { hour: 18.25, size: 60 }, { hour: 23, size: 180 }];
function arriving(from: number, to: number): number {
  let n = 0;
  for (let day = Math.floor(from / DAY) - 1; day <= Math.floor(to / DAY); day += 1) {
    const weekend = [0, 6].includes(new Date(day * DAY).getUTCDay());
    // A month-end (modelled on the Friday of the second week): three times the weekday's todos fall due.
    const monthEnd = day * DAY === START + 11 * DAY;
    for (const burst of BURSTS) {
      const at = day * DAY + burst.hour * HOUR;
      if (at > from && at <= to) n += weekend ? Math.round(burst.size / 3) : monthEnd ? 3 * burst.size : burst.size;
    }
  }
  // A daytime curve between the bursts: 2 a minute at night, 12 at 14:00 UTC.
  for (let t = from; t < to; t += 60_000) {
    const hour = (t % DAY) / HOUR;
    n += Math.round(2 + 10 * Math.max(0, Math.cos(((hour - 14) / 24) * 2 * Math.PI)));
  }
  return n;
}

/** Every 15 minutes for `days`, with an outage of `outage` (no runs) then its catch-up: what each run counted. */
function simulate(days: number, outage?: [number, number]): { runs: PastRun[]; holds: string[] } {
  const runs: PastRun[] = [];
  const holds: string[] = [];
  let last = START - QUARTER;
  for (let t = START; t < START + days * DAY; t += QUARTER) {
    if (outage && t >= outage[0] && t < outage[1]) continue;
    const count = arriving(last, t);
    const usual = usualCount(runs, new Date(t));
    if (count > holdThreshold(usual, { factor: 10, min: 1000 })) holds.push(`${new Date(t).toISOString()}: ${count} vs ${usual}`);
    runs.push({ at: new Date(t), count });
    last = t;
  }
  return { runs, holds };
}

describe('what is usual for a job (usual-count.ts)', () => {
  it('holds 0 times over 14 days of bursts by zone, weekends at a third, a month-end and an outage of four hours then its catch-up', () => {
    const outage: [number, number] = [START + 9 * DAY + 3 * HOUR, START + 9 * DAY + 7 * HOUR];
    const { holds } = simulate(14, outage);
    expect(holds).toEqual([]);
  });

  it('holds a run with ten times the usual at its time of day, and again at the next run while the storm lasts', () => {
    const { runs } = simulate(14);
    const next = START + 14 * DAY + 5 * HOUR;
    const usual = usualCount(runs, new Date(next));
    const regular = arriving(next - QUARTER, next);
    expect(usual).toBeGreaterThan(0);
    const storm = 10 * usual;
    expect(storm + regular).toBeGreaterThan(holdThreshold(usual, { factor: 10, min: 1000 }));
    // The held run is a boundary, not a sample: the next run covers 15 minutes again, not 30.
    const afterHold = usualCount([...runs, { at: new Date(next), count: undefined }], new Date(next + QUARTER));
    expect(storm + regular + arriving(next, next + QUARTER)).toBeGreaterThan(holdThreshold(afterHold, { factor: 10, min: 1000 }));
  });

  it('gives 0 without history, so only --hold-min applies', () => {
    expect(usualCount([], new Date(START))).toBe(0);
    expect(holdThreshold(0, { factor: 10, min: 1000 })).toBe(1000);
    expect(holdThreshold(250, { factor: 10, min: 1000 })).toBe(2500);
  });

  it('counts runners that start within a minute of each other as one round, with the largest count', () => {
    const rounds = toRounds([{ at: new Date(START), count: 10 }, { at: new Date(START + 5_000), count: 12 },
      { at: new Date(START + QUARTER), count: 3 }]);
    expect(rounds).toEqual([{ at: START, count: 12 }, { at: START + QUARTER, count: 3 }]);
  });

  it('scales with the time since the previous round: four hours without runs is four hours\' worth', () => {
    const runs = Array.from({ length: 14 * 96 }, (_, i) => ({ at: new Date(START + i * QUARTER), count: 30 }));
    const end = START + 14 * DAY;
    expect(usualCount(runs, new Date(end))).toBe(30);
    expect(usualCount(runs.filter((run) => run.at.getTime() < end - 4 * HOUR + QUARTER), new Date(end))).toBe(16 * 30);
  });
});
