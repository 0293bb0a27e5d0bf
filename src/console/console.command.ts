import { randomBytes } from 'node:crypto';
import { Option } from 'commander';
import type { FastifyInstance } from 'fastify';
import type { Knex } from 'knex';
import { statementControlOf } from '../database/database.js';
import { registerSecret } from '../logging/secret-registry.js';
import { SweepError } from '../runner/errors.js';
import { ExitCode } from '../runner/exit-codes.js';
import { defineJob, type JobResult } from '../runner/job.type.js';
import type { AnyNotificationJob } from '../sweep/notification-job.js';
import { createAuthenticator } from './console-auth.js';
import { getConsoleConfig, type ConsoleToken } from './console-config.js';
import { createJobRunner } from './job-runner.js';

/**
 * How long the requests in flight may take to finish after SIGTERM: within the pod's
 * terminationGracePeriodSeconds (30), with room for the database to close.
 */
const GRACE_MS = 20_000;

interface ConsoleOptions {
  host?: string;
  port?: string;
}

/**
 * `sweep console`: the operator console and its JSON API, from one process, on the jobs'
 * database. Serves until SIGTERM or SIGINT, then closes the server (requests in flight
 * finish), the runner closes the database, and it exits 0: that is how it is stopped.
 */
export const consoleCommand = (jobs: AnyNotificationJob[]) => defineJob<ConsoleOptions>({
  name: 'console',
  description: 'Serves the operator console and its JSON API (see and steer every job from a browser); stops on SIGTERM/SIGINT.',
  options: () => [
    new Option('--host <address>', 'address to listen on (default 127.0.0.1)'),
    new Option('--port <n>', 'port to listen on (env SWEEP_CONSOLE_PORT, default 8080; 0: any free port)'),
  ],
  database: 'schema',
  servesUntilSignal: true,
  recordsRun: () => false,
  async run({ config, db, logger, env, terminal, signal, output }, options): Promise<JobResult> {
    const settings = getConsoleConfig(env, options, config.database);
    const tokens: ConsoleToken[] = settings.tokens;
    const oneTimeLink: ConsoleToken | undefined = settings.oneTimeToken
      ? { name: 'local-operator', role: 'operator', token: randomBytes(32).toString('base64url') } : undefined;
    // The log never holds a token, whatever line one might slip into.
    for (const { token } of [...tokens, ...(oneTimeLink ? [oneTimeLink] : [])]) registerSecret(token);

    // Loaded here, not with the registry: fastify and its plugins cost every other command
    // about 0.4 s of start-up.
    const { buildConsoleServer } = await import('./console-server.js');
    // The embedded database admits one process: the console runs the jobs on request, from its own.
    const jobRunner = config.database.kind === 'embedded' ? createJobRunner({ db, jobs, env, cwd: process.cwd(), log: output, signal }) : undefined;
    const app = await buildConsoleServer({ db, jobs, defaultTimeZone: config.defaultTimeZone, traceUrl: config.traceUrl, logger, auth: createAuthenticator(tokens, { oneTimeLink }), trustProxy: settings.trustProxy,
      jobRunner });
    let address: string;
    try {
      address = await app.listen({ host: settings.host, port: settings.port });
    } catch (error) {
      await app.close();
      const code = (error as NodeJS.ErrnoException).code;
      throw new SweepError(`the console cannot listen on ${settings.host}:${settings.port}: ${(error as Error).message}`,
        code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL' ? ExitCode.USAGE : ExitCode.ABORTED);
    }
    const url = address.replace('://[::1]', '://localhost');
    logger.info({ url, tokens: tokens.map(({ name, role }) => ({ name, role })) }, `the console serves ${url}`);
    if (oneTimeLink) {
      // For the person at the terminal only: never the log stream.
      terminal.write(`\nThe console is at ${url}. Sign in with this link (it signs in once; made because `
        + `SWEEP_CONSOLE_TOKENS is not set, restart the console for another):\n\n    ${url}/login?token=${oneTimeLink.token}\n\n`);
    }
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', () => resolve(), { once: true });
    });
    logger.info({ signal: String(signal.reason) }, 'the console stops: closing the server');
    await closeWithin(app, db, GRACE_MS);
    // A run it started stops on the same signal; the database closes after it.
    await jobRunner?.idle();
    return { outcome: 'done', counts: {} };
  },
});

/**
 * Closes the server: it takes no new request (503 while closing), lets those in flight
 * finish, and, once `graceMs` is over, cancels their statements and closes their
 * connections, so that the process ends within the pod's grace whatever the database does.
 */
async function closeWithin(app: FastifyInstance, db: Knex, graceMs: number): Promise<void> {
  const timer = setTimeout(() => {
    statementControlOf(db)?.stop('the console stops: its grace period is over', 0);
    app.server.closeAllConnections();
  }, graceMs);
  // A keep-alive connection whose request finished after close() began would otherwise
  // hold the server open until its keep-alive timeout.
  const idle = setInterval(() => app.server.closeIdleConnections(), 100);
  try {
    await app.close();
  } finally {
    clearTimeout(timer);
    clearInterval(idle);
  }
}
