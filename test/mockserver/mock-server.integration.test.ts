import axios, { type AxiosInstance, type AxiosRequestConfig } from 'axios';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MockSettingsError, startMockServer, type MockServer } from '../../mockserver/mock-server.js';

const workspaceA = '8f0c3f8e-5b1a-4a53-9d2e-1f6f3a0b7c11';
const workspaceB = '2d9e4b6a-7c3f-4e21-8a5b-6c0d1e2f3a4b';

let server: MockServer;
let http: AxiosInstance;

beforeAll(async () => {
  server = await startMockServer();
  http = axios.create({ baseURL: server.url, validateStatus: () => true });
});

afterAll(async () => {
  await server.close();
});

beforeEach(() => {
  server.reset();
});

interface TokenRequest {
  workspaceId?: string;
  username?: string;
  password?: string;
  grantType?: string;
  scope?: string;
}

function requestToken({ workspaceId = workspaceA, ...overrides }: TokenRequest = {}) {
  const form = new URLSearchParams({
    grant_type: overrides.grantType ?? 'client_credentials',
    scope: overrides.scope ?? `workspace:${workspaceId}`,
  });
  return http.post('/auth/token', form, {
    auth: { username: overrides.username ?? 'sweep-local', password: overrides.password ?? 'sweep-local-secret' },
  });
}

async function tokenFor(workspaceId: string): Promise<string> {
  const response = await requestToken({ workspaceId });
  expect(response.status).toBe(200);
  return response.data.access_token as string;
}

function notify(token: string | undefined, key: string | undefined, body: unknown, config: AxiosRequestConfig = {}) {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (token !== undefined) headers.Authorization = `Bearer ${token}`;
  if (key !== undefined) headers['Idempotency-Key'] = key;
  return http.post('/notify/notifications', body, { ...config, headers: { ...headers, ...config.headers } });
}

const delayed = (todoId: string) => ({ message: `Todo ${todoId} is delayed` });
const keyOf = (todoId: string) => `send-delay-notifications:${todoId}:2024-05-01`;
const dueSoon = (todoId: string, dueDate = '2024-05-02') => ({ message: `Todo ${todoId} is due on ${dueDate}` });
const dueSoonKeyOf = (todoId: string, dueDate = '2024-05-02') => `send-due-soon-reminders:${todoId}:${dueDate}`;
const digest = (workspaceId: string, n: number) => ({ message: `Workspace ${workspaceId} has ${n} delayed todos` });
const digestKeyOf = (workspaceId: string) => `send-workspace-digests:${workspaceId}:2024-05-01`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('POST /auth/token', () => {
  it('issues a bearer token for the requested workspace with valid client credentials', async () => {
    const response = await requestToken({ workspaceId: workspaceB });

    expect(response.status).toBe(200);
    expect(response.data).toEqual({
      access_token: expect.stringMatching(/^mock_[0-9a-f]{32}$/),
      token_type: 'Bearer',
      expires_in: 300,
    });
    expect(server.journal()).toEqual([
      expect.objectContaining({
        seq: 1,
        endpoint: 'token',
        status: 200,
        outcome: 'issued',
        workspaceId: workspaceB,
        token: response.data.access_token,
      }),
    ]);
    expect(server.stats()).toMatchObject({ tokenRequests: 1, tokensIssued: 1 });
  });

  it('leaves expires_in out when tokenTtlSeconds is null, and the token still works', async () => {
    server.configure({ tokenTtlSeconds: null });

    const response = await requestToken();
    expect(response.status).toBe(200);
    expect(response.data).not.toHaveProperty('expires_in');
    expect((await notify(response.data.access_token, 'k-1', delayed('t-1'))).status).toBe(201);
  });

  it('answers 401 invalid_client to a wrong secret and to missing credentials', async () => {
    const wrongSecret = await requestToken({ password: 'guess' });
    const form = `grant_type=client_credentials&scope=workspace:${workspaceA}`;
    const noCredentials = await http.post('/auth/token', form, {
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    });

    expect([wrongSecret.status, wrongSecret.data]).toEqual([401, { error: 'invalid_client' }]);
    expect([noCredentials.status, noCredentials.data]).toEqual([401, { error: 'invalid_client' }]);
    expect(server.journal().map((entry) => entry.outcome)).toEqual(['unauthorized', 'unauthorized']);
    expect(server.stats()).toMatchObject({ tokenRequests: 2, tokensIssued: 0, rejected: 2 });
  });

  it('answers 400 unsupported_grant_type to another grant type', async () => {
    const response = await requestToken({ grantType: 'password' });

    expect([response.status, response.data]).toEqual([400, { error: 'unsupported_grant_type' }]);
  });

  it.each([
    ['a scope that is not a workspace', `project:${workspaceA}`],
    ['a workspace that is not a UUID', 'workspace:acme'],
    ['an empty scope', ''],
  ])('answers 400 invalid_scope to %s', async (_case, scope) => {
    const response = await requestToken({ scope });

    expect([response.status, response.data]).toEqual([400, { error: 'invalid_scope' }]);
    expect(server.stats().tokensIssued).toBe(0);
  });

  it('answers 400 invalid_request to a JSON body', async () => {
    const response = await http.post(
      '/auth/token',
      { grant_type: 'client_credentials', scope: `workspace:${workspaceA}` },
      { auth: { username: 'sweep-local', password: 'sweep-local-secret' } },
    );

    expect(response.status).toBe(400);
    expect(response.data.error).toBe('invalid_request');
  });
});

