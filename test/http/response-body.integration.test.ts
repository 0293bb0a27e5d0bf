import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { closeHttpClient, createHttpClient } from '../../src/http/http-client.js';
import { ServiceError } from '../../src/http/service-error.js';
import { fetchWorkspaceToken } from '../../src/http/token.client.js';
import { buildDelayedTodos, insertTodos, keyOf } from '../support/fixtures.js';
import { flood, startHostileService, type HostileService } from '../support/hostile-service.js';
import { runSweep } from '../support/run-sweep.js';
import { useTestbed } from '../support/testbed.js';

/** Far more than anyone should read: a client that bounds its reads hangs up long before the end. */
const HUGE = 256 * 1024 * 1024;
/** What a client that stopped reading early can have taken, the sockets' buffers included. */
const BOUNDED = 32 * 1024 * 1024;
const CREDENTIALS = { clientId: 'sweep-test', clientSecret: 'sweep-test-secret' };

let service: HostileService | undefined;
afterEach(async () => {
  await service?.close();
  service = undefined;
});

describe('answers with huge bodies', () => {
  const testbed = useTestbed();

  it('records a 2xx as sent whatever its body, and a 5xx with a huge body as transient, reading neither whole', async () => {
    const [accepted, failing] = await insertTodos(testbed.database.db, buildDelayedTodos(2, 1));
    const floods: Array<{ written: () => number }> = [];
    service = await startHostileService({
      notify: (request, res) => {
        floods.push(flood(res, request.headers['idempotency-key'] === keyOf(accepted!) ? 201 : 503, HUGE));
      },
    });

    const run = await runSweep(['send-delay-notifications', '--date', '2022-06-03'], { database: testbed.database, servicesUrl: service.url });

    expect(run.summary).toMatchObject({ sent: 1, failedPermanently: 0, failedTransiently: 1 });
    const rows = await testbed.database.db('deliveries').select('key', 'status', 'last_status', 'last_error').orderBy('key');
    expect(rows.find((row) => row.key === keyOf(accepted!))).toMatchObject({ status: 'sent', last_status: 201 });
    const retried = rows.find((row) => row.key === keyOf(failing!));
    expect(retried).toMatchObject({ status: 'retry', last_status: 503 });
    expect(String(retried.last_error).length).toBeLessThan(300);
    // The 5xx was retried within the run, as any transient failure is.
    expect(service.of('notify').filter((r) => r.headers['idempotency-key'] === keyOf(failing!)).length).toBeGreaterThan(1);
    for (const body of floods) expect(body.written()).toBeLessThan(BOUNDED);
  });
});

describe('token answers with huge bodies', () => {
  it('treats a 5xx with a huge body as transient', async () => {
    let body: { written: () => number } | undefined;
    service = await startHostileService({ token: (_, res) => { body = flood(res, 503, HUGE); } });
    const http = createHttpClient({ baseURL: service.url, timeoutMs: 10_000, maxSockets: 2 });
    try {
      const error = await fetchWorkspaceToken(http, CREDENTIALS, randomUUID()).catch((caught: unknown) => caught);

      expect(error).toBeInstanceOf(ServiceError);
      expect(error).toMatchObject({ kind: 'transient', details: { status: 503 } });
      expect(body!.written()).toBeLessThan(BOUNDED);
    } finally {
      closeHttpClient(http);
    }
  });

  it('refuses a 200 too large to be a token answer, without reading it whole', async () => {
    let body: { written: () => number } | undefined;
    service = await startHostileService({ token: (_, res) => { body = flood(res, 200, HUGE); } });
    const http = createHttpClient({ baseURL: service.url, timeoutMs: 10_000, maxSockets: 2 });
    try {
      const error = await fetchWorkspaceToken(http, CREDENTIALS, randomUUID()).catch((caught: unknown) => caught);

      expect(error).toMatchObject({ kind: 'permanent', message: expect.stringMatching(/larger than allowed/) });
      expect(body!.written()).toBeLessThan(BOUNDED);
    } finally {
      closeHttpClient(http);
    }
  });
});
