import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { describe, expect, inject, it } from 'vitest';
import { buildTodo, insertTodos, keyOf, type TodoRow } from '../../support/fixtures.js';
import { runSweep } from '../../support/run-sweep.js';
import { useTestbed } from '../../support/testbed.js';

const SEND = 'send-delay-notifications';
const REMIND = 'send-due-soon-reminders';
const DIGEST = 'send-workspace-digests';

const utcDay = (offsetDays = 0) => new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);

/**
 * prune without --allow-resend never deletes a delivery a run could ask for again,
 * whatever the cutoff (from 1h), however long the job has gone without a run that
 * settled anything, and whatever the database's time zone. Each case ends with the runs
 * that could ask, and the mock's journal shows no key requested again.
 */
describe('prune never makes a job send twice', () => {
  const testbed = useTestbed();
  const db = () => testbed.database.db;
  const sweep = (args: string[]) => runSweep(args, { database: testbed.database, servicesUrl: testbed.mock.url });
  const requested = () => testbed.mock.journal().filter((entry) => entry.endpoint === 'notify').map((entry) => entry.key!);
  const expectNoKeyTwice = () => expect(requested().length).toBe(new Set(requested()).size);
  /** Time passing for the ledger: what was written then is `minutes` older now. */
  const age = (minutes: number) => db()('deliveries').update({ updated_at: db().raw(`updated_at - ? * interval '1 minute'`, [minutes]) });

  it('keeps the deliveries of todos its next run still reads as changed, while no run of the job settles anything', async () => {
    const [history] = await insertTodos(db(), [buildTodo({ due_date: '2021-01-01' })]);
    expect((await sweep([SEND, '--date', '2022-06-03'])).summary).toMatchObject({ sent: 1 });
    const stalled = await db()('job_positions').where({ job: SEND }).first();
    // Written behind the position after the last run that settled anything; sent by runs
    // that stopped before they could remember (as a partial outage of hours leaves them).
    const late = await insertTodos(db(), [1, 2, 3, 4, 5].map(() => buildTodo({ due_date: '2020-05-05' })));
    expect((await sweep([SEND, '--date', '2022-06-03'])).summary).toMatchObject({ sent: 5 });
    await db()('job_positions').where({ job: SEND }).update({ changes_snapshot: stalled.changes_snapshot,
      changes_since: db().raw(`now() - interval '3 hours'`) });
    await age(150);

    const prune = await sweep(['prune', '--older-than', '1h']);
    const next = await sweep([SEND, '--date', '2022-06-03']);

    expect(prune.summary).toMatchObject({ deliveriesDeleted: 1, deliveriesKept: 5 });
    expect(await db()('deliveries').pluck('key')).toEqual(expect.arrayContaining(late.map(keyOf)));
    expect(next.summary).toMatchObject({ found: 0, sent: 0 });
    expect(requested()).toEqual([keyOf(history!), ...late.map(keyOf).sort()]);
    expect(requested().slice(1).sort()).toEqual(late.map(keyOf).sort());
  });

  it('forgets them once a run has seen them: the next prune deletes what no run reads again', async () => {
    await insertTodos(db(), [buildTodo({ due_date: '2021-01-01' })]);
    await sweep([SEND, '--date', '2022-06-03']);
    await insertTodos(db(), [buildTodo({ due_date: '2020-05-05' })]);
    await sweep([SEND, '--date', '2022-06-03']);
    await age(150);

    const prune = await sweep(['prune', '--older-than', '1h']);
    const next = await sweep([SEND, '--date', '2022-06-03']);

    expect(prune.summary).toMatchObject({ deliveriesDeleted: 2, deliveriesKept: 0 });
    expect(next.summary).toMatchObject({ found: 0, sent: 0 });
    expectNoKeyTwice();
  });

  it('keeps what a live run of the job may still read as changed, though the job\'s position has moved on', async () => {
    await insertTodos(db(), [buildTodo({ due_date: '2021-01-01' })]);
    await sweep([SEND, '--date', '2022-06-03']);
    const before = await db()('job_positions').where({ job: SEND }).first();
    const [late] = await insertTodos(db(), [buildTodo({ due_date: '2020-05-05' })]);
    await sweep([SEND, '--date', '2022-06-03']);
    await age(150);
    // A run still going that read the job's position before the late todo's run moved it on.
    await db()('job_runs').insert({ id: randomUUID(), job: SEND, status: 'running', parameters: '{}', heartbeat_at: db().fn.now(),
      lease_expires_at: db().raw(`now() + interval '2 minutes'`), changes_after: before.changes_snapshot });

    const prune = await sweep(['prune', '--older-than', '1h']);

    expect(prune.summary).toMatchObject({ deliveriesDeleted: 1, deliveriesKept: 1 });
    expect(await db()('deliveries').pluck('key')).toEqual([keyOf(late!)]);
  });

  it('keeps everything a run just started could read: it has not read its position yet (no changes_after)', async () => {
    await insertTodos(db(), [buildTodo({ due_date: '2021-01-01' })]);
    await sweep([SEND, '--date', '2022-06-03']);
    const [late] = await insertTodos(db(), [buildTodo({ due_date: '2020-05-05' })]);
    await sweep([SEND, '--date', '2022-06-03']);
    await age(150);
    const starting = randomUUID();
    // As startRun writes it a moment ago: no lease yet, its position not read, so it may read anything changed.
    await db()('job_runs').insert({ id: starting, job: SEND, status: 'running', parameters: '{}', started_at: db().fn.now(),
      heartbeat_at: db().fn.now() });

    const kept = await sweep(['prune', '--older-than', '1h']);
    await db()('job_runs').where({ id: starting }).update({ status: 'interrupted', finished_at: db().fn.now() });
    const pruned = await sweep(['prune', '--older-than', '1h']);

    expect(kept.summary).toMatchObject({ deliveriesDeleted: 0 });
    expect(pruned.summary).toMatchObject({ deliveriesDeleted: 2 });
    expect(await db()('deliveries').where({ key: keyOf(late!) }).first()).toBeUndefined();
  });

  describe.each([
    // A zone whose date differs from UTC's now: Kiritimati (UTC+14) from 10:00 UTC, Pago Pago
    // (UTC-11) before 11:00 UTC; otherwise a POSIX zone 47 hours off, whose date always does.
    ['ahead of UTC', () => (new Date().getUTCHours() >= 10 ? 'Pacific/Kiritimati' : '<+47>-47')],
    ['behind UTC', () => (new Date().getUTCHours() < 11 ? 'Pacific/Pago_Pago' : '<-47>+47')],
  ])('with the database\'s time zone %s', (_, zoneNow) => {
    /** Every connection the runs open from now on is in the zone (and the test's own, on the embedded database). */
    async function setZone(zone: string): Promise<void> {
      if (inject('testDatabase').kind === 'embedded') await db().raw(`set time zone '${zone}'`);
      else {
        const { rows } = await db().raw<{ rows: Array<{ name: string }> }>('select current_database() as name');
        await db().raw(`alter database ${rows[0]!.name} set timezone = '${zone}'`);
      }
      const probe = await inZone(zone, (trx) => trx.raw(`select current_date::text as local, (now() at time zone 'UTC')::date::text as utc`));
      expect(probe.rows[0].local, `the zone ${zone} should show another date than UTC now`).not.toBe(probe.rows[0].utc);
    }
    const inZone = <T>(zone: string, work: (trx: Knex.Transaction) => Promise<T>) => db().transaction(async (trx) => {
      await trx.raw(`set local time zone '${zone}'`);
      return work(trx);
    });
    const resetZone = async () => {
      if (inject('testDatabase').kind === 'embedded') await db().raw(`set time zone 'UTC'`);
      else {
        const { rows } = await db().raw<{ rows: Array<{ name: string }> }>('select current_database() as name');
        await db().raw(`alter database ${rows[0]!.name} reset timezone`);
      }
    };

    it('deletes only what is gone in every zone on earth, for delays, reminders and digests; the runs of today send nothing again', async () => {
      const workspaceId = randomUUID();
      const [delayed] = await insertTodos(db(), [buildTodo({ workspace_id: workspaceId, due_date: '2020-01-01' })]);
      const [tomorrow] = await insertTodos(db(), [buildTodo({ workspace_id: workspaceId, due_date: utcDay(1) })]);
      const [today] = await insertTodos(db(), [buildTodo({ workspace_id: workspaceId, due_date: utcDay(0) })]);
      // Sent today (UTC) and yesterday, by the runs of those days.
      expect((await sweep([SEND])).summary).toMatchObject({ sent: 1 });
      expect((await sweep([REMIND, '--date', utcDay(-1)])).summary).toMatchObject({ sent: 1 });
      expect((await sweep([REMIND, '--date', utcDay(0)])).summary).toMatchObject({ sent: 1 });
      expect((await sweep([DIGEST, '--date', utcDay(-1)])).summary).toMatchObject({ sent: 1 });
      expect((await sweep([DIGEST, '--date', utcDay(0)])).summary).toMatchObject({ sent: 1 });
      await age(120);
      const keys = {
        delay: keyOf(delayed!),
        todaysReminder: `${REMIND}:${today!.id}:${today!.due_date}`,
        tomorrowsReminder: `${REMIND}:${tomorrow!.id}:${tomorrow!.due_date}`,
        yesterdaysDigest: `${DIGEST}:${workspaceId}:${utcDay(-1)}`,
        todaysDigest: `${DIGEST}:${workspaceId}:${utcDay(0)}`,
      };
      expect(await db()('deliveries').pluck('key')).toHaveLength(5);

      try {
        await setZone(zoneNow());
        const prune = await sweep(['prune', '--older-than', '1h']);
        const reruns = [await sweep([SEND]), await sweep([REMIND]), await sweep([DIGEST])];

        // Gone: the delay settled behind the position, and yesterday's digest once yesterday
        // has ended in UTC-12 too (from 12:00 UTC). Today's reminder is kept: its day has not
        // ended everywhere, so a workspace in a zone behind UTC may still be sent it.
        const yesterdayEndedEverywhere = new Date().getUTCHours() >= 12;
        const kept = [keys.todaysReminder, keys.tomorrowsReminder, keys.todaysDigest, ...(yesterdayEndedEverywhere ? [] : [keys.yesterdaysDigest])];
        expect((await db()('deliveries').pluck('key')).sort()).toEqual(kept.sort());
        expect(prune.summary).toMatchObject({ deliveriesDeleted: 5 - kept.length, deliveriesKept: kept.length });
        for (const rerun of reruns) expect(rerun.summary).toMatchObject({ sent: 0 });
        expectNoKeyTwice();
      } finally {
        await resetZone();
      }
    });
  });
});

export type { TodoRow };
