import { describe, expect, it } from 'vitest';
import { ceilingNodeFlags } from './measure-concurrency.js';

describe('ceilingNodeFlags', () => {
  it('gives the ceiling the runners\' flags, with room for its N todos under an old-space cap', () => {
    expect(ceilingNodeFlags(['--max-old-space-size=256'], 20_000)).toEqual(['--max-old-space-size=266']);
    expect(ceilingNodeFlags(['--cpu-prof', '--max-old-space-size=256'], 1_000_000)).toEqual(['--cpu-prof', '--max-old-space-size=733']);
  });

  it('leaves flags without a cap as they are', () => {
    expect(ceilingNodeFlags([], 1_000_000)).toEqual([]);
    expect(ceilingNodeFlags(['--max-semi-space-size=8'], 1_000_000)).toEqual(['--max-semi-space-size=8']);
  });
});
