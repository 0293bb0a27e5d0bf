import { describe, expect, it } from 'vitest';
import { buildDelayedTodos, insertTodos, keyOf } from '../support/fixtures.js';
import { runSweep } from '../support/run-sweep.js';
import { waitFor } from '../support/sweep-process.js';
import { useTestbed } from '../support/testbed.js';

const JOB = 'send-delay-notifications';
const AT = ['--at', '2022-06-03T12:00:00Z'];

/** The brake: a run with far more to send than usual holds, sends nothing, and asks (issue 30). */
describe('a run with far more to send than usual', () => {
  const testbed = useTestbed();
  const db = () => testbed.database.db;
  const sweep = (args: string[]) => runSweep(args, { database: testbed.database, servicesUrl: testbed.mock.url });
  const requests = () => testbed.mock.stats().notificationRequests;

  it('holds on a first run over 5,000 owed with no history: nothing sent, recorded held with its figures, exit 65; --no-hold sends', async () => {
    const todos = await insertTodos(db(), buildDelayedTodos(5000, 40, '2022-06-01'));

    const held = await sweep([JOB, ...AT]);

    expect(held.exitCode).toBe(65);
    expect(requests()).toBe(0);
    expect(await db()('deliveries').count({ n: '*' })).toEqual([{ n: expect.anything() }]);
    expect(Number((await db()('deliveries').count({ n: '*' }))[0]!.n)).toBe(0);
    const line = held.logs.find((l) => l.held === true)!;
    expect(line).toMatchObject({ level: 'warn', count: 5000, usual: 0, threshold: 1000 });
    expect(line.msg).toMatch(/held: this run would send 5000 notifications where 0 are usual now \(it holds above 1000\); nothing was sent/);
    expect(line.msg).toContain(`sweep approve ${JOB} --reason`);
    const [run] = await db()('job_runs').where({ job: JOB });
    expect(run).toMatchObject({ status: 'held' });
    expect(run.hold).toMatchObject({ count: 5000, usual: 0, threshold: 1000 });
    expect(run.hold.topWorkspaces).toHaveLength(10);
    expect(run.hold.topWorkspaces[0]).toEqual({ workspaceId: expect.any(String), count: 125 });
    expect(run.hold.sample).toHaveLength(10);
    expect(await db()('job_holds').where({ job: JOB }).first()).toMatchObject({ held_by_run: run.id, approved_up_to: null });
    const runs = await sweep(['runs']);
    expect(runs.output).toMatch(new RegExp(`${JOB} .* held `));
    expect(runs.output).toMatch(new RegExp(`\\nheld: ${JOB}, 5000 to send where 0 are usual, since .* \\(sweep approve ${JOB} --reason`));
    const shown = await sweep(['runs', 'show', run.id]);
    expect(shown.output).toMatch(/held: to send\s+5000\n/);
    expect(shown.output).toMatch(/held: workspace #1\s+[0-9a-f-]{36} \(125\)\n/);

    const unbraked = await sweep([JOB, ...AT, '--no-hold']);

    expect(unbraked.exitCode).toBe(0);
    expect(unbraked.summary).toMatchObject({ sent: 5000 });
    expect(new Set(testbed.mock.journal().filter((e) => e.outcome === 'accepted').map((e) => e.key))).toEqual(new Set(todos.map(keyOf)));
  });

  it('does not hold at or below --hold-min, and SWEEP_HOLD_MIN sets it', async () => {
    await insertTodos(db(), buildDelayedTodos(1000, 4, '2022-06-01'));
    const run = await sweep([JOB, ...AT]);
    expect(run.exitCode).toBe(0);
    expect(run.summary).toMatchObject({ sent: 1000, toSend: 1000, usual: 0 });

    await insertTodos(db(), buildDelayedTodos(60, 4, '2022-06-02'));
    // commander reads an option's variable from the process environment (this file's worker only).
    process.env.SWEEP_HOLD_MIN = '50';
    try {
      const held = await sweep([JOB, ...AT]);
      expect(held.exitCode).toBe(65);
      expect(held.logs.find((l) => l.held === true)).toMatchObject({ count: 60, holdMin: 50 });
    } finally {
      delete process.env.SWEEP_HOLD_MIN;
    }
  });

  it('lets a storm fixed in the data before any approval go: the next run sends what is usual, and no hold or approval is left', async () => {
    const usual = await insertTodos(db(), buildDelayedTodos(20, 2, '2022-06-01'));
    const imported = await insertTodos(db(), buildDelayedTodos(3000, 30, '2023-01-01'));
    // The bad import: due dates a year early.
    await db()('todos').whereIn('id', imported.map((todo) => todo.id)).update({ due_date: '2022-01-01' });
    expect((await sweep([JOB, ...AT])).exitCode).toBe(65);
    expect(await db()('job_holds').where({ job: JOB })).toHaveLength(1);

    // Put back by the team that owns the data.
    await db()('todos').whereIn('id', imported.map((todo) => todo.id)).update({ due_date: '2023-01-01' });
    const next = await sweep([JOB, '--at', '2022-06-03T12:15:00Z']);

    expect(next.exitCode).toBe(0);
    expect(next.summary).toMatchObject({ sent: 20, toSend: 20 });
    expect(new Set(testbed.mock.journal().filter((e) => e.outcome === 'accepted').map((e) => e.key))).toEqual(new Set(usual.map(keyOf)));
    expect(await db()('job_holds')).toEqual([]);
    expect(await db()('console_audit')).toEqual([]);
  });

  it('approves a campaign ahead with --up-to: the runs send up to it beyond usual, a bigger one holds again; approve needs a reason', async () => {
    expect((await sweep(['approve', JOB, '--reason', 'no run is held'])).exitCode).toBe(64);
    expect((await sweep(['approve', JOB, '--up-to', '2000'])).stderr).toMatch(/--reason/);
    const approve = await sweep(['approve', JOB, '--up-to', '2000', '--reason', 'the spring campaign, CHG-12', '--by', 'pat']);
    expect(approve.exitCode).toBe(0);
    expect(await db()('console_audit').where({ action: 'approve' }))
      .toMatchObject([{ actor: 'pat', reason: 'the spring campaign, CHG-12', details: { upTo: 2000, ahead: true } }]);
    await insertTodos(db(), buildDelayedTodos(2500, 10, '2022-06-01'));
    // 2,500 is within 2,000 beyond the floor of 1,000.
    const campaign = await sweep([JOB, ...AT]);
    expect(campaign.exitCode).toBe(0);
    expect(campaign.summary).toMatchObject({ sent: 2500, approvedUpTo: 2000 });

    await insertTodos(db(), buildDelayedTodos(3500, 10, '2022-06-02'));
    const bigger = await sweep([JOB, '--at', '2022-06-03T12:15:00Z']);
    expect(bigger.exitCode).toBe(65);
    expect(testbed.mock.stats().notificationRequests).toBe(2500);
  });

  it('refuses a bad --hold-factor or --hold-min with exit 64, naming it', async () => {
    for (const args of [['--hold-factor', '0.5'], ['--hold-factor', 'ten'], ['--hold-min', '-1']]) {
      const run = await sweep([JOB, ...AT, ...args]);
      expect(run.exitCode).toBe(64);
      expect(run.stderr).toContain(args[0]);
    }
  });

  it('sends each page as it stands when its turn comes, not as the count read it: a todo deleted after the count is not notified', async () => {
    const todos = await insertTodos(db(), buildDelayedTodos(40, 1, '2022-06-01'));
    // The last in the scan's order (due date, then id): on the last of four pages, sent about 3 s in at 10 a second.
    const last = [...todos].sort((a, b) => (a.id < b.id ? -1 : 1)).at(-1)!;
    const notified = () => testbed.mock.journal().filter((entry) => entry.endpoint === 'notify');

    const running = sweep([JOB, ...AT, '--page-size', '10', '--concurrency', '1', '--max-rate', '10']);
    await waitFor(() => notified().length > 0, 20_000, 'the first notification');
    await db()('todos').where({ id: last.id }).del();
    const run = await running;

    expect(run.exitCode).toBe(0);
    expect(run.summary).toMatchObject({ sent: 39 });
    expect(notified().map((entry) => entry.key)).not.toContain(keyOf(last));
    expect(await db()('deliveries').where({ key: keyOf(last) }).first()).toBeUndefined();
  });
});