describe('POST /notify/notifications', () => {
  it('accepts a notification with 201, then answers 409 to the same key', async () => {
    const token = await tokenFor(workspaceA);

    const first = await notify(token, keyOf('t-1'), delayed('t-1'));
    const second = await notify(token, keyOf('t-1'), delayed('t-1'));

    expect([first.status, first.data]).toEqual([201, { id: 'ntf_1', status: 'accepted' }]);
    expect([second.status, second.data]).toEqual([409, { error: 'duplicate', key: keyOf('t-1') }]);
    expect(server.stats()).toMatchObject({ notificationRequests: 2, accepted: 1, duplicates: 1 });
  });

  it('answers 401 to an unknown token and to a request without one', async () => {
    const unknown = await notify('mock_00000000000000000000000000000000', 'k-1', delayed('t-1'));
    const missing = await notify(undefined, 'k-1', delayed('t-1'));

    expect(unknown.status).toBe(401);
    expect(unknown.headers['www-authenticate']).toContain('invalid_token');
    expect(missing.status).toBe(401);
    expect(server.journal().map((entry) => [entry.endpoint, entry.outcome])).toEqual([
      ['notify', 'unauthorized'],
      ['notify', 'unauthorized'],
    ]);
  });

  it('answers 401 to a token revoked in-process or over HTTP, and accepts a new one', async () => {
    const revokedInProcess = await tokenFor(workspaceA);
    server.revokeTokens();
    expect((await notify(revokedInProcess, 'k-1', delayed('t-1'))).status).toBe(401);

    const revokedOverHttp = await tokenFor(workspaceA);
    const revoke = await http.post('/_mock/revoke-tokens');
    expect([revoke.status, revoke.data]).toEqual([200, { revoked: 1 }]);
    expect((await notify(revokedOverHttp, 'k-1', delayed('t-1'))).status).toBe(401);

    expect((await notify(await tokenFor(workspaceA), 'k-1', delayed('t-1'))).status).toBe(201);
  });

  it('answers 401 once the token has expired', async () => {
    server.configure({ tokenTtlSeconds: 1 });
    const response = await requestToken();
    expect(response.data.expires_in).toBe(1);
    const token = response.data.access_token as string;

    expect((await notify(token, 'k-1', delayed('t-1'))).status).toBe(201);
    await sleep(1_150);
    expect((await notify(token, 'k-2', delayed('t-2'))).status).toBe(401);
  });

  it('answers 400 without an Idempotency-Key and does not accept anything', async () => {
    const token = await tokenFor(workspaceA);

    const response = await notify(token, undefined, delayed('t-1'));

    expect([response.status, response.data]).toEqual([400, { error: 'missing_idempotency_key' }]);
    expect(server.stats()).toMatchObject({ accepted: 0, rejected: 1 });
  });

  it('answers 422 when the message is missing or not a string', async () => {
    const token = await tokenFor(workspaceA);

    const missing = await notify(token, 'k-1', { text: 'Todo t-1 is delayed' });
    const notString = await notify(token, 'k-2', { message: 42 });

    expect(missing.status).toBe(422);
    expect(notString.status).toBe(422);
    expect(missing.data.error).toBe('invalid_message');
  });

  it('answers 400 to a body that is not JSON, and 415 to one not sent as JSON', async () => {
    const token = await tokenFor(workspaceA);

    const invalid = await notify(token, 'k-1', '{"message": ', { transformRequest: [(data: unknown) => data] });
    const plainText = await notify(token, 'k-2', 'Todo t-1 is delayed', { headers: { 'Content-Type': 'text/plain' } });

    expect([invalid.status, invalid.data]).toEqual([400, { error: 'invalid_json' }]);
    expect(plainText.status).toBe(415);
  });

  it('accepts a message of another form, with no todoId in the journal', async () => {
    const token = await tokenFor(workspaceA);

    const response = await notify(token, 'k-1', { message: 'hello' });

    expect(response.status).toBe(201);
    const entry = server.journal().at(-1);
    expect(entry).toMatchObject({ message: 'hello', outcome: 'accepted' });
    expect(entry).not.toHaveProperty('todoId');
    expect(entry).not.toHaveProperty('kind');
  });

  it("journals for each notification the workspace of the token it carried", async () => {
    const tokenA = await tokenFor(workspaceA);
    const tokenB = await tokenFor(workspaceB);

    await notify(tokenA, keyOf('a-1'), delayed('a-1'));
    await notify(tokenB, keyOf('b-1'), delayed('b-1'));
    await notify(tokenA, keyOf('b-2'), delayed('b-2'));

    const notifications = server.journal().filter((entry) => entry.endpoint === 'notify');
    const carried = notifications.map(({ todoId, workspaceId, token, authorization, key }) => ({
      todoId,
      workspaceId,
      token,
      authorization,
      key,
    }));
    expect(carried).toEqual([
      { todoId: 'a-1', workspaceId: workspaceA, token: tokenA, authorization: `Bearer ${tokenA}`, key: keyOf('a-1') },
      { todoId: 'b-1', workspaceId: workspaceB, token: tokenB, authorization: `Bearer ${tokenB}`, key: keyOf('b-1') },
      { todoId: 'b-2', workspaceId: workspaceA, token: tokenA, authorization: `Bearer ${tokenA}`, key: keyOf('b-2') },
    ]);
  });

  it('answers 403 wrong_workspace when todoWorkspaces says the todo belongs to another workspace', async () => {
    server.configure({ todoWorkspaces: { 'b-1': workspaceB } });
    const tokenA = await tokenFor(workspaceA);
    const tokenB = await tokenFor(workspaceB);

    const crossWorkspace = await notify(tokenA, keyOf('b-1'), delayed('b-1'));
    const ownWorkspace = await notify(tokenB, keyOf('b-1'), delayed('b-1'));
    const unlistedTodo = await notify(tokenA, keyOf('a-1'), delayed('a-1'));

    expect([crossWorkspace.status, crossWorkspace.data]).toEqual([403, { error: 'wrong_workspace' }]);
    expect(ownWorkspace.status).toBe(201);
    expect(unlistedTodo.status).toBe(201);
  });

  it('answers 413 to a body over 1 MiB', async () => {
    const token = await tokenFor(workspaceA);

    const response = await notify(token, 'k-1', { message: 'x'.repeat(1024 * 1024) });

    expect(response.status).toBe(413);
  });
});

