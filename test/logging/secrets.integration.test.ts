import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockServer, type MockServer } from '../../mockserver/mock-server.js';
import { buildDelayedTodos, insertTodos } from '../support/fixtures.js';
import { startHostileService, text, type HostileService } from '../support/hostile-service.js';
import { JOB_FIXTURES } from '../support/job-fixtures.js';
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

describe.each(JOB_FIXTURES)('$job', (fixture) => {
  it('never writes the client secret, a token or an Authorization value to the log, even at trace level with failures on both endpoints', async () => {
    for (const table of ['deliveries', 'job_runs', 'job_positions', 'todos']) await database.db(table).del();
    mock.reset();
    const [first, second, third] = await fixture.seed(database.db, 8, 3);
    mock.configure({
      rules: [
        // A service that echoes the credentials it got back in its error body.
        { endpoint: 'token', match: { workspaceId: first!.workspaceId }, status: 500, times: 1,
          body: { error: 'server_error', error_description: `bad Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}` } },
        { endpoint: 'notify', match: { key: second!.key }, status: 401, times: 1 },
        { endpoint: 'notify', match: { key: third!.key }, status: 422, body: 'rejected Authorization: Bearer mock_deadbeef' },
        { endpoint: 'notify', status: 503, times: 2 },
      ],
    });

    const run = await runSweep([fixture.job, ...fixture.args], {
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
});

describe('a service that echoes what it was sent', () => {
  let service: HostileService | undefined;
  afterAll(async () => {
    await service?.close();
  });

  it('never lets the client secret, its Basic form or a token into the log or the ledger, even without Bearer or Basic before them', async () => {
    const basic = Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64');
    const [refusedClient, refused, flaky] = await insertTodos(database.db, buildDelayedTodos(3, 3));
    service = await startHostileService({
      token: (request, res) => (request.workspaceId === refusedClient!.workspace_id
        ? text(res, 401, `invalid_client: client_id=${CLIENT_ID} client_secret=${CLIENT_SECRET} credentials=${basic}`)
        : void service!.issue(request, res)),
      notify: (request, res) => {
        if (request.workspaceId === refused!.workspace_id) return text(res, 400, `token ${request.token} is not valid for this request`);
        if (request.workspaceId === flaky!.workspace_id) return text(res, 503, `upstream refused ${request.token}; try later`);
        return text(res, 201, 'ok');
      },
    });
    const env = { LOG_LEVEL: 'trace', SERVICE_CLIENT_ID: CLIENT_ID, SERVICE_CLIENT_SECRET: CLIENT_SECRET };

    const run = await runSweep(['send-delay-notifications', '--date', '2022-06-03'], { database, servicesUrl: service.url, env });
    const runId = await database.db('job_runs').orderBy('started_at', 'desc').first().then((row: { id: string }) => row.id);
    const listing = await runSweep(['deliveries'], { database, env });
    const shown = await runSweep(['runs', 'show', runId], { database, env });

    expect(run.summary).toMatchObject({ failedPermanently: 1, failedTransiently: 1, workspacesWithoutToken: 1 });
    expect(service.issued.length).toBeGreaterThanOrEqual(2);
    const secrets = [CLIENT_SECRET, basic, ...service.issued];
    const stored = JSON.stringify(await database.db('deliveries').select('last_error'))
      + JSON.stringify(await database.db('job_runs').select('error'));
    for (const everything of [run.output + run.stderr, stored, listing.output + listing.stderr, shown.output + shown.stderr]) {
      for (const secret of secrets) expect(everything).not.toContain(secret);
    }
    expect(stored).toContain('[redacted]');
  });
});
