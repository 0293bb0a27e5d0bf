import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { closeHttpClient, createHttpClient } from '../../src/http/http-client.js';
import { fetchWorkspaceToken } from '../../src/http/token.client.js';
import { buildDelayedTodos, insertTodos } from '../support/fixtures.js';
import { json, startHostileService, trickle, type HostileService } from '../support/hostile-service.js';
import { FAST_HTTP_ENV, runSweep } from '../support/run-sweep.js';
import { startSweepProcess, waitFor } from '../support/sweep-process.js';
import { useTestbed } from '../support/testbed.js';

const SEND = 'send-delay-notifications';
const CREDENTIALS = { clientId: 'sweep-test', clientSecret: 'sweep-test-secret' };
const RETRY = { retries: 3, baseMs: 1, maxMs: 10 };
const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const TOKEN_ANSWER = JSON.stringify({ access_token: 'tok-trickled', token_type: 'Bearer', expires_in: 300 });

let service: HostileService | undefined;
afterEach(async () => {
  await service?.close();
  service = undefined;
});

describe('fetchWorkspaceToken', () => {
  it('retries a transient failure on its own, and gives up at once on a refusal', async () => {
    service = await startHostileService({
      token: (request, res) => {
        if (request.workspaceId === refusedWorkspace) return json(res, 400, { error: 'invalid_scope' });
        if (request.seq <= 2) return json(res, 503, { error: 'temporarily_unavailable' });
        service!.issue(request, res);
      },
    });
    const refusedWorkspace = randomUUID();
    const http = createHttpClient({ baseURL: service.url, timeoutMs: 5000, maxSockets: 2 });
    try {
      const issued = await fetchWorkspaceToken(http, CREDENTIALS, randomUUID(), { retry: RETRY });
      expect(issued.accessToken).toBe(service.issued[0]);
      expect(service.of('token')).toHaveLength(3);

      await expect(fetchWorkspaceToken(http, CREDENTIALS, refusedWorkspace, { retry: RETRY })).rejects.toMatchObject({ kind: 'permanent', status: 400 });
      expect(service.of('token')).toHaveLength(4);
    } finally {
      closeHttpClient(http);
    }
  });

  it('stops the request in flight, and any retry, when its signal aborts', async () => {
    service = await startHostileService({ token: (_, res) => trickle(res, 200, TOKEN_ANSWER, 500) });
    const http = createHttpClient({ baseURL: service.url, timeoutMs: 60_000, maxSockets: 2 });
    const stop = new AbortController();
    try {
      const fetching = fetchWorkspaceToken(http, CREDENTIALS, randomUUID(), { retry: RETRY, signal: stop.signal });
      await waitFor(() => service!.of('token').length === 1, 10_000, 'the token request');
      const abortedAt = performance.now();
      stop.abort('SIGTERM');

      await expect(fetching).rejects.toBeDefined();
      expect(performance.now() - abortedAt).toBeLessThan(1000);
      await waitFor(() => service!.of('token')[0]!.closedAt !== undefined, 5000, 'the connection to close');
      expect(service.of('token')).toHaveLength(1);
    } finally {
      closeHttpClient(http);
    }
  });
});

describe('token fetches in a run', () => {
  const testbed = useTestbed();

  it('costs no notification attempts when a fifth of the token answers fail', async () => {
    await insertTodos(testbed.database.db, buildDelayedTodos(50, 25));
    service = await startHostileService({
      token: (request, res) => (request.seq % 5 === 1 ? json(res, 503, { error: 'temporarily_unavailable' }) : void service!.issue(request, res)),
    });

    const run = await runSweep([SEND, '--date', '2022-06-03', '--concurrency', '2'], { database: testbed.database, servicesUrl: service.url });

    expect(run.exitCode).toBe(0);
    expect(run.summary).toMatchObject({ sent: 50, failedTransiently: 0, skippedWithoutToken: 0 });
    expect(service.of('token').filter((request) => request.seq % 5 === 1).length).toBeGreaterThanOrEqual(5);
    expect(run.logs.filter((line) => /notification attempt failed/.test(line.msg))).toEqual([]);
    const sent = run.logs.filter((line) => line.msg === 'sent a notification');
    expect(sent).toHaveLength(50);
    expect(sent.every((line) => line.attempts === 1)).toBe(true);
  });

  it('fetches a token a few times a minute at most, though each comes already expired', async () => {
    await insertTodos(testbed.database.db, buildDelayedTodos(60, 1));
    const expired = (n: number) => `${base64url({ alg: 'HS256', typ: 'JWT' })}.${base64url({ sub: `n${n}`, exp: Math.floor(Date.now() / 1000) - 60 })}.c2ln`;
    service = await startHostileService({
      token: (request, res) => void service!.issue(request, res, { access_token: expired(request.seq), expires_in: undefined }),
    });

    const run = await runSweep([SEND, '--date', '2022-06-03', '--concurrency', '4'], { database: testbed.database, servicesUrl: service.url });

    expect(run.summary).toMatchObject({ sent: 60 });
    expect(service.of('token').length).toBeLessThanOrEqual(3);
  });

  // A real child process and the test share the database: that needs a server.
  it.skipIf(inject('testDatabase').kind !== 'postgres')('exits within the grace period on SIGTERM while a token answer trickles', async () => {
    await insertTodos(testbed.database.db, buildDelayedTodos(2, 1));
    service = await startHostileService({ token: (_, res) => trickle(res, 200, TOKEN_ANSWER, 500) });
    const run = startSweepProcess([SEND, '--date', '2022-06-03', '--grace-seconds', '2'],
      { ...testbed.database.env, ...FAST_HTTP_ENV, HTTP_TIMEOUT_MS: '120000', SERVICES_URL: service.url });
    await waitFor(() => service!.of('token').length >= 1, 20_000, 'the token request');

    const signalledAt = performance.now();
    run.child.kill('SIGTERM');
    const exitCode = await run.exited;

    expect(exitCode).toBe(143);
    // The grace period, plus what a loaded machine takes to record and exit.
    expect(performance.now() - signalledAt).toBeLessThan(2000 + 3000);
    expect(await testbed.database.db('deliveries').pluck('status')).toEqual(['retry', 'retry']);
  });
});
