import { beforeEach, describe, expect, inject, it } from 'vitest';
import { exampleTodos } from '../../../seeds/01_example_todos.js';
import { buildDelayedTodos, buildTodo, insertTodos, keyOf } from '../../support/fixtures.js';
import { runSweep } from '../../support/run-sweep.js';
import { useTestbed } from '../../support/testbed.js';

const SEND = 'send-delay-notifications';

const testbed = useTestbed();

const sweep = (args: string[], env: Record<string, string> = {}) =>
  runSweep(args, { database: testbed.database, servicesUrl: testbed.mock.url, env });
const notifications = () => testbed.mock.journal().filter((entry) => entry.endpoint === 'notify');
const deliveries = () => testbed.database.db('deliveries').select('*').orderBy('key');

describe('send-delay-notifications on the example data', () => {
  beforeEach(async () => {
    await testbed.database.db('todos').insert(exampleTodos);
  });

  it('sends exactly Peter\'s and Ousmane\'s notifications for 2022-06-03, each with its own workspace\'s token and key', async () => {
    const run = await sweep([SEND, '--date', '2022-06-03']);

    expect(run.exitCode).toBe(0);
    const peter = exampleTodos.find((todo) => todo.assignee === 'Peter')!;
    const ousmane = exampleTodos.find((todo) => todo.assignee === 'Ousmane')!;
    const sent = notifications();
    expect(sent.map((entry) => entry.key).sort()).toEqual([keyOf(peter), keyOf(ousmane)].sort());
    for (const entry of sent) {
      const todo = exampleTodos.find((candidate) => candidate.id === entry.todoId)!;
      expect(entry.workspaceId).toBe(todo.workspace_id);
      expect(entry.message).toBe(`Todo ${todo.id} is delayed`);
      expect(entry.status).toBe(201);
    }
    const tokenRequests = testbed.mock.journal().filter((entry) => entry.endpoint === 'token');
    expect(tokenRequests.map((entry) => entry.workspaceId).sort()).toEqual([peter.workspace_id, ousmane.workspace_id].sort());

    const rows = await deliveries();
    expect(rows.map((row) => [row.key, row.status, row.attempts, row.item_date])).toEqual(
      [[keyOf(peter), 'sent', 1, peter.due_date], [keyOf(ousmane), 'sent', 1, ousmane.due_date]]
        .sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    );
    const [jobRun] = await testbed.database.db('job_runs').select('*');
    expect(jobRun).toMatchObject({ job: SEND, status: 'succeeded' });
    expect(jobRun.counts).toMatchObject({ found: 2, sent: 2, failedPermanently: 0 });
    expect(jobRun.parameters).toMatchObject({ date: '2022-06-03' });
    expect(run.summary).toMatchObject({ found: 2, sent: 2, failedTransiently: 0, exitCode: 0 });
  });

  it('sends nothing on a rerun and says there was nothing to send', async () => {
    await sweep([SEND, '--date', '2022-06-03']);
    const requestsAfterFirstRun = testbed.mock.journal().length;

    const rerun = await sweep([SEND, '--date', '2022-06-03']);

    expect(rerun.exitCode).toBe(0);
    expect(testbed.mock.journal()).toHaveLength(requestsAfterFirstRun);
    expect(rerun.summary).toMatchObject({ found: 0, dueAgain: 0, sent: 0 });
    expect(rerun.logs.some((line) => /nothing to send: no delayed todos without a notification/.test(line.msg))).toBe(true);
    expect(await testbed.database.db('job_runs').where({ status: 'succeeded' })).toHaveLength(2);
  });

  it('sends and records nothing with --dry-run, but lists what it would send', async () => {
    const run = await sweep([SEND, '--date', '2022-06-03', '--dry-run']);

    expect(run.exitCode).toBe(0);
    expect(testbed.mock.journal()).toHaveLength(0);
    expect(await deliveries()).toHaveLength(0);
    expect(await testbed.database.db('job_runs')).toHaveLength(0);
    const wouldSend = run.logs.filter((line) => line.msg.startsWith('dry run: would send'));
    expect(wouldSend.map((line) => line.todoId).sort())
      .toEqual(exampleTodos.filter((todo) => todo.due_date < '2022-06-03').map((todo) => todo.id).sort());
  });

  it('prints a summary table for a person only when stderr is a terminal, apart from the log', async () => {
    const piped = await sweep([SEND, '--date', '2022-06-03']);
    expect(piped.stderr).toBe('');

    const atTerminal = await runSweep([SEND, '--date', '2022-06-03'], { database: testbed.database, servicesUrl: testbed.mock.url, stderrIsTTY: true });
    expect(atTerminal.stderr).toMatch(/\nsent\s+0\n/);
    // Counts of all of history are not kept for this job: no line for them.
    expect(atTerminal.stderr).not.toMatch(/in scope|already notified before this run/);
    expect(atTerminal.stderr).toMatch(/new: found this run\s+0\n/);
    expect(atTerminal.output).not.toContain('new: found this run');
  });

  it('treats a todo as delayed only when its due date is before the run date', async () => {
    // Naomi's todo is due 2025-01-05: on that date it is not delayed yet, the day after it is.
    const onDueDate = await sweep([SEND, '--date', '2025-01-05']);
    expect(onDueDate.summary).toMatchObject({ found: 2, sent: 2 });

    const dayAfter = await sweep([SEND, '--date', '2025-01-06']);
    expect(dayAfter.summary).toMatchObject({ found: 1, sent: 1 });
  });
});

