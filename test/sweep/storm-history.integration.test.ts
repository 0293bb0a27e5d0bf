import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { buildTodo, insertTodos, keyOf, type TodoRow } from '../support/fixtures.js';
import { runSweep } from '../support/run-sweep.js';
import { useTestbed } from '../support/testbed.js';

const JOB = 'send-delay-notifications';
const QUARTER_MS = 15 * 60_000;

/**
 * Each zone's todos fall due together at its local midnight: a burst at that slot of the
 * UTC day, as big as its weekday todos (a third on Saturdays and Sundays). November 2026,
 * after the US and EU clock changes, with Lord Howe on its summer time (+11).
 */
const ZONES: Array<{ zone: string; weekday: number; burstUtc: number }> = [
  // burstUtc: hours after UTC midnight of the due date at which the zone's midnight ending it comes.
  { zone: 'Pacific/Kiritimati', weekday: 30, burstUtc: 10 },
  { zone: 'Australia/Lord_Howe', weekday: 40, burstUtc: 13 },
  { zone: 'Asia/Tokyo', weekday: 200, burstUtc: 15 },
  { zone: 'Asia/Kathmandu', weekday: 60, burstUtc: 18.25 },
  { zone: 'Europe/Berlin', weekday: 180, burstUtc: 23 },
  { zone: 'UTC', weekday: 250, burstUtc: 24 },
  { zone: 'America/New_York', weekday: 300, burstUtc: 29 },
  { zone: 'America/Los_Angeles', weekday: 120, burstUtc: 32 },
];
const NEW_YORK = 6;
const WORKSPACES_PER_ZONE = 4;
/** Fourteen days of runs every 15 minutes, Monday 2026-11-09 to Sunday 2026-11-22, then the Monday after. */
const FIRST_RUN = Date.parse('2026-11-09T00:00:00Z');
const DAYS = 14;
/**
 * The first twelve days are in job_runs as those runs recorded them (what each counted, as
 * of its instant): running 1,152 runs in a test takes minutes. The weekend is run for real.
 */
const REAL_FROM = Date.parse('2026-11-21T00:00:00Z');
/** No run for four hours on the Sunday (over New York's burst at 05:00), then the catch-up at 07:00. */
const OUTAGE = [Date.parse('2026-11-22T03:00:00Z'), Date.parse('2026-11-22T07:00:00Z')];
/** Monday 2026-11-23 05:00, New York's burst: the bulk update lands just before it. */
const STORM = FIRST_RUN + DAYS * 86_400_000 + 5 * 3600_000;

const dateOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const isWeekend = (date: string) => [0, 6].includes(new Date(`${date}T12:00:00Z`).getUTCDay());

/** Every zone's burst of the days around the fortnight: when its todos of a due date fall due, and how many. */
function bursts(): Array<{ zone: number; date: string; at: number; count: number }> {
  const all = [];
  for (let day = -2; day <= DAYS; day += 1) {
    const date = dateOf(FIRST_RUN + day * 86_400_000);
    for (const [zone, { weekday, burstUtc }] of ZONES.entries()) {
      all.push({ zone, date, at: Date.parse(`${date}T00:00:00Z`) + burstUtc * 3600_000,
        count: isWeekend(date) ? Math.round(weekday / 3) : weekday });
    }
  }
  return all.filter((burst) => burst.at >= FIRST_RUN - 86_400_000);
}

/**
 * Issue 30's proof: fourteen days of a realistic shape hold 0 times; then a bulk update
 * that makes far more than usual due holds every runner with 0 requests until an
 * operator approves, and the approval sends every key once and is not left behind.
 */
