import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildTodo, insertTodos } from '../support/fixtures.js';
import { runSweep } from '../support/run-sweep.js';
import { useTestbed } from '../support/testbed.js';

const DELAY = 'send-delay-notifications';
const REMINDER = 'send-due-soon-reminders';
const DIGEST = 'send-workspace-digests';
const QUARTER = 15 * 60_000;

/**
 * Each case: a workspace in a zone, todos due on the days around a DST change of 2026, and
 * a job run every 15 minutes with --at from an hour before the instant its notification
 * falls due (worked out by hand from the tz database, written here as UTC) to half an hour
 * after. The notification goes out with the run at that instant, not one before, and once.
 */
const CASES: Array<{ name: string; zone: string; job: string; localTime?: string; dueDate: string; fallsDue: string; item: 'todo' | 'workspace';
  itemDate?: string }> = [
  // New York: 2026-03-08 02:00 EST -> 03:00 EDT; 2026-11-01 02:00 EDT -> 01:00 EST.
  { name: 'a delay, at the midnight before the spring change (EST)', zone: 'America/New_York', job: DELAY, dueDate: '2026-03-07',
    fallsDue: '2026-03-08T05:00:00Z', item: 'todo' },
  { name: 'a delay, at the midnight after the spring change (EDT)', zone: 'America/New_York', job: DELAY, dueDate: '2026-03-08',
    fallsDue: '2026-03-09T04:00:00Z', item: 'todo' },
  { name: 'a reminder at 02:30, which the spring change skips: at 03:00 EDT', zone: 'America/New_York', job: REMINDER, localTime: '02:30',
    dueDate: '2026-03-09', fallsDue: '2026-03-08T07:00:00Z', item: 'todo' },
  { name: 'a digest at 01:30, which the autumn change repeats: at its first occurrence (EDT)', zone: 'America/New_York', job: DIGEST,
    localTime: '01:30', dueDate: '2026-10-30', itemDate: '2026-11-01', fallsDue: '2026-11-01T05:30:00Z', item: 'workspace' },
  { name: 'a delay, at the midnight after the autumn change (EST)', zone: 'America/New_York', job: DELAY, dueDate: '2026-11-01',
    fallsDue: '2026-11-02T05:00:00Z', item: 'todo' },
  // Berlin: 2026-03-29 02:00 CET -> 03:00 CEST; 2026-10-25 03:00 CEST -> 02:00 CET.
  { name: 'a digest at 02:30, which the spring change skips: at 03:00 CEST', zone: 'Europe/Berlin', job: DIGEST, localTime: '02:30',
    dueDate: '2026-03-20', itemDate: '2026-03-29', fallsDue: '2026-03-29T01:00:00Z', item: 'workspace' },
  { name: 'a delay, at the midnight after the spring change (CEST)', zone: 'Europe/Berlin', job: DELAY, dueDate: '2026-03-29',
    fallsDue: '2026-03-29T22:00:00Z', item: 'todo' },
  { name: 'a reminder at 02:30, which the autumn change repeats: at its first occurrence (CEST)', zone: 'Europe/Berlin', job: REMINDER,
    localTime: '02:30', dueDate: '2026-10-26', fallsDue: '2026-10-25T00:30:00Z', item: 'todo' },
  // Lord Howe: 2026-04-05 02:00 (+11) -> 01:30 (+10:30); 2026-10-04 02:00 (+10:30) -> 02:30 (+11).
  { name: 'a reminder at 01:45, which the April change repeats: at its first occurrence (+11)', zone: 'Australia/Lord_Howe', job: REMINDER,
    localTime: '01:45', dueDate: '2026-04-06', fallsDue: '2026-04-04T14:45:00Z', item: 'todo' },
  { name: 'a delay, at the midnight after the April change (+10:30)', zone: 'Australia/Lord_Howe', job: DELAY, dueDate: '2026-04-05',
    fallsDue: '2026-04-05T13:30:00Z', item: 'todo' },
  { name: 'a digest at 02:15, which the October change skips: at 02:30 (+11)', zone: 'Australia/Lord_Howe', job: DIGEST, localTime: '02:15',
    dueDate: '2026-10-01', itemDate: '2026-10-04', fallsDue: '2026-10-03T15:30:00Z', item: 'workspace' },
];

