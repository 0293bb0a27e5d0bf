import { describe, expect, it } from 'vitest';
import { futureDateRefusal } from '../../src/sweep/run-date.js';

const TODAY = '2026-12-04';
const plain = { allowFutureDate: false, dryRun: false };

describe('futureDateRefusal', () => {
  it('refuses a run date after today, saying why and what the operator can do', () => {
    const refusal = futureDateRefusal('2026-12-05', TODAY, plain);
    expect(refusal).toMatch(/^the run date 2026-12-05 is after today \(2026-12-04, UTC, by the database's clock\)/);
    expect(refusal).toContain('--allow-future-date');
    expect(refusal).not.toContain('\n');
    expect(futureDateRefusal('2062-01-01', TODAY, plain)).toBeDefined();
  });

  it('takes today, any earlier date and the default (no --date)', () => {
    expect(futureDateRefusal(TODAY, TODAY, plain)).toBeUndefined();
    expect(futureDateRefusal('2022-06-03', TODAY, plain)).toBeUndefined();
    expect(futureDateRefusal(undefined, TODAY, plain)).toBeUndefined();
  });

  it('takes a future date with --allow-future-date, or for a dry run', () => {
    expect(futureDateRefusal('2062-01-01', TODAY, { allowFutureDate: true, dryRun: false })).toBeUndefined();
    expect(futureDateRefusal('2062-01-01', TODAY, { allowFutureDate: false, dryRun: true })).toBeUndefined();
  });
});
