import pLimit from 'p-limit';
import { getConfig } from '../../src/configuration/config.js';
import { closeHttpClient, createHttpClient } from '../../src/http/http-client.js';
import { createTokenCache } from '../../src/http/token-cache.js';
import { claimBatchSize } from '../../src/sweep/claim-batch.js';
import { createInFlight } from '../../src/sweep/in-flight.js';
import { fetchWorkspaceToken } from '../../src/http/token.client.js';
import type { BenchTodo } from './load-todos.js';
import { createNotificationClient } from '../../src/http/notification.client.js';

export interface CeilingResult {
  seconds: number;
  /** CPU of the process while it sent (user + system). */
  cpuSeconds: number;
  tokenFetches: number;
  /** Sends that threw (they would be FAILED items in a sweep). */
  failures: number;
}

/**
 * The same HTTP work as a sweep with no database: the project's own http client, token
 * cache and notification client, over the todos in memory, `concurrency` in flight
 * through p-limit, fed a claim batch at a time as the sweep feeds it.
 * What the sweep could reach if reading, claiming and recording cost nothing.
 */
export async function measureCeiling(servicesUrl: string, todos: BenchTodo[], concurrency: number, pageSize: number): Promise<CeilingResult> {
  // The sweep's defaults for timeouts, retries and credentials, from its own configuration.
  const config = getConfig({ SERVICES_URL: servicesUrl });
  const http = createHttpClient({ baseURL: config.servicesUrl, timeoutMs: config.http.timeoutMs, maxSockets: concurrency });
  const tokens = createTokenCache({
    fetchToken: (workspaceId) =>
      fetchWorkspaceToken(http, { clientId: config.serviceClientId, clientSecret: config.serviceClientSecret }, workspaceId),
  });
  const client = createNotificationClient({
    http, tokens, retry: { retries: config.http.retries, baseMs: config.http.retryBaseMs, maxMs: config.http.retryMaxMs },
  });
  const limit = pLimit(concurrency);
  let failures = 0;
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  try {
    // Fed as the sweep feeds its p-limit: a claim batch at a time, once fewer than
    // concurrency + batch are unfinished; never N promises at once.
    const inFlight = createInFlight();
    const batch = claimBatchSize(concurrency, pageSize);
    for (const [index, todo] of todos.entries()) {
      if (index % batch === 0) await inFlight.waitBelow(concurrency + batch);
      inFlight.track(limit(async () => {
        try {
          await client.send({ workspaceId: todo.workspaceId, key: `send-delay-notifications:${todo.id}:${todo.dueDate}`, message: `Todo ${todo.id} is delayed` });
        } catch {
          failures += 1;
        }
      }));
    }
    await inFlight.waitBelow(1);
    const cpu = process.cpuUsage(cpuBefore);
    return { seconds: (performance.now() - started) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6, tokenFetches: tokens.fetches, failures };
  } finally {
    closeHttpClient(http);
  }
}
