import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { startMockServer, type MockServer } from '../../../mockserver/mock-server.js';
import { buildDelayedTodos, insertTodos, keyOf, type TodoRow } from '../../support/fixtures.js';
import { runSweep } from '../../support/run-sweep.js';
import { createTestDatabase, type TestDatabase } from '../../support/test-database.js';

const SEND = 'send-delay-notifications';

let database: TestDatabase;
let mock: MockServer;
let todos: TodoRow[];

beforeAll(async () => {
  database = await createTestDatabase();
  mock = await startMockServer({ port: 0 });
});
afterAll(async () => {
  await mock?.close();
  await database?.destroy();
});

/** Four todos: two sent, one refused (failed), one dead after its attempts. */
beforeEach(async () => {
  mock.reset();
  await database.db('deliveries').del();
  await database.db('todos').del();
  todos = await insertTodos(database.db, buildDelayedTodos(4, 2));
  mock.configure({
    rules: [
      { endpoint: 'notify', match: { key: keyOf(todos[2]!) }, status: 422, body: { error: 'unknown todo' } },
      { endpoint: 'notify', match: { key: keyOf(todos[3]!) }, status: 500 },
    ],
  });
  await sweep([SEND, '--date', '2022-06-03', '--max-attempts', '1']);
  mock.configure({ rules: [] });
});

const sweep = (args: string[]) => runSweep(args, { database, servicesUrl: mock.url });

it('lists deliveries with counts by status, attempts and last error, data on stdout and logs on stderr', async () => {
  const run = await sweep(['deliveries', '--status', 'failed,dead']);

  expect(run.exitCode).toBe(0);
  expect(run.output).toMatch(/^pending 0 · sent 2 · retry 0 · failed 1 · dead 1 · superseded 0\n/);
  expect(run.output).toMatch(new RegExp(`failed\\s+1\\s+422\\s+.*${keyOf(todos[2]!)}\\s+POST /notify/notifications answered 422: unknown todo`));
  expect(run.output).toMatch(new RegExp(`dead\\s+1\\s+500\\s+.*${keyOf(todos[3]!)}`));
  expect(run.output).not.toContain(keyOf(todos[0]!));
  expect(run.stderr).toContain('"msg":"deliveries finished"');
});

it('lists as JSON lines, filtered by workspace or key', async () => {
  const byWorkspace = await sweep(['deliveries', '--workspace', todos[0]!.workspace_id, '--json']);
  const rows = byWorkspace.output.trim().split('\n').map((line) => JSON.parse(line) as { key: string; workspace_id: string });
  expect(rows.map((row) => row.key).sort()).toEqual(todos.filter((todo) => todo.workspace_id === todos[0]!.workspace_id).map(keyOf).sort());

  const byKey = await sweep(['deliveries', '--key', keyOf(todos[3]!), '--json']);
  expect(JSON.parse(byKey.output)).toMatchObject({ key: keyOf(todos[3]!), status: 'dead', attempts: 1, last_status: 500, item_id: todos[3]!.id });
});

it('lists an item\'s deliveries (was this todo notified?), and re-arms by item', async () => {
  const byItem = await sweep(['deliveries', '--item', todos[1]!.id, '--json']);
  expect(byItem.output.trim().split('\n').map((line) => JSON.parse(line))).toMatchObject([{ key: keyOf(todos[1]!), status: 'sent', item_id: todos[1]!.id }]);

  const retry = await sweep(['deliveries', 'retry', '--item', todos[3]!.id, '--reason', 'customer asked']);
  expect(retry.exitCode).toBe(0);
  expect(await database.db('deliveries').where({ item_id: todos[3]!.id }).pluck('status')).toEqual(['retry']);
  expect(await database.db('deliveries').where({ item_id: todos[2]!.id }).pluck('status')).toEqual(['failed']);
});

it('re-arms dead and failed deliveries by status, and the next run sends them', async () => {
  const retry = await sweep(['deliveries', 'retry', '--status', 'dead,failed']);

  expect(retry.exitCode).toBe(0);
  expect(retry.output).toContain('re-armed 2 delivery(ies)');
  expect(await database.db('deliveries').where({ status: 'retry', attempts: 0 }).pluck('key')).toHaveLength(2);
  const next = await sweep([SEND, '--date', '2022-06-03']);
  expect(next.summary).toMatchObject({ sent: 2 });
  expect(await database.db('deliveries').whereNot({ status: 'sent' })).toEqual([]);
});

it('re-arms one delivery by key and never touches sent ones', async () => {
  const byKey = await sweep(['deliveries', 'retry', '--key', keyOf(todos[3]!)]);
  expect(byKey.output).toContain('re-armed 1 delivery(ies)');

  const sentOnes = await sweep(['deliveries', 'retry', '--status', 'sent']);
  expect(sentOnes.output).toContain('re-armed 0 delivery(ies)');
  expect(await database.db('deliveries').where({ status: 'sent' })).toHaveLength(2);
});

it('refuses to re-arm without a selector, and rejects an unknown status, with exit 64', async () => {
  const bare = await sweep(['deliveries', 'retry']);
  expect(bare.exitCode).toBe(64);
  expect(bare.stderr).toMatch(/needs --key, --item, --status, --workspace or --job/);

  const unknown = await sweep(['deliveries', '--status', 'lost']);
  expect(unknown.exitCode).toBe(64);
  expect(unknown.stderr).toMatch(/Expected one or more of pending, sent, retry, failed, dead/);
  expect(await database.db('deliveries').where({ status: 'dead' })).toHaveLength(1);
});

it('shows the control characters of a stored error escaped, never sent to the terminal as they are', async () => {
  await database.db('deliveries').where({ key: keyOf(todos[2]!) }).update({ last_error: 'refused \x1b[2J\x1b[Hbell\x07 back\x08\x08' });

  const run = await sweep(['deliveries', '--status', 'failed']);

  expect(run.output).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
  expect(run.output).toContain('refused \\x1b[2J\\x1b[Hbell\\x07 back\\x08\\x08');
});

it('logs a re-arm by job with the filter under a name of its own, so the line has one job: the command', async () => {
  const retry = await sweep(['deliveries', 'retry', '--job', SEND, '--status', 'dead']);

  const line = retry.stderr.split('\n').find((text) => text.includes('re-armed'));
  expect(line).toBeDefined();
  expect(line!.match(/"job":/g)).toHaveLength(1);
  expect(JSON.parse(line!)).toMatchObject({ job: 'deliveries', forJob: SEND, statuses: ['dead'], rearmed: 1 });
});