describe('the brake over fourteen days of scheduled runs', () => {
  const testbed = useTestbed();
  const db = () => testbed.database.db;
  // warn: only what a held run says, and errors; the exit code is what the loop checks.
  const sweep = (args: string[], level = 'warn') => runSweep(args, { database: testbed.database, servicesUrl: testbed.mock.url,
    env: { LOG_LEVEL: level } });
  const at = (ms: number) => ['--at', new Date(ms).toISOString()];
  const accepted = () => testbed.mock.journal().filter((entry) => entry.outcome === 'accepted').map((entry) => entry.key!);

  it.skipIf(inject('testDatabase').kind !== 'postgres')(
    'holds 0 times over bursts, weekends and an outage\'s catch-up; then holds a storm in every runner until approved, once', async () => {
    const workspaces = ZONES.map(({ zone }) => ({ zone, ids: Array.from({ length: WORKSPACES_PER_ZONE }, (): string => randomUUID()) }));
    await db()('workspaces').insert(workspaces.flatMap(({ zone, ids }) => ids.map((id) => ({ id, time_zone: zone }))));
    // The recorded fortnight: each run counted the bursts since the run before it.
    const history = [];
    for (let t = FIRST_RUN; t < REAL_FROM; t += QUARTER_MS) {
      const toSend = bursts().filter((burst) => burst.at > t - QUARTER_MS && burst.at <= t).reduce((n, burst) => n + burst.count, 0);
      history.push({ id: randomUUID(), job: JOB, status: 'succeeded', parameters: JSON.stringify({ at: new Date(t).toISOString() }),
        counts: JSON.stringify({ toSend, found: toSend, sent: toSend }), finished_at: db().fn.now() });
    }
    for (let i = 0; i < history.length; i += 500) await db()('job_runs').insert(history.slice(i, i + 500));
    // What falls due from the weekend on, and no more: the fortnight before sent the rest.
    const todos: TodoRow[] = bursts().filter((burst) => burst.at >= REAL_FROM).flatMap((burst) => Array.from({ length: burst.count },
      (_, i) => buildTodo({ workspace_id: workspaces[burst.zone]!.ids[i % WORKSPACES_PER_ZONE]!, due_date: burst.date })));
    // Not due for months: what the bulk update will back-date. UTC's and New York's workspaces.
    const future = Array.from({ length: 4000 }, (_, i) => buildTodo({ workspace_id: workspaces[5 + (i % 2)]!.ids[i % WORKSPACES_PER_ZONE]!,
      due_date: '2027-03-01' }));
    await insertTodos(db(), [...todos, ...future]);

    const exits = new Map<number, number>();
    for (let t = REAL_FROM; t < STORM; t += QUARTER_MS) {
      if (t >= OUTAGE[0]! && t < OUTAGE[1]!) continue;
      const run = await sweep([JOB, ...at(t)]);
      exits.set(run.exitCode, (exits.get(run.exitCode) ?? 0) + 1);
      if (run.exitCode !== 0) throw new Error(`the run at ${new Date(t).toISOString()} exited ${run.exitCode}: ${run.output.slice(0, 2000)}`);
    }
    expect(exits).toEqual(new Map([[0, 2 * 96 + 20 - 16]]));
    expect(await db()('job_runs').where({ status: 'held' })).toEqual([]);
    const sentBefore = accepted();
    const newYorkMonday = todos.filter((todo) => todo.due_date === '2026-11-22' && workspaces[NEW_YORK]!.ids.includes(todo.workspace_id));
    const due = todos.filter((todo) => bursts().some((burst) => burst.date === todo.due_date && burst.at < STORM
      && workspaces[burst.zone]!.ids.includes(todo.workspace_id)));
    expect(new Set(sentBefore)).toEqual(new Set(due.map(keyOf)));
    expect(sentBefore).toHaveLength(due.length);

    // A bulk import back-dates 4,000 todos: more than ten times New York's burst at once.
    await db()('todos').whereIn('id', future.map((todo) => todo.id)).update({ due_date: '2026-11-20' });
    const requests = testbed.mock.stats().notificationRequests;

    const held = await sweep([JOB, ...at(STORM)]);
    expect(held.exitCode).toBe(65);
    const line = held.logs.find((l) => l.held === true)!;
    expect(line).toMatchObject({ count: 4000 + newYorkMonday.length });
    // New York's weekday burst, the median of its slot over the fortnight.
    expect(line.usual).toBe(300);
    // Four runners started together on it all hold, none sends.
    const together = await Promise.all([1, 2, 3, 4].map(() => sweep([JOB, ...at(STORM + QUARTER_MS)])));
    expect(together.map((run) => run.exitCode)).toEqual([65, 65, 65, 65]);
    expect(testbed.mock.stats().notificationRequests).toBe(requests);
    expect((await db()('job_runs').where({ status: 'held' })).length).toBe(5);

    const approve = await sweep(['approve', JOB, '--reason', 'the March import is right: INC-77', '--by', 'olivia'], 'info');
    expect(approve.exitCode).toBe(0);
    expect(await db()('console_audit').where({ action: 'approve' })).toMatchObject([{ actor: 'olivia', source: 'cli', job: JOB,
      reason: 'the March import is right: INC-77', details: { upTo: 4100, heldCount: 4100 } }]);

    const released = await sweep([JOB, ...at(STORM + 2 * QUARTER_MS)], 'info');
    expect(released.exitCode).toBe(0);
    expect(released.summary).toMatchObject({ sent: 4100, approvedUpTo: 4100 });
    const all = accepted();
    expect(all).toHaveLength(new Set(all).size);
    expect(new Set(all.slice(sentBefore.length))).toEqual(new Set([...future.map((todo) => ({ ...todo, due_date: '2026-11-20' })), ...newYorkMonday].map(keyOf)));

    // Counts usual again: the approval goes by itself.
    const after = await sweep([JOB, ...at(STORM + 3 * QUARTER_MS)]);
    expect(after.exitCode).toBe(0);
    expect(await db()('job_holds')).toEqual([]);
  }, 600_000);
});
