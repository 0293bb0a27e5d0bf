import { describe, expect, it } from 'vitest';
import { digestStanding } from '../../../src/jobs/send-workspace-digests/send-workspace-digests.job.js';
import { zonesOn } from '../../support/run-zones.js';

const W1 = '7d0e4a36-52b1-4d8e-a1c4-3f1e8a7b6c01';

describe('digestStanding', () => {
  const owed = { key: `send-workspace-digests:${W1}:2022-06-03`, workspaceId: W1, itemId: W1, itemDate: '2022-06-03' };

  it('stands while the workspace has delayed todos as of the digest\'s day, until that day ends in its zone', () => {
    expect(digestStanding(owed, { workspaceId: W1, day: '2022-06-03', delayed: 3, key: owed.key, timeZone: null }, zonesOn('2022-06-03'))).toEqual({ notification: { key: owed.key,
      workspaceId: W1, itemId: W1, itemDate: '2022-06-03', message: `Workspace ${W1} has 3 delayed todos` } });
  });

  it('no longer stands once its day has ended in the workspace\'s zone; stays owed before its send time or in an unknown zone', () => {
    const now = { workspaceId: W1, day: '2022-06-03', delayed: 3, key: owed.key, timeZone: 'Europe/Berlin' };
    expect(digestStanding(owed, now, zonesOn('2022-06-04', { zones: ['Europe/Berlin'] })))
      .toEqual({ reason: 'its day 2022-06-03 has ended in Europe/Berlin (2022-06-04 there)' });
    expect(digestStanding(owed, now, zonesOn('2022-06-02', { zones: ['Europe/Berlin'] })))
      .toEqual({ notYet: 'its send time on 2022-06-03 has not come yet in Europe/Berlin' });
    expect(digestStanding(owed, { ...now, timeZone: 'Mars/Olympus' }, zonesOn('2022-06-03', { unknown: ['Mars/Olympus'] })))
      .toEqual({ notYet: 'its workspace\'s time zone "Mars/Olympus" cannot be judged by this run' });
  });

  it('no longer stands once the workspace has none as of that day', () => {
    expect(digestStanding(owed, { workspaceId: W1, day: '2022-06-03', delayed: 0, key: owed.key, timeZone: null }, zonesOn('2022-06-03')))
      .toEqual({ reason: 'the workspace has no delayed todos as of 2022-06-03 any more' });
    expect(digestStanding(owed, undefined, undefined)).toEqual({ reason: 'the workspace has no delayed todos as of 2022-06-03 any more' });
    expect(digestStanding({ ...owed, itemDate: null }, undefined, undefined)).toEqual({ reason: 'it has no day' });
  });
});
