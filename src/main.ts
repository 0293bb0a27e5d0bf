import { runCli } from './cli.js';
import { withEnvFile } from './configuration/env-file.js';
import { ExitCode } from './runner/exit-codes.js';

/** The process entry: `npm run command -- <job>` and the `sweep` bin both land here. */
const exitCode = await runCli(process.argv.slice(2), {
  env: withEnvFile(process.env, process.cwd()),
  cwd: process.cwd(),
  stdout: process.stdout,
  stderr: process.stderr,
}).catch((error: unknown) => {
  process.stderr.write(`sweep: unexpected error: ${(error as Error)?.stack ?? String(error)}\n`);
  return ExitCode.ABORTED;
});
process.exitCode = exitCode;