describe('send-delay-notifications when the notify service refuses or fails', () => {
  it('retries a transient 5xx within the run and sends the notification', async () => {
    const [todo] = await insertTodos(testbed.database.db, [buildTodo()]);
    testbed.mock.configure({ rules: [{ endpoint: 'notify', status: 503, times: 1 }] });

    const run = await sweep([SEND, '--date', '2022-06-03']);

    expect(run.exitCode).toBe(0);
    expect(notifications().map((entry) => [entry.key, entry.status])).toEqual([[keyOf(todo!), 503], [keyOf(todo!), 201]]);
    expect(await deliveries()).toMatchObject([{ status: 'sent', attempts: 1 }]);
  });

  it('honours Retry-After on a 429 before retrying', async () => {
    await insertTodos(testbed.database.db, [buildTodo()]);
    testbed.mock.configure({ rules: [{ endpoint: 'notify', status: 429, headers: { 'Retry-After': '1' }, times: 1 }] });

    const run = await sweep([SEND, '--date', '2022-06-03'], { HTTP_RETRY_MAX_MS: '5000' });

    expect(run.exitCode).toBe(0);
    const [limited, accepted] = notifications();
    expect(limited!.status).toBe(429);
    expect(Date.parse(accepted!.at) - Date.parse(limited!.at)).toBeGreaterThanOrEqual(950);
  });

  it('answers a 401 with one token refresh and sends with the new token', async () => {
    const [todo] = await insertTodos(testbed.database.db, [buildTodo()]);
    testbed.mock.configure({ rules: [{ endpoint: 'notify', status: 401, times: 1 }] });

    const run = await sweep([SEND, '--date', '2022-06-03']);

    expect(run.exitCode).toBe(0);
    const tokens = testbed.mock.journal().filter((entry) => entry.endpoint === 'token');
    expect(tokens).toHaveLength(2);
    const [refused, accepted] = notifications();
    expect(refused!.status).toBe(401);
    expect(accepted).toMatchObject({ status: 201, key: keyOf(todo!), token: tokens[1]!.token });
    expect(run.summary).toMatchObject({ sent: 1, tokenFetches: 2 });
  });

  it('counts a 409 as sent: the service had accepted the key before', async () => {
    const [todo] = await insertTodos(testbed.database.db, [buildTodo()]);
    // A run that crashed after sending and before recording anything (its claim, its
    // position): the service knows the key, the database does not.
    await sweep([SEND, '--date', '2022-06-03']);
    await testbed.database.db('deliveries').del();
    await testbed.database.db('job_positions').del();

    const run = await sweep([SEND, '--date', '2022-06-03']);

    expect(run.exitCode).toBe(0);
    expect(notifications().map((entry) => entry.status)).toEqual([201, 409]);
    expect(run.summary).toMatchObject({ sent: 1, duplicates: 1 });
    expect(await deliveries()).toMatchObject([{ key: keyOf(todo!), status: 'sent', last_status: 409 }]);
  });

  it('exits 75 when an item keeps failing transiently, and a later run sends it', async () => {
    const [todo] = await insertTodos(testbed.database.db, [buildTodo()]);
    testbed.mock.configure({ rules: [{ endpoint: 'notify', status: 502 }] });

    const failing = await sweep([SEND, '--date', '2022-06-03', '--retry-backoff-seconds', '0']);

    expect(failing.exitCode).toBe(75);
    expect(failing.summary).toMatchObject({ failedTransiently: 1, sent: 0 });
    expect(failing.logs.find((line) => line.level === 'warn' && line.key === keyOf(todo!))!.msg).toMatch(/later run retries it/);
    expect(await deliveries()).toMatchObject([{ status: 'retry', attempts: 1, last_status: 502 }]);
    expect(await testbed.database.db('job_runs').first()).toMatchObject({ status: 'partial' });

    testbed.mock.configure({ rules: [] });
    const recovering = await sweep([SEND, '--date', '2022-06-03']);

    expect(recovering.exitCode).toBe(0);
    expect(await deliveries()).toMatchObject([{ status: 'sent', attempts: 2 }]);
  });

  it('waits out the backoff: a transiently failed item is not retried before it is due', async () => {
    await insertTodos(testbed.database.db, [buildTodo()]);
    testbed.mock.configure({ rules: [{ endpoint: 'notify', status: 500, times: 3 }] });
    await sweep([SEND, '--date', '2022-06-03', '--retry-backoff-seconds', '3600']);
    const requests = notifications().length;

    const tooEarly = await sweep([SEND, '--date', '2022-06-03']);

    expect(tooEarly.exitCode).toBe(0);
    expect(notifications()).toHaveLength(requests);
    expect(tooEarly.summary).toMatchObject({ found: 0, dueAgain: 0, claimed: 0, claimedElsewhere: 0, backingOff: 1 });
  });

  it('marks an item dead after --max-attempts runs and logs it at error level', async () => {
    const [todo] = await insertTodos(testbed.database.db, [buildTodo()]);
    testbed.mock.configure({ rules: [{ endpoint: 'notify', status: 500 }] });
    const args = [SEND, '--date', '2022-06-03', '--retry-backoff-seconds', '0', '--max-attempts', '2'];

    const first = await sweep(args);
    const second = await sweep(args);
    const third = await sweep(args);

    expect(await deliveries()).toMatchObject([{ status: 'dead', attempts: 2 }]);
    const dead = second.logs.find((line) => line.level === 'error' && line.key === keyOf(todo!));
    expect(dead).toMatchObject({ todoId: todo!.id, attempts: 2, lastStatus: 500 });
    expect(third.summary).toMatchObject({ found: 0, dueAgain: 0, sent: 0 });
    // The first run left a retry (75); the second's only failure went dead: nothing is left
    // to retry, so it neither exits 75 nor says that something will be retried.
    expect(first.exitCode).toBe(75);
    expect(second.exitCode).toBe(0);
    expect(second.summary).toMatchObject({ failedTransiently: 0, dead: 1 });
    expect(second.summary!.msg).not.toMatch(/will be retried/);
    expect(second.summary!.msg).toMatch(/1 notification\(s\) went dead after their last attempt .*sweep deliveries --status dead --job send-delay-notifications/);
  });

});

