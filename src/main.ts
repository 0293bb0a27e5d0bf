import { runCli } from './cli.js';
import { withEnvFile } from './configuration/env-file.js';
import { ConfigError } from './runner/errors.js';
import { ExitCode } from './runner/exit-codes.js';

/**
 * The process entry: `npm run command -- <job>` and the `sweep` bin both land here.
 * A first SIGTERM or SIGINT asks the running job to stop cleanly (it finishes what is
 * in flight within its grace period and releases the rest); a second one exits at once.
 */
// `sweep --help | head` closes the pipe early: that is the reader's choice, not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

const stop = new AbortController();
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (!stop.signal.aborted) {
      stop.abort(signal);
      return;
    }
    process.stderr.write(`sweep: second ${signal}: exiting now; unfinished claims expire with their lease\n`);
    process.exit(signal === 'SIGINT' ? ExitCode.INTERRUPTED : ExitCode.TERMINATED);
  });
}

/** The environment with .env under it; undefined, once the problem is said, when .env cannot be read. */
function readEnvironment(): Record<string, string | undefined> | undefined {
  try {
    return withEnvFile(process.env, process.cwd());
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`sweep: ${error.message}\n`);
    return undefined;
  }
}

const env = readEnvironment();
const exitCode = env === undefined ? ExitCode.USAGE : await runCli(process.argv.slice(2), {
  env,
  cwd: process.cwd(),
  stdout: process.stdout,
  stderr: process.stderr,
  signal: stop.signal,
}).catch((error: unknown) => {
  process.stderr.write(`sweep: unexpected error: ${(error as Error)?.stack ?? String(error)}\n`);
  return ExitCode.ABORTED;
});
// The run is over and its lines are written (stdout and stderr are synchronous on Linux,
// for pipes, files and terminals alike): what is left in the event loop now is a wait that
// no longer matters, such as the pool's timer for a connection a frozen database never
// gave. A scheduler reads the exit code when the process ends, so it ends now.
process.exit(exitCode);