describe("the contract's three notifications", () => {
  const parsedFields = () =>
    server
      .journal()
      .filter((entry) => entry.endpoint === 'notify')
      .map(({ status, kind, todoId, dueDate, digestWorkspaceId, delayedCount, workspaceId }) => ({
        status,
        kind,
        todoId,
        dueDate,
        digestWorkspaceId,
        delayedCount,
        workspaceId,
      }));

  it('journals the kind and what the message names, for each of the three', async () => {
    const token = await tokenFor(workspaceA);

    await notify(token, keyOf('t-1'), delayed('t-1'));
    await notify(token, dueSoonKeyOf('t-2'), dueSoon('t-2'));
    await notify(token, digestKeyOf(workspaceA), digest(workspaceA, 12));

    expect(parsedFields()).toEqual([
      { status: 201, kind: 'delay', todoId: 't-1', workspaceId: workspaceA },
      { status: 201, kind: 'due-soon', todoId: 't-2', dueDate: '2024-05-02', workspaceId: workspaceA },
      { status: 201, kind: 'digest', digestWorkspaceId: workspaceA, delayedCount: 12, workspaceId: workspaceA },
    ]);
    const overHttp = (await http.get('/_mock/journal?endpoint=notify')).data;
    expect(overHttp[2]).toMatchObject({ kind: 'digest', digestWorkspaceId: workspaceA, delayedCount: 12 });
    expect(overHttp[2]).not.toHaveProperty('todoId');
    expect(overHttp[0]).not.toHaveProperty('dueDate');
  });

  it("answers 403 wrong_workspace to a digest of another workspace than the token's, accepting nothing", async () => {
    const tokenA = await tokenFor(workspaceA);
    const tokenB = await tokenFor(workspaceB);

    const crossWorkspace = await notify(tokenB, digestKeyOf(workspaceA), digest(workspaceA, 3));
    const ownWorkspace = await notify(tokenA, digestKeyOf(workspaceA), digest(workspaceA, 3));

    expect([crossWorkspace.status, crossWorkspace.data]).toEqual([403, { error: 'wrong_workspace' }]);
    expect(ownWorkspace.status).toBe(201);
    expect(parsedFields()[0]).toMatchObject({ status: 403, workspaceId: workspaceB, digestWorkspaceId: workspaceA });
  });

  it('answers 403 wrong_workspace to a reminder of a todo todoWorkspaces gives to another workspace', async () => {
    server.configure({ todoWorkspaces: { 'b-1': workspaceB } });
    const tokenA = await tokenFor(workspaceA);
    const tokenB = await tokenFor(workspaceB);

    const crossWorkspace = await notify(tokenA, dueSoonKeyOf('b-1'), dueSoon('b-1'));
    const ownWorkspace = await notify(tokenB, dueSoonKeyOf('b-1'), dueSoon('b-1'));
    const unlistedTodo = await notify(tokenA, dueSoonKeyOf('a-1'), dueSoon('a-1'));

    expect([crossWorkspace.status, crossWorkspace.data]).toEqual([403, { error: 'wrong_workspace' }]);
    expect(ownWorkspace.status).toBe(201);
    expect(unlistedTodo.status).toBe(201);
  });

  it.each([
    ['a delay notification of another todo', keyOf('t-2'), delayed('t-1'), 'todo t-2'],
    ['a reminder of another todo', dueSoonKeyOf('t-2'), dueSoon('t-1'), 'todo t-2'],
    ['a reminder of another due date', dueSoonKeyOf('t-1', '2024-05-03'), dueSoon('t-1'), 'due date 2024-05-03'],
    ['a digest of another workspace', digestKeyOf(workspaceB), digest(workspaceA, 3), `workspace ${workspaceB}`],
    ['another kind of message', keyOf('t-1'), dueSoon('t-1'), 'Todo <todoId> is delayed'],
  ])('answers 422 key_does_not_match_message to the key of %s, accepting nothing', async (_case, key, body, named) => {
    const token = await tokenFor(workspaceA);

    const response = await notify(token, key, body);

    expect(response.status).toBe(422);
    expect(response.data).toEqual({
      error: 'key_does_not_match_message',
      error_description: expect.stringContaining(named),
    });
    expect(server.journal().at(-1)).toMatchObject({ key, message: body.message, status: 422, outcome: 'rejected' });
    expect(server.stats()).toMatchObject({ accepted: 0, rejected: 1 });
  });

  it('answers 422 to a disagreeing key before rules and random faults, and the key stays free', async () => {
    server.configure({ rules: [{ endpoint: 'notify', status: 503, times: 1 }], rateLimitRate: 1 });
    const token = await tokenFor(workspaceA);

    const disagreeing = await notify(token, keyOf('t-2'), delayed('t-1'));
    server.configure({ rateLimitRate: 0 });
    const ruled = await notify(token, keyOf('t-2'), delayed('t-2'));
    const agreeing = await notify(token, keyOf('t-2'), delayed('t-2'));

    expect([disagreeing.status, ruled.status, agreeing.status]).toEqual([422, 503, 201]);
  });

  it('does not compare a key of any other prefix with its message', async () => {
    const token = await tokenFor(workspaceA);

    const arbitrary = await notify(token, 'k-1', digest(workspaceA, 1));
    const otherPrefix = await notify(token, `replay:${keyOf('t-2')}`, delayed('t-1'));
    const jobNameWithoutColon = await notify(token, 'send-delay-notifications-replay:t-2:2024-05-01', delayed('t-1'));

    expect([arbitrary.status, otherPrefix.status, jobNameWithoutColon.status]).toEqual([201, 201, 201]);
    expect(parsedFields().map((entry) => entry.kind)).toEqual(['digest', 'delay', 'delay']);
  });
});

