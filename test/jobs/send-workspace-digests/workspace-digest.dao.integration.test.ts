import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { getWorkspaceDigests, surveyWorkspaceDigests } from '../../../src/jobs/send-workspace-digests/workspace-digest.dao.js';
import { buildTodo, insertTodos } from '../../support/fixtures.js';
import { useTestDatabase } from '../../support/testbed.js';
import { zonesOn } from '../../support/run-zones.js';

const RUN_DATE = '2022-06-03';
const key = (workspaceId: string, day = RUN_DATE) => `send-workspace-digests:${workspaceId}:${day}`;

describe('workspace digests', () => {
  const testbed = useTestDatabase(['deliveries', 'todos']);

  const workspaceWith = async (dueDates: string[]) => {
    const workspaceId = randomUUID();
    await insertTodos(testbed.database.db, dueDates.map((due_date) => buildTodo({ workspace_id: workspaceId, due_date })));
    return workspaceId;
  };

  it('is one per workspace with delayed todos, counting only todos due before the run date, in workspace order', async () => {
    const two = await workspaceWith(['2020-01-01', '2022-06-02', RUN_DATE, '2030-01-01']);
    const one = await workspaceWith(['2022-01-01']);
    await workspaceWith([RUN_DATE, '2022-06-04']);
    const expected = [{ workspaceId: two, day: RUN_DATE, delayed: 2, key: key(two) }, { workspaceId: one, day: RUN_DATE, delayed: 1, key: key(one) }]
      .sort((a, b) => a.workspaceId.localeCompare(b.workspaceId));

    const first = await getWorkspaceDigests(testbed.database.db, { zones: zonesOn(RUN_DATE), limit: 1 });
    const rest = await getWorkspaceDigests(testbed.database.db, { zones: zonesOn(RUN_DATE), afterWorkspaceId: first[0]!.workspaceId, limit: 5 });

    expect([...first, ...rest]).toEqual(expected);
  });

  it('leaves out a workspace whose digest for the day is in the ledger, not one that had yesterday\'s', async () => {
    const today = await workspaceWith(['2020-01-01']);
    const yesterday = await workspaceWith(['2020-01-01']);
    for (const [workspaceId, day, status] of [[today, RUN_DATE, 'sent'], [yesterday, '2022-06-02', 'sent']] as const) {
      await testbed.database.db('deliveries').insert({ key: key(workspaceId, day), job: 'send-workspace-digests', workspace_id: workspaceId,
        item_id: workspaceId, item_date: day, message: 'm', status, run_id: randomUUID() });
    }

    expect((await getWorkspaceDigests(testbed.database.db, { zones: zonesOn(RUN_DATE), limit: 10 })).map((d) => d.workspaceId)).toEqual([yesterday]);
    expect(await surveyWorkspaceDigests(testbed.database.db, zonesOn(RUN_DATE))).toEqual({ inScope: 2, alreadySent: 1, previouslyFailed: 0 });
  });
});