describe('every workspace in its own time zone, through the DST changes of 2026', () => {
  const testbed = useTestbed();
  const db = () => testbed.database.db;
  const sweep = (args: string[], env: Record<string, string> = {}) =>
    runSweep(args, { database: testbed.database, servicesUrl: testbed.mock.url, env });
  const accepted = () => testbed.mock.journal().filter((entry) => entry.outcome === 'accepted');
  const workspaceIn = async (zone: string | null) => {
    const id = randomUUID();
    if (zone !== undefined) await db()('workspaces').insert({ id, time_zone: zone });
    return id;
  };
  /** Runs `job` every 15 minutes from `from` to `to` (ISO), and says which run first had each key accepted. */
  const runEveryQuarter = async (job: string, from: string, to: string, extra: string[] = []) => {
    const sentBy = new Map<string, string[]>();
    for (let at = Date.parse(from); at <= Date.parse(to); at += QUARTER) {
      const before = accepted().length;
      const run = await sweep([job, '--at', new Date(at).toISOString(), ...extra]);
      expect(run.exitCode, run.output).toBe(0);
      for (const entry of accepted().slice(before)) sentBy.set(entry.key!, [...(sentBy.get(entry.key!) ?? []), new Date(at).toISOString()]);
    }
    return sentBy;
  };

  it.each(CASES)('$zone: $name', async ({ zone, job, localTime, dueDate, fallsDue, item, itemDate }) => {
    const workspaceId = await workspaceIn(zone);
    const [todo] = await insertTodos(db(), [buildTodo({ workspace_id: workspaceId, due_date: dueDate })]);
    const key = item === 'todo' ? `${job}:${todo!.id}:${dueDate}` : `${job}:${workspaceId}:${itemDate}`;
    const due = Date.parse(fallsDue);

    const sentBy = await runEveryQuarter(job, new Date(due - 4 * QUARTER).toISOString(), new Date(due + 2 * QUARTER).toISOString(),
      localTime ? ['--local-time', localTime] : []);

    expect(Object.fromEntries(sentBy)).toEqual({ [key]: [new Date(due).toISOString()] });
  });

  it('sends the worked example of docs/running-jobs.md at its instants: a todo due 2026-03-10 in Tokyo, Berlin and Los Angeles', async () => {
    const example = {
      'Asia/Tokyo': { [REMINDER]: '2026-03-09T00:00:00Z', [DIGEST]: '2026-03-10T23:00:00Z', [DELAY]: '2026-03-10T15:00:00Z' },
      'Europe/Berlin': { [REMINDER]: '2026-03-09T08:00:00Z', [DIGEST]: '2026-03-11T07:00:00Z', [DELAY]: '2026-03-10T23:00:00Z' },
      'America/Los_Angeles': { [REMINDER]: '2026-03-09T16:00:00Z', [DIGEST]: '2026-03-11T15:00:00Z', [DELAY]: '2026-03-11T07:00:00Z' },
    };
    for (const [zone, instants] of Object.entries(example)) {
      const workspaceId = await workspaceIn(zone);
      const [todo] = await insertTodos(db(), [buildTodo({ workspace_id: workspaceId, due_date: '2026-03-10' })]);
      const keys: Record<string, string> = { [REMINDER]: `${REMINDER}:${todo!.id}:2026-03-10`, [DIGEST]: `${DIGEST}:${workspaceId}:2026-03-11`,
        [DELAY]: `${DELAY}:${todo!.id}:2026-03-10` };
      for (const [job, instant] of Object.entries(instants)) {
        const aMinuteBefore = new Date(Date.parse(instant) - 60_000).toISOString();
        await sweep([job, '--at', aMinuteBefore]);
        expect(accepted().map((entry) => entry.key), `${zone} ${job} at ${aMinuteBefore}`).not.toContain(keys[job]);
        await sweep([job, '--at', instant]);
        expect(accepted().map((entry) => entry.key), `${zone} ${job} at ${instant}`).toContain(keys[job]);
      }
      await db()('todos').del();
    }
  });

  it('supersedes a reminder left to retry once its due date has ended in its zone, and sends it until then', async () => {
    const workspaceId = await workspaceIn('America/New_York');
    const [late, later] = await insertTodos(db(), ['2026-03-09', '2026-03-09']
      .map((dueDate) => buildTodo({ workspace_id: workspaceId, due_date: dueDate })));
    testbed.mock.configure({ rules: [{ endpoint: 'notify', status: 503 }] });
    await sweep([REMINDER, '--at', '2026-03-08T14:00:00Z', '--retry-backoff-seconds', '0']);
    testbed.mock.configure({ rules: [{ endpoint: 'notify', match: { key: `${REMINDER}:${later!.id}:2026-03-09` }, status: 503 }] });

    // 23:45 EDT on the 9th: still its day there, so still true, and sent late.
    const lastQuarter = await sweep([REMINDER, '--at', '2026-03-10T03:45:00Z', '--retry-backoff-seconds', '0']);
    expect(lastQuarter.summary).toMatchObject({ dueAgain: 2, sent: 1, superseded: 0 });
    expect(accepted().map((entry) => entry.key)).toEqual([`${REMINDER}:${late!.id}:2026-03-09`]);
    testbed.mock.configure({ rules: [] });
    // Midnight EDT: the 9th has ended in New York.
    const ended = await sweep([REMINDER, '--at', '2026-03-10T04:00:00Z']);

    expect(ended.summary).toMatchObject({ dueAgain: 1, superseded: 1, sent: 0 });
    expect(await db()('deliveries').where({ key: `${REMINDER}:${later!.id}:2026-03-09` }).first()).toMatchObject({
      status: 'superseded', last_error: 'its due date 2026-03-09 has ended in America/New_York (2026-03-10 there)' });
  });

  it('skips a workspace whose zone PostgreSQL does not know with one line a run, sends the rest of its page, and sends its '
    + 'notifications once the zone is fixed', async () => {
    const [mars, berlin, none] = [await workspaceIn('Mars/Olympus'), await workspaceIn('Europe/Berlin'), randomUUID()];
    // Mars' todo first in the scan's order, so the page that passes it holds the others.
    const [marsTodo, ...others] = await insertTodos(db(), [buildTodo({ workspace_id: mars, due_date: '2026-06-01' }),
      buildTodo({ workspace_id: berlin, due_date: '2026-06-02' }), buildTodo({ workspace_id: none, due_date: '2026-06-02' })]);

    for (const at of ['2026-06-10T12:00:00Z', '2026-06-10T12:15:00Z']) {
      const run = await sweep([DELAY, '--at', at]);
      expect(run.exitCode).toBe(0);
      const skipped = run.logs.filter((line) => line.level === 'warn' && line.workspaceId === mars);
      expect(skipped).toHaveLength(1);
      expect(skipped[0]).toMatchObject({ timeZone: 'Mars/Olympus' });
      expect(skipped[0]!.msg).toMatch(/^workspace [0-9a-f-]+ is skipped: its time zone "Mars\/Olympus" is not one PostgreSQL knows.*stay owed\. Set workspaces\.time_zone/);
      expect(run.summary).toMatchObject({ workspacesInUnknownZone: 1 });
    }
    expect(accepted().map((entry) => entry.key).sort()).toEqual(others.map((todo) => `${DELAY}:${todo.id}:2026-06-02`).sort());

    await db()('workspaces').where({ id: mars }).update({ time_zone: 'Asia/Tokyo' });
    const fixed = await sweep([DELAY, '--at', '2026-06-10T12:30:00Z']);

    expect(fixed.summary).toMatchObject({ sent: 1, workspacesInUnknownZone: 0 });
    expect(accepted().at(-1)?.key).toBe(`${DELAY}:${marsTodo!.id}:2026-06-01`);
    expect(fixed.logs.filter((line) => line.level === 'warn')).toEqual([]);
  });

  it('never sends early nor twice when a workspace\'s zone changes between runs', async () => {
    const workspaceId = await workspaceIn('America/Los_Angeles');
    const [todo] = await insertTodos(db(), [buildTodo({ workspace_id: workspaceId, due_date: '2026-06-10' })]);
    const key = `${DELAY}:${todo!.id}:2026-06-10`;

    // 09:00 on the 10th in Los Angeles: not delayed there, though it is in Tokyo (01:00 on the 11th).
    expect((await sweep([DELAY, '--at', '2026-06-10T16:00:00Z'])).summary).toMatchObject({ sent: 0 });
    await db()('workspaces').where({ id: workspaceId }).update({ time_zone: 'Asia/Tokyo' });
    expect((await sweep([DELAY, '--at', '2026-06-10T16:15:00Z'])).summary).toMatchObject({ sent: 1 });
    await db()('workspaces').where({ id: workspaceId }).update({ time_zone: 'America/Los_Angeles' });
    for (const at of ['2026-06-10T16:30:00Z', '2026-06-11T07:00:00Z', '2026-06-11T07:15:00Z']) {
      expect((await sweep([DELAY, '--at', at])).summary).toMatchObject({ sent: 0 });
    }

    // The digest of Tokyo's 11th went out at 08:00 there; moved to Los Angeles, its 11th is the same key.
    await db()('workspaces').where({ id: workspaceId }).update({ time_zone: 'Asia/Tokyo' });
    await insertTodos(db(), [buildTodo({ workspace_id: workspaceId, due_date: '2026-06-01' })]);
    expect((await sweep([DIGEST, '--at', '2026-06-10T23:00:00Z'])).summary).toMatchObject({ sent: 1 });
    await db()('workspaces').where({ id: workspaceId }).update({ time_zone: 'America/Los_Angeles' });
    expect((await sweep([DIGEST, '--at', '2026-06-11T16:00:00Z'])).summary).toMatchObject({ sent: 0, alreadySent: 1 });

    expect(accepted().map((entry) => entry.key)).toEqual([key, `${DIGEST}:${workspaceId}:2026-06-11`]);
  });

  it('shows operators each delivery\'s workspace zone and the local time it fell due: deliveries and runs show', async () => {
    const [newYork, mars] = [await workspaceIn('America/New_York'), await workspaceIn('Mars/Olympus')];
    const [todo] = await insertTodos(db(), [buildTodo({ workspace_id: newYork, due_date: '2026-03-07' })]);
    const [marsTodo] = await insertTodos(db(), [buildTodo({ workspace_id: mars, due_date: '2026-03-07' })]);
    await db()('deliveries').insert({ key: `${DELAY}:${marsTodo!.id}:2026-03-07`, job: DELAY, workspace_id: mars, item_id: marsTodo!.id,
      item_date: '2026-03-07', message: 'm', status: 'retry', attempts: 1, run_id: randomUUID() });
    testbed.mock.configure({ rules: [{ endpoint: 'notify', status: 503 }] });
    await sweep([DELAY, '--at', '2026-03-08T05:00:00Z', '--retry-backoff-seconds', '3600']);
    const runId = await db()('job_runs').where({ job: DELAY }).first().then((row: { id: string }) => row.id);

    const listed = (await sweep(['deliveries', '--job', DELAY, '--json'])).output.split('\n').filter((line) => line.startsWith('{"key"'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const shown = JSON.parse((await sweep(['runs', 'show', runId, '--json'])).output.split('\n').find((line) => line.startsWith('{"run"'))!) as
      { failures: Array<Record<string, unknown>> };

    expect(listed.map((row) => [row.key, row.time_zone, row.fell_due_local]).sort()).toEqual([
      [`${DELAY}:${todo!.id}:2026-03-07`, 'America/New_York', '2026-03-08 00:00'],
      [`${DELAY}:${marsTodo!.id}:2026-03-07`, 'Mars/Olympus', null],
    ].sort());
    expect(shown.failures.map((row) => [row.key, row.time_zone, row.fell_due_local]))
      .toEqual([[`${DELAY}:${todo!.id}:2026-03-07`, 'America/New_York', '2026-03-08 00:00']]);
  });

  it('puts a workspace with no row, or a null zone, in SWEEP_DEFAULT_TIME_ZONE', async () => {
    const [none, nullZone] = [randomUUID(), await workspaceIn(null)];
    const todos = await insertTodos(db(), [none, nullZone].map((workspaceId) => buildTodo({ workspace_id: workspaceId, due_date: '2026-06-10' })));
    const env = { SWEEP_DEFAULT_TIME_ZONE: 'Asia/Tokyo' };

    // 23:00 UTC on the 10th: the 10th has not ended in UTC, but has in Tokyo.
    const run = await sweep([DELAY, '--at', '2026-06-10T23:00:00Z'], env);

    expect(run.summary).toMatchObject({ sent: 2 });
    expect(accepted().map((entry) => entry.key).sort()).toEqual(todos.map((todo) => `${DELAY}:${todo.id}:2026-06-10`).sort());
  });

  it('refuses --at with --date, an instant after the database\'s clock unless it is a dry run, and a send time after 23:45 (exit 64)', async () => {
    const both = await sweep([DELAY, '--at', '2026-06-10T23:00:00Z', '--date', '2026-06-10']);
    expect(both.exitCode).toBe(64);
    const future = await sweep([DELAY, '--at', '2062-01-01T00:00:00Z']);
    expect(future.exitCode).toBe(64);
    expect(future.logs.filter((line) => line.level === 'error').map((line) => line.msg))
      .toEqual([expect.stringMatching(/^the instant 2062-01-01T00:00:00.000Z is after now \(.*, by the database's clock\)/)]);
    expect((await sweep([DELAY, '--at', '2062-01-01T00:00:00Z', '--dry-run'])).exitCode).toBe(0);
    expect((await sweep([DELAY, '--at', 'tomorrow'])).exitCode).toBe(64);
    // Runs come every 15 minutes: a digest due after 23:45 could miss its day.
    expect((await sweep([DIGEST, '--local-time', '23:50'])).exitCode).toBe(64);
    expect((await sweep([DIGEST, '--local-time', '23:45', '--dry-run'])).exitCode).toBe(0);
    expect(testbed.mock.journal()).toEqual([]);
  });
});
