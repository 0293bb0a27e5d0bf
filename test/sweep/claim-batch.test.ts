import { describe, expect, it } from 'vitest';
import { claimBatchSize } from '../../src/sweep/claim-batch.js';

describe('claimBatchSize', () => {
  it('covers eight rounds of requests in flight', () => {
    expect(claimBatchSize(32, 500)).toBe(256);
    expect(claimBatchSize(100, 1000)).toBe(800);
  });

  it('never claims fewer than 100 at a time, so a slow run still claims a few times a page', () => {
    expect(claimBatchSize(8, 500)).toBe(100);
    expect(claimBatchSize(12, 500)).toBe(100);
    expect(claimBatchSize(1, 500)).toBe(100);
  });

  it('never claims more than a page', () => {
    expect(claimBatchSize(64, 500)).toBe(500);
    expect(claimBatchSize(512, 500)).toBe(500);
    expect(claimBatchSize(8, 50)).toBe(50);
  });
});
