import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decideHold, HoldBudgetExceeded, withinBudget } from '../../src/sweep/hold-check.js';
import type { NotificationPage } from '../../src/sweep/item-pages.js';
import { useTestDatabase } from '../support/testbed.js';

const JOB = 'send-delay-notifications';
const OPTIONS = { holdFactor: 10, holdMin: 100, hold: true };
const counted = (count: number) => ({ count, topWorkspaces: [], sample: [] });

/** The brake's decision under the job's lock (hold-check.ts): what every runner of a round agrees on. */
describe('decideHold', () => {
  const testbed = useTestDatabase();
  const db = () => testbed.database.db;
  const startRun = async (startedAgo: string) => {
    const id = randomUUID();
    await db()('job_runs').insert({ id, job: JOB, status: 'running', parameters: '{}', started_at: db().raw(`now() - ?::interval`, [startedAgo]) });
    return id;
  };

  it('holds a runner that counted little once another runner of its round held: runners hold together', async () => {
    const early = await startRun('2 seconds');
    const storm = await startRun('1 second');
    expect(await decideHold(db(), { job: JOB, runId: storm, at: new Date(), options: OPTIONS, counted: counted(5000) }))
      .toMatchObject({ held: { count: 5000 }, joined: false });
    // It counted before the storm committed; the hold was recorded after it started.
    expect(await decideHold(db(), { job: JOB, runId: early, at: new Date(), options: OPTIONS, counted: counted(10) }))
      .toMatchObject({ held: { count: 10 }, joined: true });
    expect(await db()('job_runs').where({ id: early }).first()).toMatchObject({ hold: { count: 10 } });
    // The job's hold keeps the storm's figures.
    expect(await db()('job_holds').first()).toMatchObject({ held_by_run: storm, hold: { count: 5000 } });

    // A run started after the hold decides by its own count: usual, so it goes on, and the hold goes.
    const later = await startRun('0 seconds');
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(await decideHold(db(), { job: JOB, runId: later, at: new Date(), options: OPTIONS, counted: counted(10) }))
      .toMatchObject({ send: { budget: 100, toSend: 10 } });
    expect(await db()('job_holds')).toEqual([]);
  });

  it('cuts the pages a run sends once they hold more than its budget', async () => {
    const page = (n: number): NotificationPage => ({ source: 'scan', notifications: Array.from({ length: n }, (_, i) => ({
      key: `k${i}`, workspaceId: randomUUID(), itemId: String(i), itemDate: null, message: 'm' })) });
    async function* pages() { yield page(60); yield page(60); }
    const read: number[] = [];
    await expect((async () => { for await (const p of withinBudget(pages(), 100)) read.push(p.notifications.length); })())
      .rejects.toBeInstanceOf(HoldBudgetExceeded);
    expect(read).toEqual([60]);
  });
});
