import { describe, expect, it } from 'vitest';
import { reminderStanding } from '../../../src/jobs/send-due-soon-reminders/send-due-soon-reminders.job.js';
import { zonesOn } from '../../support/run-zones.js';

const TODO = '0b6f8a52-3f3c-4d55-9a43-1c1f3a1e2b10';
const W1 = '7d0e4a36-52b1-4d8e-a1c4-3f1e8a7b6c01';
const W2 = '9a1c2b3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d';

describe('reminderStanding', () => {
  const owed = { key: `send-due-soon-reminders:${TODO}:2022-06-04`, workspaceId: W1, itemId: TODO, itemDate: '2022-06-04' };
  const todo = (dueDate: string, workspaceId = W1) => ({ id: TODO, workspaceId, dueDate, key: `send-due-soon-reminders:${TODO}:${dueDate}`, timeZone: null as string | null });

  it('stands while its todo is due on the same day and that day has not ended in its zone', () => {
    expect(reminderStanding(owed, todo('2022-06-04'), zonesOn('2022-06-03'))).toEqual({ notification: { key: owed.key, workspaceId: W1,
      itemId: TODO, itemDate: '2022-06-04', message: `Todo ${TODO} is due on 2022-06-04` } });
    expect(reminderStanding(owed, todo('2022-06-04'), zonesOn('2022-06-04'))).toHaveProperty('notification');
    expect(reminderStanding(owed, todo('2022-06-04', W2), undefined)).toMatchObject({ notification: { workspaceId: W2 } });
  });

  it('no longer stands once the todo is gone, moved to another day, or its day has ended in its zone', () => {
    expect(reminderStanding(owed, undefined, zonesOn('2022-06-03'))).toEqual({ reason: 'the todo is gone' });
    expect(reminderStanding(owed, todo('2022-06-09'), zonesOn('2022-06-03'))).toEqual({ reason: 'its due date moved to 2022-06-09' });
    expect(reminderStanding(owed, todo('2022-06-04'), zonesOn('2022-06-05')))
      .toEqual({ reason: 'its due date 2022-06-04 has ended in UTC (2022-06-05 there)' });
  });

  it('stays owed while its send time has not come in its zone, or its zone is unknown', () => {
    expect(reminderStanding(owed, todo('2022-06-04'), zonesOn('2022-06-02')))
      .toEqual({ notYet: 'its reminder has not fallen due yet in UTC (2022-06-02 there)' });
    expect(reminderStanding(owed, { ...todo('2022-06-04'), timeZone: 'Mars/Olympus' }, zonesOn('2022-06-03', { unknown: ['Mars/Olympus'] })))
      .toEqual({ notYet: 'its workspace\'s time zone "Mars/Olympus" cannot be judged by this run' });
  });
});