describe('send-delay-notifications on rows no notification can carry', () => {
  it('refuses a todo due in 4713 BC once, records it, and never meets it again', async () => {
    const [ancient] = await insertTodos(testbed.database.db, [buildTodo({ due_date: '4713-01-01 BC' })]);
    const others = await insertTodos(testbed.database.db, buildDelayedTodos(2, 1));

    const run = await sweep([SEND, '--date', '2022-06-03']);

    expect(run.exitCode).toBe(0);
    expect(run.summary).toMatchObject({ found: 3, sent: 2, failedPermanently: 1 });
    const refusals = run.logs.filter((line) => line.todoId === ancient!.id && line.level === 'warn');
    expect(refusals).toHaveLength(1);
    expect(refusals[0]).toMatchObject({ dueDate: '4713-01-01 BC', reason: expect.stringMatching(/not a YYYY-MM-DD date/) });
    expect(notifications().map((entry) => entry.key).sort()).toEqual(others.map(keyOf).sort());
    expect((await deliveries()).find((row) => row.item_id === ancient!.id)).toMatchObject({ status: 'failed', attempts: 1 });

    const rerun = await sweep([SEND, '--date', '2022-06-03']);
    expect(rerun.summary).toMatchObject({ found: 0, dueAgain: 0, sent: 0 });
    expect(rerun.logs.filter((line) => line.todoId === ancient!.id)).toEqual([]);
  });
});