describe('rules', () => {
  it('applies a 503 rule with times 1 once, to the matching key only, then processes normally', async () => {
    server.configure({
      rules: [
        { endpoint: 'notify', match: { key: keyOf('t-1') }, status: 503, headers: { 'Retry-After': '2' }, times: 1 },
      ],
    });
    const token = await tokenFor(workspaceA);

    const otherKey = await notify(token, keyOf('t-2'), delayed('t-2'));
    const injected = await notify(token, keyOf('t-1'), delayed('t-1'));
    const retried = await notify(token, keyOf('t-1'), delayed('t-1'));

    expect(otherKey.status).toBe(201);
    expect([injected.status, injected.data]).toEqual([503, { error: 'injected' }]);
    expect(injected.headers['retry-after']).toBe('2');
    expect(retried.status).toBe(201);
    expect(server.journal().filter((e) => e.endpoint === 'notify').map((e) => e.outcome)).toEqual([
      'accepted',
      'injected',
      'accepted',
    ]);
    expect(server.stats().injectedFaults).toBe(1);
  });

  it('drops the connection for a drop rule, without accepting the key', async () => {
    server.configure({ rules: [{ endpoint: 'notify', drop: true, times: 1 }] });
    const token = await tokenFor(workspaceA);

    await expect(notify(token, keyOf('t-1'), delayed('t-1'))).rejects.toMatchObject({ code: 'ECONNRESET' });
    const retried = await notify(token, keyOf('t-1'), delayed('t-1'));

    expect(retried.status).toBe(201);
    expect(server.journal().filter((e) => e.endpoint === 'notify').map((e) => e.status)).toEqual(['dropped', 201]);
    expect(server.stats().dropped).toBe(1);
  });

  it('applies a token rule to the matching workspace only', async () => {
    server.configure({ rules: [{ endpoint: 'token', match: { workspaceId: workspaceB }, status: 500 }] });

    const matching = await requestToken({ workspaceId: workspaceB });
    const other = await requestToken({ workspaceId: workspaceA });

    expect([matching.status, matching.data]).toEqual([500, { error: 'injected' }]);
    expect(other.status).toBe(200);
  });

  it('delays, then processes normally, for a rule with only delayMs', async () => {
    server.configure({ rules: [{ endpoint: 'notify', delayMs: 150, times: 1 }] });
    const token = await tokenFor(workspaceA);

    const startedAt = Date.now();
    const response = await notify(token, 'k-1', delayed('t-1'));

    expect(response.status).toBe(201);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(140);
  });
});

