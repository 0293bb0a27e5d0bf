import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildTodo, insertTodos, keyOf } from '../../support/fixtures.js';
import { runSweep } from '../../support/run-sweep.js';
import { useTestbed } from '../../support/testbed.js';

const SEND = 'send-delay-notifications';
const RUN_DATE = '2022-06-03';
const TABLES = ['deliveries', 'job_runs', 'job_pauses', 'job_positions', 'todos'];

type Step =
  | { kind: 'new'; dueDays: number[] }
  | { kind: 'move'; pick: number; dueDay: number }
  | { kind: 'delete'; pick: number }
  | { kind: 'run' }
  | { kind: 'failing run' }
  | { kind: 'time passes'; hours: number }
  | { kind: 'prune'; hours: number };

const dueOn = (day: number) => `2020-01-${String(day + 1).padStart(2, '0')}`;

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('new' as const), dueDays: fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 1, maxLength: 10 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('move' as const), pick: fc.nat(), dueDay: fc.integer({ min: 0, max: 20 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }) },
  { weight: 3, arbitrary: fc.constant({ kind: 'run' as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'failing run' as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('time passes' as const), hours: fc.integer({ min: 1, max: 48 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('prune' as const), hours: fc.integer({ min: 1, max: 48 }) }) },
);

/**
 * Runs that complete or stop (the notify service failing: retries, or the breaker),
 * todos created and moved behind and ahead of the job's position, time passing for the
 * ledger, and prunes with any cutoff from 1h, in any order: no key is ever requested
 * again once the service accepted it, and a last run leaves every todo as it is now
 * notified.
 */
describe('prune, interleaved with runs that complete or stop, never makes a key go twice', () => {
  const testbed = useTestbed();
  const db = () => testbed.database.db;
  const sweep = (args: string[]) => runSweep(args, { database: testbed.database, servicesUrl: testbed.mock.url });
  /**
   * The keys of requests a run abandoned when it stopped (the breaker): the service may
   * have accepted them after the run gave up, so the next run's request may meet a 409,
   * which the Idempotency-Key is for. Every other key must be requested once it is accepted never again.
   */
  const abandoned = new Set<string>();
  const send = async () => {
    const run = await sweep([SEND, '--date', RUN_DATE, '--page-size', '4', '--retry-backoff-seconds', '0', '--max-attempts', '1000']);
    for (const line of run.logs) {
      if (typeof line.key === 'string' && line.msg.startsWith('run stopped before this notification was answered')) abandoned.add(line.key);
    }
    return run;
  };

  async function apply(action: Step): Promise<void> {
    const todos = () => db()('todos').orderBy('id').select('id');
    switch (action.kind) {
      case 'new':
        await insertTodos(db(), action.dueDays.map((day) => buildTodo({ due_date: dueOn(day) })));
        return;
      case 'move': {
        const all = await todos();
        if (all.length > 0) await db()('todos').where({ id: all[action.pick % all.length].id }).update({ due_date: dueOn(action.dueDay) });
        return;
      }
      case 'delete': {
        const all = await todos();
        if (all.length > 0) await db()('todos').where({ id: all[action.pick % all.length].id }).delete();
        return;
      }
      case 'run':
        expect([0, 75]).toContain((await send()).exitCode);
        return;
      case 'failing run':
        testbed.mock.configure({ rules: [{ endpoint: 'notify', status: 503 }] });
        try {
          expect([0, 75]).toContain((await send()).exitCode);
        } finally {
          testbed.mock.configure({ rules: [] });
        }
        return;
      case 'time passes':
        await db()('deliveries').update({ updated_at: db().raw(`updated_at - ? * interval '1 hour'`, [action.hours]) });
        await db()('job_runs').whereNotNull('finished_at')
          .update({ finished_at: db().raw(`finished_at - ? * interval '1 hour'`, [action.hours]) });
        return;
      case 'prune':
        expect((await sweep(['prune', '--older-than', `${action.hours}h`])).exitCode).toBe(0);
    }
  }

  it('holds for any interleaving', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 4, maxLength: 14 }), async (steps) => {
        for (const table of TABLES) await db()(table).del();
        testbed.mock.reset();
        abandoned.clear();
        for (const action of steps) await apply(action);
        await send();

        const answered = testbed.mock.journal().filter((entry) => entry.endpoint === 'notify');
        const accepted = answered.filter((entry) => entry.status === 201).map((entry) => entry.key!);
        const again = answered.filter((entry) => entry.status === 409).map((entry) => entry.key!);
        expect(again.filter((key) => !abandoned.has(key)), 'keys requested again after the service accepted them').toEqual([]);
        expect(accepted.length).toBe(new Set(accepted).size);
        const now = await db()('todos').select('id', 'due_date');
        expect(accepted).toEqual(expect.arrayContaining(now.map((todo: { id: string; due_date: string }) => keyOf(todo))));
      }),
      { numRuns: Number(process.env.PRUNE_PROPERTY_RUNS ?? 12), endOnFailure: true },
    );
  });
});
