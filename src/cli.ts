import { existsSync, readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { jobs } from './jobs.js';
import { ExitCode } from './runner/exit-codes.js';
import { runJob, type RunnerIo } from './runner/run-job.js';

/** package.json sits one level up from src/, two from dist/src/. */
const packageJson = [new URL('../package.json', import.meta.url), new URL('../../package.json', import.meta.url)].find(existsSync);
const { version } = packageJson ? (JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string }) : { version: 'unknown' };

/**
 * Builds the `sweep` program from the job registry and runs it. The one exit path:
 * every outcome, usage error included, comes back as an exit code.
 */
export async function runCli(args: string[], io: RunnerIo): Promise<number> {
  let exitCode: number = ExitCode.OK;
  const program = new Command('sweep')
    .description('Runs the todo service\'s batch jobs. Exit codes: 0 done, 1 aborted, 64 usage or configuration error, '
      + '65 held (far more to send than usual: sweep approve), 75 finished with items to retry.')
    .version(version, '-V, --version')
    .usage('<job> [options]')
    .exitOverride()
    .configureOutput({ writeOut: (text) => io.stdout.write(text), writeErr: (text) => io.stderr.write(text) })
    .showSuggestionAfterError(true)
    .addHelpText('after', '\nOptions take precedence over environment variables, which take precedence over defaults.\n'
      + 'Run `sweep <job> --help` for a job\'s options.');

  for (const job of jobs) {
    const command = program.command(job.name).description(job.description).exitOverride();
    for (const option of job.options?.() ?? []) command.addOption(option);
    for (const argument of job.arguments?.() ?? []) command.addArgument(argument);
    command.action(async (...received: unknown[]) => {
      // commander passes the positional values, then the options, then the command.
      const options = received.at(-2) as Record<string, unknown>;
      const args = received.slice(0, -2);
      exitCode = await runJob(job, (args.length > 0 ? { ...options, args } : options) as never, io);
    });
  }

  if (args.length === 0) {
    program.outputHelp({ error: true });
    return ExitCode.USAGE;
  }
  try {
    await program.parseAsync(args, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end with exit code 0; everything else commander refuses is usage.
      return error.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE;
    }
    throw error;
  }
  return exitCode;
}
