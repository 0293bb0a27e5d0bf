import { fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { createServer } from 'node:http';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeHttpClient, createHttpClient } from '../../src/http/http-client.js';
import { createNotificationClient } from '../../src/http/notification.client.js';
import { createTokenCache } from '../../src/http/token-cache.js';

/**
 * The client CPU of one notification request, the transport isolated: no database, no
 * logging, a server in a process of its own on 127.0.0.1 that answers after `latency` ms
 * (0: at once).
 *   npx tsx test/bench/transport-cpu.ts transport|axios-http|raw [requests] [latency]
 * With HEAP_PROFILE=<file>, V8's sampling heap profile of the measured requests (what
 * they allocate, garbage included) is written there, for Chrome's DevTools.
 * transport: the notification client as the sweep runs it; axios-http: the same on
 * axios' own http adapter; raw: bare node:http with the same keep-alive agent, the floor.
 */
const [mode = 'transport', count = '20000', latency = '0'] = process.argv.slice(2);
const CONCURRENCY = 64;

if (mode === 'server') {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => setTimeout(() => {
      res.writeHead(201, { 'content-type': 'application/json', 'content-length': '21' });
      res.end('{"status":"accepted"}');
    }, Number(latency)));
  });
  server.listen(0, '127.0.0.1', () => process.send?.((server.address() as AddressInfo).port));
} else {
  const server = fork(new URL(import.meta.url).pathname, ['server', count, latency], { execArgv: process.execArgv });
  const port = await new Promise<number>((resolve) => server.once('message', (message) => resolve(message as number)));
  const client = createHttpClient({ baseURL: `http://127.0.0.1:${port}`, timeoutMs: 10_000, maxSockets: CONCURRENCY });
  if (mode === 'axios-http') client.defaults.adapter = 'http';
  const notifications = createNotificationClient({ http: client, retry: { retries: 0, baseMs: 1, maxMs: 1 },
    tokens: createTokenCache({ fetchToken: async () => ({ accessToken: 'tok-transport-cpu', expiresInMs: 300_000 }) }) });
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY, maxFreeSockets: CONCURRENCY });
  const body = Buffer.from(JSON.stringify({ message: 'Todo 1 is delayed' }));
  const raw = () => new Promise<void>((resolve, reject) => {
    const req = http.request({ hostname: '127.0.0.1', port, path: '/notify/notifications', method: 'POST', agent,
      headers: { authorization: 'Bearer tok', 'content-type': 'application/json', 'content-length': body.length } }, (res) => {
      res.resume();
      res.on('end', resolve);
    });
    req.on('error', reject);
    req.end(body);
  });
  let sent = 0;
  const one = mode === 'raw' ? raw : () => notifications.send({ workspaceId: 'w', key: `k-${sent++}`, message: 'Todo 1 is delayed' });
  const run = async (n: number) => {
    let left = n;
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (left-- > 0) await one();
    }));
  };
  await run(2000); // warm-up: JIT and sockets
  const requests = Number(count);
  const heapProfile = process.env.HEAP_PROFILE ? await startHeapSampling() : undefined;
  const before = process.cpuUsage();
  const started = performance.now();
  await run(requests);
  const cpu = process.cpuUsage(before);
  if (heapProfile && process.env.HEAP_PROFILE) writeFileSync(process.env.HEAP_PROFILE, JSON.stringify(await heapProfile.stop()));
  const seconds = (performance.now() - started) / 1000;
  console.log(`${mode}: ${((cpu.user + cpu.system) / requests).toFixed(0)} µs of client CPU per request, ${(requests / seconds).toFixed(0)} requests/s`);
  closeHttpClient(client);
  agent.destroy();
  server.kill();
}

/** Samples every allocation (one in 4 KB), collected ones included: the garbage is the point. */
async function startHeapSampling(): Promise<{ stop(): Promise<unknown> }> {
  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.startSampling', { samplingInterval: 4096,
    includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  return {
    async stop() {
      const { profile } = await session.post('HeapProfiler.stopSampling');
      session.disconnect();
      return profile;
    },
  };
}
