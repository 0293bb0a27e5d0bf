import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { Knex } from 'knex';
import { createAuthenticator, type AuthOptions } from '../../src/console/console-auth.js';
import type { ConsoleToken } from '../../src/console/console-config.js';
import { buildConsoleServer } from '../../src/console/console-server.js';
import type { JobRunner } from '../../src/console/job-runner.js';
import { notificationJobs } from '../../src/jobs.js';
import { createLogger } from '../../src/logging/logger.js';

export const OPERATOR: ConsoleToken = { name: 'olivia', role: 'operator', token: 'operator-token-0123456789abcdef' };
export const VIEWER: ConsoleToken = { name: 'victor', role: 'viewer', token: 'viewer-token-0123456789abcdefgh' };

export interface TestConsole {
  app: FastifyInstance;
  url: string;
  /** Everything the console logged. */
  logs(): string;
  close(): Promise<void>;
}

/** The console on a real port of 127.0.0.1, on `db`, with an operator and a viewer token. */
export async function startTestConsole(db: Knex, options: { tokens?: ConsoleToken[]; auth?: AuthOptions; trustProxy?: false | number | string[];
  jobRunner?: JobRunner; traceUrl?: string } = {}): Promise<TestConsole> {
  const destination = new PassThrough();
  let logs = '';
  destination.on('data', (chunk: Buffer) => { logs += chunk.toString(); });
  const logger = createLogger({ level: 'info', format: 'json', destination });
  const app = await buildConsoleServer({ db, jobs: notificationJobs, logger,
    auth: createAuthenticator(options.tokens ?? [OPERATOR, VIEWER], options.auth), trustProxy: options.trustProxy, jobRunner: options.jobRunner,
    traceUrl: options.traceUrl });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  return { app, url, logs: () => logs, close: () => app.close() };
}

/** fetch with a Bearer token, JSON in and out. */
export async function call(url: string, token: string | undefined, method = 'GET', body?: unknown, headers: Record<string, string> = {}):
Promise<{ status: number; body: any; headers: Headers }> {
  const response = await fetch(url, {
    method, redirect: 'manual',
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // an HTML page or empty
  }
  return { status: response.status, body: parsed, headers: response.headers };
}

/** Signs in on /login with `token` as a browser would; the session cookie, as a Cookie header value. */
export async function signIn(url: string, token: string, headers: Record<string, string> = {}): Promise<{ cookie: string; setCookie: string }> {
  const response = await fetch(`${url}/login`, {
    method: 'POST', redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin', ...headers },
    body: new URLSearchParams({ token }).toString(),
  });
  if (response.status !== 303) throw new Error(`sign-in answered ${response.status}`);
  const setCookie = response.headers.get('set-cookie') ?? '';
  return { cookie: setCookie.split(';')[0]!, setCookie };
}
