import { describe, expect, it } from 'vitest';
import { delayStanding } from '../../../src/jobs/send-delay-notifications/send-delay-notifications.job.js';
import { zonesOn } from '../../support/run-zones.js';

const TODO = '0b6f8a52-3f3c-4d55-9a43-1c1f3a1e2b10';
const W1 = '7d0e4a36-52b1-4d8e-a1c4-3f1e8a7b6c01';
const W2 = '9a1c2b3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d';

describe('delayStanding', () => {
  const owed = { key: `send-delay-notifications:${TODO}:2022-06-01`, workspaceId: W1, itemId: TODO, itemDate: '2022-06-01' };
  const todo = (dueDate: string, workspaceId = W1) => ({ id: TODO, workspaceId, dueDate, key: `send-delay-notifications:${TODO}:${dueDate}`, timeZone: null as string | null });

  it('stands while its todo is there with the same due date, delayed in its zone as of the run, in whatever workspace', () => {
    expect(delayStanding(owed, todo('2022-06-01'), zonesOn('2022-06-03'))).toEqual({ notification: { key: owed.key, workspaceId: W1,
      itemId: TODO, itemDate: '2022-06-01', message: `Todo ${TODO} is delayed` } });
    expect(delayStanding(owed, todo('2022-06-01', W2), zonesOn('2022-06-03'))).toMatchObject({ notification: { workspaceId: W2 } });
    expect(delayStanding(owed, todo('2022-06-01'), undefined)).toHaveProperty('notification');
  });

  it('no longer stands once the todo is gone or its due date moved', () => {
    expect(delayStanding(owed, undefined, zonesOn('2022-06-03'))).toEqual({ reason: 'the todo is gone' });
    expect(delayStanding(owed, todo('2022-06-10'), zonesOn('2022-07-01'))).toEqual({ reason: 'its due date moved to 2022-06-10' });
  });

  it('is not true yet, and stays owed, while the todo is not delayed yet in its workspace\'s zone', () => {
    expect(delayStanding(owed, todo('2022-06-01'), zonesOn('2022-06-01'))).toEqual({ notYet: 'it is not delayed yet in UTC (due 2022-06-01, 2022-06-01 there)' });
  });

  it('stays owed while its workspace is in a zone PostgreSQL does not know', () => {
    expect(delayStanding(owed, { ...todo('2022-06-01'), timeZone: 'Mars/Olympus' }, zonesOn('2022-06-03', { unknown: ['Mars/Olympus'] })))
      .toEqual({ notYet: 'its workspace\'s time zone "Mars/Olympus" cannot be judged by this run' });
  });
});