describe('send-delay-notifications at a terminal', () => {
  it('shows a live progress line on stderr, keeps every log line whole on stdout, and replaces the line with the table', async () => {
    await insertTodos(testbed.database.db, buildDelayedTodos(12, 2));
    testbed.mock.configure({ latencyMs: 250 });

    const run = await runSweep([SEND, '--date', '2022-06-03', '--concurrency', '2'], { database: testbed.database, servicesUrl: testbed.mock.url, stderrIsTTY: true });

    expect(run.exitCode).toBe(0);
    expect(run.stderr).toMatch(/\r\x1b\[2Kfound 12 · sent \d+ · failed 0 · \d+\/s · \d+ s/);
    // The status line is cleared before the table, which ends the output.
    expect(run.stderr).toMatch(/\r\x1b\[2K\nsend-delay-notifications: done\n[^\r]*$/);
    const stdoutLines = run.output.split('\n').filter((line) => line !== '');
    expect(stdoutLines.every((line) => line.startsWith('{') && line.endsWith('}'))).toBe(true);
    expect(run.output).not.toContain('found 12 ·');
  });
});

describe('send-delay-notifications paging', () => {
  it('pages through seven delayed todos two at a time, none missed and none twice', async () => {
    // Equal due dates make the id the tiebreaker of the keyset.
    const delayed = [
      ...buildDelayedTodos(4, 3, '2020-01-01'),
      ...buildDelayedTodos(3, 2, '2021-05-05'),
    ];
    await insertTodos(testbed.database.db, [...delayed, buildTodo({ due_date: '2030-01-01' })]);

    const run = await sweep([SEND, '--date', '2022-06-03', '--page-size', '2', '--concurrency', '3']);

    expect(run.exitCode).toBe(0);
    const keys = notifications().map((entry) => entry.key);
    expect(keys).toHaveLength(7);
    expect(new Set(keys)).toEqual(new Set(delayed.map(keyOf)));
    expect(run.summary).toMatchObject({ found: 7, sent: 7 });
  });

  it('logs one info line per page, and each sent notification only at debug', async () => {
    const delayed = buildDelayedTodos(5, 2, '2020-01-01');
    await insertTodos(testbed.database.db, delayed);

    const run = await sweep([SEND, '--date', '2022-06-03', '--page-size', '2']);

    expect(run.exitCode).toBe(0);
    const pages = run.logs.filter((line) => line.level === 'info' && typeof line.page === 'number');
    expect(pages.map((line) => [line.page, line.items, line.claimed])).toEqual([[1, 2, 2], [2, 2, 2], [3, 1, 1]]);
    expect(pages[0]).toMatchObject({ from: { todoId: expect.any(String) }, to: { todoId: expect.any(String) } });
    const sent = run.logs.filter((line) => line.msg === 'sent a notification');
    expect(sent.map((line) => line.key).sort()).toEqual(delayed.map(keyOf).sort());
    expect(sent.every((line) => line.level === 'debug')).toBe(true);
    expect(run.logs.filter((line) => line.level === 'info' && typeof line.todoId === 'string')).toEqual([]);
  });

  it('never has more requests in flight than --concurrency', async () => {
    await insertTodos(testbed.database.db, buildDelayedTodos(40, 4));
    testbed.mock.configure({ latencyMs: 30 });

    const run = await sweep([SEND, '--date', '2022-06-03', '--concurrency', '5', '--page-size', '7']);

    expect(run.exitCode).toBe(0);
    expect(testbed.mock.stats().accepted).toBe(40);
    expect(testbed.mock.stats().maxInFlight).toBeLessThanOrEqual(5);
    expect(testbed.mock.stats().maxInFlight).toBeGreaterThanOrEqual(3);
  });

  it('claims a batch at a time as its requests get under way, never a page ahead', async () => {
    await insertTodos(testbed.database.db, buildDelayedTodos(600, 6));
    testbed.mock.configure({ latencyMs: 10 });
    // At --concurrency 4 a claim covers 100 todos (claimBatchSize), taken once fewer than
    // 4 + 100 are unfinished: a run holds at most 4 + 2 x 100 claims it has not had an answer for. Claiming the
    // whole page of 500 up front, as it once did, leaves a second runner nothing to take.
    // Held: claimed and not yet answered. Pending rows include answers the recorder has
    // not written yet, so those (accepted by the mock, not yet sent in the ledger) come
    // off; the mock is read first, so a request answered meanwhile counts as held.
    let maxHeld = 0;
    let sampling = true;
    const sample = (async () => {
      while (sampling) {
        const accepted = testbed.mock.stats().accepted;
        const row = await testbed.database.db('deliveries').first<{ pending: number; sent: number }>(
          testbed.database.db.raw(`count(*) filter (where status = 'pending')::int as pending`),
          testbed.database.db.raw(`count(*) filter (where status = 'sent')::int as sent`));
        maxHeld = Math.max(maxHeld, (row?.pending ?? 0) - (accepted - (row?.sent ?? 0)));
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();

    const run = await sweep([SEND, '--date', '2022-06-03', '--concurrency', '4', '--page-size', '500']).finally(() => { sampling = false; });
    await sample;

    expect(run.exitCode).toBe(0);
    expect(testbed.mock.stats().accepted).toBe(600);
    expect(maxHeld).toBeGreaterThan(0);
    expect(maxHeld).toBeLessThanOrEqual(4 + 2 * 100);
  });

  it('sends a new notification when a todo\'s due date moved and passed again', async () => {
    const [todo] = await insertTodos(testbed.database.db, [buildTodo({ due_date: '2020-01-01' })]);
    await sweep([SEND, '--date', '2022-06-03']);
    await testbed.database.db('todos').where({ id: todo!.id }).update({ due_date: '2021-01-01' });

    await sweep([SEND, '--date', '2022-06-03']);

    expect(notifications().map((entry) => entry.key)).toEqual([
      keyOf(todo!), keyOf({ id: todo!.id, due_date: '2021-01-01' }),
    ]);
  });
});

describe('send-delay-notifications with --max-rate', () => {
  it('never sends more notification requests per second than the limit', async () => {
    await insertTodos(testbed.database.db, buildDelayedTodos(30, 3));

    const run = await sweep([SEND, '--date', '2022-06-03', '--concurrency', '16', '--max-rate', '20']);

    expect(run.exitCode).toBe(0);
    const times = testbed.mock.journal().filter((entry) => entry.endpoint === 'notify').map((entry) => Date.parse(entry.at)).sort();
    expect(times).toHaveLength(30);
    // 30 requests spaced 50 ms apart take at least 1.45 s, and no second holds more than 20 (+1 at its edge).
    expect(times.at(-1)! - times[0]!).toBeGreaterThanOrEqual(1400);
    for (const start of times) expect(times.filter((at) => at >= start && at < start + 1000).length).toBeLessThanOrEqual(21);
  });
});

describe('send-delay-notifications database work', () => {
  // Counting statements needs the runner to use the test's own knex: the embedded mode.
  it.skipIf(inject('testDatabase').kind !== 'embedded')('issues a handful of statements per page, never one per item', async () => {
    await insertTodos(testbed.database.db, buildDelayedTodos(600, 6));
    let statements = 0;
    const count = () => { statements += 1; };
    testbed.database.db.on('query', count);
    try {
      const run = await sweep([SEND, '--date', '2022-06-03', '--page-size', '500']);
      expect(run.summary).toMatchObject({ sent: 600 });
    } finally {
      testbed.database.db.off('query', count);
    }
    // Two pages read, claimed in batches of 8 x concurrency (at least 100), outcomes in batches of up to 500, plus the run's own
    // bookkeeping (privilege and schema checks, job_runs, the zones' dates, counts, backlog, and one read of the pause
    // and live runners a second, more on a busy machine): dozens, not 600.
    expect(statements).toBeLessThan(60);
    expect(statements).toBeGreaterThan(5);
  });

  // Scheduled, as of an instant, over workspaces in many zones: the run's zone table is
  // joined to what the scans read, never a scan of todos per zone.
  const ZONES = ['Pacific/Kiritimati', 'Pacific/Pago_Pago', 'Asia/Kathmandu', 'Australia/Lord_Howe', 'America/St_Johns', 'Asia/Kolkata',
    'America/Los_Angeles', 'Europe/Berlin'];
  it.each([
    { as: 'a backfill of a date, every workspace in UTC', zoned: false, asOf: ['--date', '2022-06-03'] },
    { as: 'scheduled, as of an instant, the workspaces over 8 zones', zoned: true, asOf: ['--at', '2022-06-03T12:00:00Z'] },
  ])('reads a handful of rows on a rerun over settled history: no statement reads all of it ($as)', async ({ zoned, asOf }) => {
    const todos = buildDelayedTodos(600, 40);
    await insertTodos(testbed.database.db, todos);
    if (zoned) {
      const workspaceIds = [...new Set(todos.map((todo) => todo.workspace_id))];
      await testbed.database.db('workspaces').insert(workspaceIds.map((id, i) => ({ id, time_zone: ZONES[i % ZONES.length] })));
      await testbed.database.db.raw('analyze workspaces');
    }
    expect((await sweep([SEND, ...asOf, '--page-size', '100'])).summary).toMatchObject({ sent: 600 });
    // Written long ago, as history is: out of reach of the window of changes a run rereads.
    await testbed.database.db('todos').update({ changed_at: testbed.database.db.raw(`now() - interval '1 day'`) });
    await testbed.database.db.raw('analyze todos');
    await testbed.database.db.raw('analyze deliveries');
    const statements: Array<{ sql: string; bindings: unknown[] }> = [];
    const collect = (query: { sql: string; bindings?: unknown[] }) => { statements.push({ sql: query.sql, bindings: query.bindings ?? [] }); };
    // The runner on the test's own knex, so that its statements can be seen.
    const database = { ...testbed.database, injected: testbed.database.db };
    testbed.database.db.on('query', collect);
    try {
      const rerun = await runSweep([SEND, ...asOf, '--page-size', '100'], { database, servicesUrl: testbed.mock.url });
      expect(rerun.summary).toMatchObject({ found: 0, dueAgain: 0, sent: 0 });
    } finally {
      testbed.database.db.off('query', collect);
    }
    // Each read of the rerun, explained as it ran: the rows its scans of todos and the ledger returned.
    const reads = statements.filter(({ sql }) => /^\s*(select|with)/i.test(sql) && /\b(todos|deliveries)\b/.test(sql));
    expect(reads.length).toBeGreaterThan(2);
    const rowsOf = (plan: Record<string, unknown>): number => {
      const own = /Scan/.test(String(plan['Node Type'])) && /^(todos|deliveries)$/.test(String(plan['Relation Name'] ?? ''))
        ? Number(plan['Actual Rows']) * Number(plan['Actual Loops'] ?? 1) : 0;
      return own + ((plan.Plans as Array<Record<string, unknown>> | undefined) ?? []).reduce((sum, child) => sum + rowsOf(child), 0);
    };
    for (const { sql, bindings } of reads) {
      const result = await testbed.database.db.raw(`explain (analyze, format json) ${sql.replace(/\$\d+/g, "?")}`, bindings as never);
      const explained = (result as { rows: Array<{ 'QUERY PLAN': unknown }> }).rows[0]!['QUERY PLAN'];
      const plan = (typeof explained === 'string' ? JSON.parse(explained) : explained) as Array<{ Plan: Record<string, unknown> }>;
      expect(rowsOf(plan[0]!.Plan), sql).toBeLessThan(20);
    }
  });
});
