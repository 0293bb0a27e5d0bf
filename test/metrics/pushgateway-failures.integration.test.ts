import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { runSweep } from '../support/run-sweep.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

const PASSWORD = 'pgw-s3cret-91';

let database: TestDatabase;
let gateway: Server;
let gatewayPort: number;
const authorizations: Array<string | undefined> = [];
/** How the gateway answers: refuses, echoing what it was sent, or accepts with a body that trickles. */
let trickling = false;

beforeAll(async () => {
  database = await createTestDatabase();
  // A Pushgateway behind basic auth that refuses the push, echoing what it was sent.
  gateway = createServer((req, res) => {
    authorizations.push(req.headers.authorization);
    req.resume();
    req.on('end', () => {
      if (!trickling) return void res.writeHead(500, { 'content-type': 'text/plain' }).end(`refused ${req.headers.authorization} for ${req.url}`);
      res.writeHead(200, { 'content-length': '1000' });
      const timer = setInterval(() => res.write('x'), 200);
      res.once('close', () => clearInterval(timer));
    });
  });
  await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve));
  gatewayPort = (gateway.address() as AddressInfo).port;
});
afterAll(async () => {
  gateway?.closeAllConnections();
  await new Promise((resolve) => gateway?.close(resolve));
  await database?.destroy();
});

afterEach(() => {
  trickling = false;
});

it('pushes with the credentials of PUSHGATEWAY_URL, and never logs its password', async () => {
  const url = `http://metrics:${PASSWORD}@127.0.0.1:${gatewayPort}`;

  const run = await runSweep(['prune', '--older-than', '90d'], { database, env: { PUSHGATEWAY_URL: url, LOG_LEVEL: 'trace' } });

  expect(run.exitCode).toBe(0);
  expect(authorizations.at(-1)).toBe(`Basic ${Buffer.from(`metrics:${PASSWORD}`).toString('base64')}`);
  const warning = run.logs.find((line) => line.level === 'warn' && /could not push/.test(line.msg));
  expect(warning).toMatchObject({ pushgateway: `http://metrics:***@127.0.0.1:${gatewayPort}` });
  expect(run.output + run.stderr).not.toContain(PASSWORD);
  expect(run.output + run.stderr).not.toContain(Buffer.from(`metrics:${PASSWORD}`).toString('base64'));
});

it('gives up on a push whose answer trickles at HTTP_TIMEOUT_MS, and finishes the run', async () => {
  trickling = true;
  const started = performance.now();

  const run = await runSweep(['prune', '--older-than', '90d'], { database, env: { PUSHGATEWAY_URL: `http://127.0.0.1:${gatewayPort}`, HTTP_TIMEOUT_MS: '1000' } });

  expect(run.exitCode).toBe(0);
  expect(run.logs.find((line) => line.level === 'warn' && /could not push/.test(line.msg))).toBeDefined();
  // The push's deadline, plus what a loaded machine takes for the rest of the run.
  expect(performance.now() - started).toBeLessThan(1000 + 3000);
});

it('pushes nothing for a run that is not of record: a listing, a dry run', async () => {
  const before = authorizations.length;

  for (const args of [['runs'], ['prune', '--older-than', '90d', '--dry-run']]) {
    const run = await runSweep(args, { database, env: { PUSHGATEWAY_URL: `http://127.0.0.1:${gatewayPort}` } });
    expect(run.exitCode).toBe(0);
  }

  expect(authorizations).toHaveLength(before);
});