describe('random faults', () => {
  it('answers 429 with Retry-After when rateLimitRate is 1, without accepting the key', async () => {
    server.configure({ rateLimitRate: 1, retryAfterSeconds: 7 });
    const token = await tokenFor(workspaceA);

    const limited = await notify(token, 'k-1', delayed('t-1'));
    server.configure({ rateLimitRate: 0 });
    const retried = await notify(token, 'k-1', delayed('t-1'));

    expect([limited.status, limited.headers['retry-after']]).toEqual([429, '7']);
    expect(retried.status).toBe(201);
  });

  it('answers 500, 502 or 503 without Retry-After when error5xxRate is 1', async () => {
    server.configure({ error5xxRate: 1 });
    const token = await tokenFor(workspaceA);

    const responses = await Promise.all([1, 2, 3, 4, 5, 6].map((n) => notify(token, `k-${n}`, delayed(`t-${n}`))));

    for (const response of responses) {
      expect([500, 502, 503]).toContain(response.status);
      expect(response.headers['retry-after']).toBeUndefined();
    }
    expect(server.stats()).toMatchObject({ injectedFaults: 6, accepted: 0 });
  });

  it('repeats the same faults for the same seed, and others for another seed', async () => {
    const runStatuses = async (seed: number): Promise<number[]> => {
      server.reset();
      server.configure({ error5xxRate: 0.5, seed });
      const token = await tokenFor(workspaceA);
      const statuses: number[] = [];
      for (let n = 0; n < 20; n++) statuses.push((await notify(token, `k-${n}`, delayed(`t-${n}`))).status);
      return statuses;
    };

    const first = await runStatuses(42);
    const second = await runStatuses(42);
    const otherSeed = await runStatuses(7);

    expect(second).toEqual(first);
    expect(otherSeed).not.toEqual(first);
    expect(first).toContain(201);
    expect(first.some((status) => status >= 500)).toBe(true);
  });

  it('answers too late for the client when slowRate is 1, without accepting the key', async () => {
    server.configure({ slowRate: 1, slowMs: 5_000 });
    const token = await tokenFor(workspaceA);

    const timedOut = notify(token, 'k-1', delayed('t-1'), { timeout: 200 });
    await expect(timedOut).rejects.toMatchObject({ code: 'ECONNABORTED' });
    server.configure({ slowRate: 0 });
    const retried = await notify(token, 'k-1', delayed('t-1'));

    expect(retried.status).toBe(201);
    expect(server.journal().filter((e) => e.endpoint === 'notify').map((e) => e.status)).toEqual([504, 201]);
  });
});

