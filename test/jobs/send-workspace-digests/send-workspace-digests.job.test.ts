import { describe, expect, it } from 'vitest';
import { digestStanding } from '../../../src/jobs/send-workspace-digests/send-workspace-digests.job.js';

const W1 = '7d0e4a36-52b1-4d8e-a1c4-3f1e8a7b6c01';

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
