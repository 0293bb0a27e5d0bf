import { describe, expect, it } from 'vitest';
import { delayStanding } from '../../src/jobs/send-delay-notifications/send-delay-notifications.job.js';
import { reminderStanding } from '../../src/jobs/send-due-soon-reminders/send-due-soon-reminders.job.js';
import { digestStanding } from '../../src/jobs/send-workspace-digests/send-workspace-digests.job.js';

const TODO = '0b6f8a52-3f3c-4d55-9a43-1c1f3a1e2b10';
const W1 = '7d0e4a36-52b1-4d8e-a1c4-3f1e8a7b6c01';
const W2 = '9a1c2b3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d';

describe('delayStanding', () => {
  const owed = { key: `send-delay-notifications:${TODO}:2022-06-01`, workspaceId: W1, itemId: TODO, itemDate: '2022-06-01' };
  const todo = (dueDate: string, workspaceId = W1) => ({ id: TODO, workspaceId, dueDate, key: `send-delay-notifications:${TODO}:${dueDate}` });

  it('stands while its todo is there with the same due date, delayed as of the run date, in whatever workspace', () => {
    expect(delayStanding(owed, todo('2022-06-01'), '2022-06-03')).toEqual({ notification: { key: owed.key, workspaceId: W1,
      itemId: TODO, itemDate: '2022-06-01', message: `Todo ${TODO} is delayed` } });
    expect(delayStanding(owed, todo('2022-06-01', W2), '2022-06-03')).toMatchObject({ notification: { workspaceId: W2 } });
    expect(delayStanding(owed, todo('2022-06-01'), undefined)).toHaveProperty('notification');
  });

  it('no longer stands once the todo is gone, its due date moved, or it is not delayed as of the run date', () => {
    expect(delayStanding(owed, undefined, '2022-06-03')).toEqual({ reason: 'the todo is gone' });
    expect(delayStanding(owed, todo('2022-06-10'), '2022-07-01')).toEqual({ reason: 'its due date moved to 2022-06-10' });
    expect(delayStanding(owed, todo('2022-06-01'), '2022-06-01')).toEqual({ reason: 'it is not delayed as of 2022-06-01 (due 2022-06-01)' });
  });
});

describe('reminderStanding', () => {
  const owed = { key: `send-due-soon-reminders:${TODO}:2022-06-04`, workspaceId: W1, itemId: TODO, itemDate: '2022-06-04' };
  const todo = (dueDate: string, workspaceId = W1) => ({ id: TODO, workspaceId, dueDate, key: `send-due-soon-reminders:${TODO}:${dueDate}` });

  it('stands while its todo is due on the same day and that day is not before the run date', () => {
    expect(reminderStanding(owed, todo('2022-06-04'), '2022-06-03')).toEqual({ notification: { key: owed.key, workspaceId: W1,
      itemId: TODO, itemDate: '2022-06-04', message: `Todo ${TODO} is due on 2022-06-04` } });
    expect(reminderStanding(owed, todo('2022-06-04'), '2022-06-04')).toHaveProperty('notification');
    expect(reminderStanding(owed, todo('2022-06-04', W2), undefined)).toMatchObject({ notification: { workspaceId: W2 } });
  });

  it('no longer stands once the todo is gone, moved to another day, or its day is before the run date', () => {
    expect(reminderStanding(owed, undefined, '2022-06-03')).toEqual({ reason: 'the todo is gone' });
    expect(reminderStanding(owed, todo('2022-06-09'), '2022-06-03')).toEqual({ reason: 'its due date moved to 2022-06-09' });
    expect(reminderStanding(owed, todo('2022-06-04'), '2022-06-05'))
      .toEqual({ reason: 'its due date 2022-06-04 is before the run date 2022-06-05' });
  });
});

describe('digestStanding', () => {
  const owed = { key: `send-workspace-digests:${W1}:2022-06-03`, workspaceId: W1, itemId: W1, itemDate: '2022-06-03' };

  it('stands while the workspace has delayed todos as of the digest\'s day, whatever the run date', () => {
    expect(digestStanding(owed, { workspaceId: W1, delayed: 3, key: owed.key })).toEqual({ notification: { key: owed.key,
      workspaceId: W1, itemId: W1, itemDate: '2022-06-03', message: `Workspace ${W1} has 3 delayed todos` } });
  });

  it('no longer stands once the workspace has none as of that day', () => {
    expect(digestStanding(owed, { workspaceId: W1, delayed: 0, key: owed.key }))
      .toEqual({ reason: 'the workspace has no delayed todos as of 2022-06-03 any more' });
    expect(digestStanding(owed, undefined)).toEqual({ reason: 'the workspace has no delayed todos as of 2022-06-03 any more' });
    expect(digestStanding({ ...owed, itemDate: null }, undefined)).toEqual({ reason: 'it has no day' });
  });
});
