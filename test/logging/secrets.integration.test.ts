import { afterAll, beforeAll, expect, it } from 'vitest';
import { startMockServer, type MockServer } from '../../mockserver/mock-server.js';
import { buildDelayedTodos, insertTodos, keyOf } from '../support/fixtures.js';
import { runSweep } from '../support/run-sweep.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

const CLIENT_ID = 'sweep-secrets-test';
const CLIENT_SECRET = 'n0t-f0r-l0gs-7f3a9c';

let database: TestDatabase;
let mock: MockServer;

beforeAll(async () => {
  database = await createTestDatabase();
  mock = await startMockServer({ port: 0, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
});
afterAll(async () => {
  await mock?.close();
  await database?.destroy();
});

it('never writes the client secret, a token or an Authorization value to the log, even at trace level with failures on both endpoints', async () => {
  const todos = await insertTodos(database.db, buildDelayedTodos(8, 3));
  const [first, second, third] = todos;
  mock.configure({
    rules: [
      // A service that echoes the credentials it got back in its error body.
      { endpoint: 'token', match: { workspaceId: first!.workspace_id }, status: 500, times: 1,
        body: { error: 'server_error', error_description: `bad Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}` } },
      { endpoint: 'notify', match: { key: keyOf(second!) }, status: 401, times: 1 },
      { endpoint: 'notify', match: { key: keyOf(third!) }, status: 422, body: 'rejected Authorization: Bearer mock_deadbeef' },
      { endpoint: 'notify', status: 503, times: 2 },
    ],
  });

  const run = await runSweep(['send-delay-notifications', '--date', '2022-06-03'], {
    database, servicesUrl: mock.url,
    env: { LOG_LEVEL: 'trace', SERVICE_CLIENT_ID: CLIENT_ID, SERVICE_CLIENT_SECRET: CLIENT_SECRET },
  });

  expect(run.summary).toMatchObject({ sent: 7, failedPermanently: 1 });
  const everything = run.output + run.stderr;
  const journal = mock.journal();
  const secrets = [
    CLIENT_SECRET,
    Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64'),
    ...journal.flatMap((entry) => [entry.token, entry.authorization]).filter((value): value is string => Boolean(value)),
    'mock_deadbeef',
  ];
  expect(journal.filter((entry) => entry.endpoint === 'token' && entry.outcome === 'issued').length).toBeGreaterThanOrEqual(3);
  for (const secret of new Set(secrets)) expect(everything).not.toContain(secret);
  expect(everything).not.toMatch(/Bearer\s+(?!\[redacted\])\S/);
});
