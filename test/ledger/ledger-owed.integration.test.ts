import { describe, expect, it } from 'vitest';
import { getLedgerOwed } from '../../src/ledger/due-deliveries.js';
import { useTestDatabase } from '../support/testbed.js';

const SEND = 'send-delay-notifications';
const REMIND = 'send-due-soon-reminders';
const WORKSPACE = '00000000-0000-4000-8000-000000000001';

/** What the console's jobs page says each job's ledger owes: per status, capped, with the oldest owed item. */
describe('getLedgerOwed', () => {
  const testbed = useTestDatabase(['deliveries']);
  const db = () => testbed.database.db;
  const insert = (job: string, status: string, count: number, itemDate = '2026-03-01') => db()('deliveries').insert(
    Array.from({ length: count }, (_, i) => ({ key: `${job}:${status}-${itemDate}-${i}:${itemDate}`, job, workspace_id: WORKSPACE,
      item_id: `${status}-${i}`, item_date: itemDate, status, attempts: 1, message: 'm' })));

  it('counts each status per job, apart, and leaves sent deliveries out', async () => {
    await insert(SEND, 'sent', 4);
    await insert(SEND, 'retry', 2, '2026-02-10');
    await insert(SEND, 'pending', 1, '2026-02-03');
    await insert(SEND, 'dead', 3);
    await insert(REMIND, 'failed', 1);
    await insert(REMIND, 'superseded', 2);

    const owed = await getLedgerOwed(db(), [SEND, REMIND, 'send-workspace-digests']);

    expect(owed.get(SEND)).toEqual({ pending: 1, retry: 2, failed: 0, dead: 3, superseded: 0, atLeast: [], oldestOwedItemDate: '2026-02-03' });
    expect(owed.get(REMIND)).toEqual({ pending: 0, retry: 0, failed: 1, dead: 0, superseded: 2, atLeast: [], oldestOwedItemDate: null });
    expect(owed.get('send-workspace-digests')).toMatchObject({ dead: 0, atLeast: [], oldestOwedItemDate: null });
  });

  it('stops counting at the cap and says which counts are lower bounds', async () => {
    await insert(SEND, 'dead', 5);
    await insert(SEND, 'retry', 2);

    const owed = (await getLedgerOwed(db(), [SEND], 3)).get(SEND)!;

    expect(owed).toMatchObject({ dead: 3, retry: 2, atLeast: ['dead'] });
  });
});
