import { describe, expect, it } from 'vitest';
import { contractViolation, recordable } from '../../src/sweep/notification-contract.js';
import type { Notification } from '../../src/sweep/notification-job.js';

const notification = (overrides: Partial<Notification> = {}): Notification => ({
  key: 'send-delay-notifications:7f3c1c2e-5d0a-4b8e-9a51-0c3f2b9d6e11:2022-06-01',
  workspaceId: 'a9393008-eab2-48e8-b820-0e03447f881c',
  itemId: '7f3c1c2e-5d0a-4b8e-9a51-0c3f2b9d6e11',
  itemDate: '2022-06-01',
  message: 'Todo 7f3c1c2e-5d0a-4b8e-9a51-0c3f2b9d6e11 is delayed',
  ...overrides,
});

describe('what the notify contract can carry', () => {
  it('lets a notification within its limits go', () => {
    expect(contractViolation(notification())).toBeUndefined();
    expect(contractViolation(notification({ itemDate: null, key: 'k'.repeat(255), message: 'm'.repeat(1000) }))).toBeUndefined();
  });

  it.each([
    [{ itemDate: '4713-01-01 BC' }, /item date "4713-01-01 BC" is not a YYYY-MM-DD date/],
    [{ itemDate: '12345-01-01' }, /not a YYYY-MM-DD date/],
    [{ key: 'k'.repeat(256) }, /Idempotency-Key of 256 characters/],
    [{ key: '' }, /Idempotency-Key of 0 characters/],
    [{ message: 'm'.repeat(1001) }, /message of 1001 characters/],
    [{ message: '' }, /it has no message/],
    [{ workspaceId: 'workspace-1' }, /workspace id "workspace-1" is not a UUID/],
  ])('refuses %j, saying why', (overrides, reason) => {
    expect(contractViolation(notification(overrides))).toMatch(reason);
  });

  it('records only a notification with a UUID workspace, as the ledger keys it', () => {
    expect(recordable(notification())).toBe(true);
    expect(recordable(notification({ workspaceId: 'not-a-uuid' }))).toBe(false);
  });
});