describe('stats and journal', () => {
  it('reports in maxInFlight how many notifications were handled at the same time', async () => {
    server.configure({ latencyMs: 200 });
    const token = await tokenFor(workspaceA);

    await Promise.all([1, 2, 3, 4, 5, 6].map((n) => notify(token, `k-${n}`, delayed(`t-${n}`))));
    expect(server.stats().maxInFlight).toBe(6);

    server.reset();
    server.configure({ latencyMs: 20 });
    const nextToken = await tokenFor(workspaceA);
    for (const n of [1, 2, 3]) await notify(nextToken, `k-${n}`, delayed(`t-${n}`));
    expect(server.stats().maxInFlight).toBe(1);
  });

  it('keeps no journal entries but still counts when journal is false', async () => {
    server.configure({ journal: false });
    const token = await tokenFor(workspaceA);

    await notify(token, 'k-1', delayed('t-1'));
    await notify(token, 'k-2', delayed('t-2'));
    await notify(token, 'k-1', delayed('t-1'));
    await notify('mock_unknown', 'k-3', delayed('t-3'));

    expect(server.journal()).toEqual([]);
    expect((await http.get('/_mock/journal')).data).toEqual([]);
    expect(server.stats()).toEqual({
      tokenRequests: 1,
      tokensIssued: 1,
      notificationRequests: 4,
      accepted: 2,
      duplicates: 1,
      rejected: 1,
      injectedFaults: 0,
      dropped: 0,
      maxInFlight: 1,
    });
  });
});

