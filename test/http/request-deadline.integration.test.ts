import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { closeHttpClient, createHttpClient } from '../../src/http/http-client.js';
import { createNotificationClient } from '../../src/http/notification.client.js';
import { ServiceError } from '../../src/http/service-error.js';
import { createTokenCache } from '../../src/http/token-cache.js';
import { fetchWorkspaceToken } from '../../src/http/token.client.js';
import { buildDelayedTodos, insertTodos } from '../support/fixtures.js';
import { startHostileService, trickle, type HostileService } from '../support/hostile-service.js';
import { runSweep } from '../support/run-sweep.js';
import { waitFor } from '../support/sweep-process.js';
import { useTestbed } from '../support/testbed.js';

const TIMEOUT_MS = 1000;
/** What a loaded machine may add to a deadline: scheduling, not a second timeout. */
const MARGIN_MS = 1000;
const TOKEN_ANSWER = JSON.stringify({ access_token: 'tok-trickled', token_type: 'Bearer', expires_in: 300 });
const CREDENTIALS = { clientId: 'sweep-test', clientSecret: 'sweep-test-secret' };

let service: HostileService | undefined;
afterEach(async () => {
  await service?.close();
  service = undefined;
});

async function failureOf(work: Promise<unknown>): Promise<{ error: ServiceError; ms: number }> {
  const started = performance.now();
  const error = await work.then(() => undefined, (caught: unknown) => caught);
  if (!(error instanceof ServiceError)) throw new Error(`expected a ServiceError, got ${String(error)}`);
  return { error, ms: performance.now() - started };
}

const fixedToken = () => createTokenCache({ fetchToken: async () => ({ accessToken: 'tok-1', expiresInMs: 300_000 }) });

/** How long the service saw each request's connection held open, once the client has let go of all of them. */
async function heldMs(endpoint: 'token' | 'notify'): Promise<number[]> {
  const requests = service!.of(endpoint);
  await waitFor(() => requests.every((r) => r.closedAt !== undefined), 10_000, 'the connections to close').catch(() => undefined);
  return requests.map((r) => (r.closedAt ?? Infinity) - r.startedAt);
}

describe('every request ends within HTTP_TIMEOUT_MS of its start, however slowly its answer arrives', () => {
  it('a token request whose answer trickles in a byte at a time', async () => {
    service = await startHostileService({ token: (_, res) => trickle(res, 200, TOKEN_ANSWER) });
    const http = createHttpClient({ baseURL: service.url, timeoutMs: TIMEOUT_MS, maxSockets: 2 });
    try {
      const { error, ms } = await failureOf(fetchWorkspaceToken(http, CREDENTIALS, randomUUID()));

      expect(error).toMatchObject({ kind: 'transient', details: { code: 'ETIMEDOUT' } });
      expect(ms).toBeLessThan(TIMEOUT_MS + MARGIN_MS);
      expect((await heldMs('token')).every((held) => held < TIMEOUT_MS + MARGIN_MS)).toBe(true);
    } finally {
      closeHttpClient(http);
    }
  });

  it('a notification whose error answer trickles in a byte at a time', async () => {
    service = await startHostileService({ notify: (_, res) => trickle(res, 503, JSON.stringify({ error: 'busy', padding: 'x'.repeat(40) })) });
    const http = createHttpClient({ baseURL: service.url, timeoutMs: TIMEOUT_MS, maxSockets: 2 });
    const client = createNotificationClient({ http, tokens: fixedToken(), retry: { retries: 0, baseMs: 1, maxMs: 1 } });
    try {
      const { error, ms } = await failureOf(client.send({ workspaceId: randomUUID(), key: 'k-1', message: 'Todo 1 is delayed' }));

      expect(error).toMatchObject({ kind: 'transient', details: { code: 'ETIMEDOUT' } });
      expect(ms).toBeLessThan(TIMEOUT_MS + MARGIN_MS);
      expect((await heldMs('notify')).every((held) => held < TIMEOUT_MS + MARGIN_MS)).toBe(true);
    } finally {
      closeHttpClient(http);
    }
  });

  it('a notification accepted with a body that trickles: sent at its status, the connection cut at the deadline', async () => {
    service = await startHostileService({ notify: (_, res) => trickle(res, 201, JSON.stringify({ status: 'accepted', padding: 'x'.repeat(40) })) });
    const http = createHttpClient({ baseURL: service.url, timeoutMs: TIMEOUT_MS, maxSockets: 2 });
    const client = createNotificationClient({ http, tokens: fixedToken(), retry: { retries: 0, baseMs: 1, maxMs: 1 } });
    try {
      expect(await client.send({ workspaceId: randomUUID(), key: 'k-1', message: 'Todo 1 is delayed' })).toEqual({ status: 201, attempts: 1 });
      expect((await heldMs('notify')).every((held) => held < TIMEOUT_MS + MARGIN_MS)).toBe(true);
    } finally {
      closeHttpClient(http);
    }
  });
});

describe('a run against a token service that trickles', () => {
  const testbed = useTestbed();

  it('gives up on each token request at HTTP_TIMEOUT_MS and leaves the items to the next run', async () => {
    await insertTodos(testbed.database.db, buildDelayedTodos(4, 2));
    service = await startHostileService({ token: (_, res) => trickle(res, 200, TOKEN_ANSWER) });

    const run = await runSweep(['send-delay-notifications', '--date', '2022-06-03'], {
      database: testbed.database, servicesUrl: service.url, env: { HTTP_TIMEOUT_MS: String(TIMEOUT_MS), HTTP_RETRIES: '1' },
    });

    expect(run.exitCode).toBe(75);
    expect(run.summary).toMatchObject({ sent: 0 });
    expect(service.of('token').length).toBeGreaterThanOrEqual(2);
    expect((await heldMs('token')).every((held) => held < TIMEOUT_MS + MARGIN_MS)).toBe(true);
    expect(service.of('notify')).toEqual([]);
  });
});
