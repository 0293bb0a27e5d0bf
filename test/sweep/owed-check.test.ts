import { describe, expect, it } from 'vitest';
import type { Notification } from '../../src/sweep/notification-job.js';
import { decideOwed } from '../../src/sweep/owed-check.js';

const owed: Notification = {
  key: 'send-delay-notifications:t-1:2022-06-01', workspaceId: 'w-old', itemId: 't-1', itemDate: '2022-06-01',
  message: 'Todo t-1 is delayed',
};
const now = (overrides: Partial<Notification> = {}) => ({ notification: { ...owed, ...overrides } });

describe('decideOwed', () => {
  it('sends a delivery whose item stands in the same workspace as first meant, the ledger\'s text included', () => {
    expect(decideOwed(owed, now({ message: 'a count that has changed since' }), false)).toEqual({ send: owed });
  });

  it('sends a delivery whose item moved to another workspace to that workspace, with its text now, and says where it was', () => {
    expect(decideOwed(owed, now({ workspaceId: 'w-new', message: 'now' }), false))
      .toEqual({ send: { ...owed, workspaceId: 'w-new', message: 'now' }, movedFrom: 'w-old' });
  });

  it('supersedes a delivery whose item no longer stands, with the job\'s reason', () => {
    expect(decideOwed(owed, { reason: 'the todo is gone' }, false)).toEqual({ supersede: 'the todo is gone' });
  });

  it('supersedes a delivery the job gave no answer for, or whose item now has another key', () => {
    expect(decideOwed(owed, undefined, false)).toEqual({ supersede: 'its item was not found' });
    expect(decideOwed(owed, now({ key: 'send-delay-notifications:t-1:2022-06-09' }), false))
      .toEqual({ supersede: 'its notification is now send-delay-notifications:t-1:2022-06-09' });
  });

  it('leaves a delivery that is not true yet as of the run date owed, unless forced', () => {
    expect(decideOwed(owed, { notYet: 'it is not delayed as of 2022-06-01' }, false)).toEqual({ later: 'it is not delayed as of 2022-06-01' });
    expect(decideOwed(owed, { notYet: 'it is not delayed as of 2022-06-01' }, true)).toEqual({ send: owed });
  });

  it('sends a forced delivery as first meant whatever its item says, but never to a workspace that no longer holds it', () => {
    expect(decideOwed(owed, { reason: 'the todo is gone' }, true)).toEqual({ send: owed });
    expect(decideOwed(owed, undefined, true)).toEqual({ send: owed });
    expect(decideOwed(owed, now({ workspaceId: 'w-new' }), true)).toMatchObject({ send: { workspaceId: 'w-new' }, movedFrom: 'w-old' });
  });
});