describe('control API', () => {
  it('changes settings with PUT /_mock/settings and answers the settings in force', async () => {
    const response = await http.put('/_mock/settings', { latencyMs: 5, rateLimitRate: 0.25 });

    expect(response.status).toBe(200);
    expect(response.data).toMatchObject({
      latencyMs: 5,
      rateLimitRate: 0.25,
      clientId: 'sweep-local',
      tokenTtlSeconds: 300,
    });
    expect(server.settings()).toMatchObject({ latencyMs: 5, rateLimitRate: 0.25 });
    expect((await http.get('/_mock/settings')).data).toEqual(response.data);
  });

  it('refuses bad settings with 400 naming each one, and changes nothing', async () => {
    const response = await http.put('/_mock/settings', {
      error5xxRate: 2,
      latencyMs: 10,
      colour: 'red',
      rules: [{ endpoint: 'email', status: 503 }, { endpoint: 'notify' }],
    });

    expect(response.status).toBe(400);
    expect(response.data.error).toBe('invalid_settings');
    expect(response.data.problems).toEqual([
      'error5xxRate must be a number from 0 to 1 (got 2)',
      'colour is unknown',
      'rules[0].endpoint must be "token" or "notify" (got "email")',
      'rules[1] needs status, drop or delayMs',
    ]);
    expect(server.settings().latencyMs).toBe(0);
  });

  it('reports counts with GET /_mock/stats and filters GET /_mock/journal by endpoint', async () => {
    const token = await tokenFor(workspaceA);
    await notify(token, 'k-1', delayed('t-1'));
    await notify(token, 'k-1', delayed('t-1'));

    const stats = await http.get('/_mock/stats');
    const notifications = await http.get('/_mock/journal?endpoint=notify');
    const everything = await http.get('/_mock/journal');
    const badFilter = await http.get('/_mock/journal?endpoint=email');

    expect(stats.data).toMatchObject({
      tokenRequests: 1,
      tokensIssued: 1,
      notificationRequests: 2,
      accepted: 1,
      duplicates: 1,
    });
    expect(notifications.data.map((e: { status: number }) => e.status)).toEqual([201, 409]);
    expect(everything.data.map((e: { endpoint: string }) => e.endpoint)).toEqual(['token', 'notify', 'notify']);
    expect(badFilter.status).toBe(400);
  });

  it('forgets keys, tokens, journal and stats and restores the settings with POST /_mock/reset', async () => {
    const token = await tokenFor(workspaceA);
    await notify(token, 'k-1', delayed('t-1'));
    await http.put('/_mock/settings', { latencyMs: 30 });

    const reset = await http.post('/_mock/reset');

    expect(reset.status).toBe(200);
    expect(server.journal()).toEqual([]);
    expect(server.stats()).toMatchObject({ tokenRequests: 0, notificationRequests: 0, accepted: 0 });
    expect(server.settings().latencyMs).toBe(0);
    expect((await notify(token, 'k-1', delayed('t-1'))).status).toBe(401);
    expect((await notify(await tokenFor(workspaceA), 'k-1', delayed('t-1'))).status).toBe(201);
  });

  it('answers GET /health, 404 JSON to unknown routes and 405 to a wrong method', async () => {
    const health = await http.get('/health');
    const unknown = await http.get('/nope');
    const wrongMethod = await http.get('/notify/notifications');

    expect([health.status, health.data]).toEqual([200, { ok: true }]);
    expect([unknown.status, unknown.data.error]).toEqual([404, 'not_found']);
    expect(unknown.headers['content-type']).toContain('application/json');
    expect([wrongMethod.status, wrongMethod.headers.allow]).toEqual([405, 'POST']);
    expect(server.stats().notificationRequests).toBe(0);
  });
});

describe('startMockServer options', () => {
  it('uses the settings given at start, and reset() restores them', async () => {
    const own = await startMockServer({ clientId: 'c2', clientSecret: 's2', tokenTtlSeconds: 42 });
    try {
      own.configure({ tokenTtlSeconds: 5 });
      own.reset();
      const response = await axios.post(
        `${own.url}/auth/token`,
        new URLSearchParams({ grant_type: 'client_credentials', scope: `workspace:${workspaceA}` }),
        { auth: { username: 'c2', password: 's2' }, validateStatus: () => true },
      );

      expect(own.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(own.port).not.toBe(server.port);
      expect([response.status, response.data.expires_in]).toEqual([200, 42]);
    } finally {
      await own.close();
    }
  });

  it('rejects bad settings with a MockSettingsError naming them', async () => {
    await expect(startMockServer({ dropRate: -1 })).rejects.toThrow(MockSettingsError);
    await expect(startMockServer({ dropRate: -1 })).rejects.toThrow(/dropRate/);
  });
});
