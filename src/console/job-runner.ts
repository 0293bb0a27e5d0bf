import { PassThrough } from 'node:stream';
import { Command } from 'commander';
import type { Knex } from 'knex';
import { runJob } from '../runner/run-job.js';
import type { AnyNotificationJob } from '../sweep/notification-job.js';
import { toJobDefinition } from '../sweep/sweep-notifications.js';
import { HttpError } from './http-error.js';

/** What a run started from the console ended with: its exit code and what it printed for a person. */
export interface ConsoleRun {
  job: string;
  startedBy: string;
  exitCode?: number;
  summary?: string;
}

/** The printed summary kept of a run, at most (its tail). */
const SUMMARY_CHARS = 4000;

/**
 * Runs a notification job inside the console's process, on the console's own database:
 * on the embedded database (PGlite), which one process at a time may open, it is how a job
 * runs while the console is up (a `sweep` beside it would find the directory in use).
 * One run at a time, with the job's default options, as `sweep <job>` with no flag; it is
 * recorded in job_runs like any run, its log lines go to the console's log, and SIGTERM
 * stops it as it stops the console.
 */
export function createJobRunner(deps: { db: Knex; jobs: AnyNotificationJob[]; env: Record<string, string | undefined>; cwd: string;
  log: NodeJS.WritableStream; signal: AbortSignal }) {
  let current: Promise<void> | undefined;
  let last: ConsoleRun | undefined;
  return {
    /** The run under way, or the last one. */
    last(): ConsoleRun | undefined {
      return last;
    },
    busy(): boolean {
      return current !== undefined;
    },
    /** Starts `job`; false when a run is already under way. */
    start(jobName: string, startedBy: string): boolean {
      const job = deps.jobs.find((candidate) => candidate.name === jobName);
      if (!job) throw new Error(`no notification job named ${jobName}`);
      if (current) return false;
      const run: ConsoleRun = { job: jobName, startedBy };
      last = run;
      const printed = new PassThrough();
      let summary = '';
      printed.on('data', (chunk: Buffer) => { summary = (summary + chunk.toString()).slice(-SUMMARY_CHARS); });
      const definition = toJobDefinition(job);
      const command = new Command(job.name).exitOverride();
      for (const option of definition.options?.() ?? []) command.addOption(option);
      command.parse([], { from: 'user' });
      current = runJob(definition, command.opts() as never, {
        env: deps.env, cwd: deps.cwd, stdout: deps.log, stderr: printed, database: deps.db, signal: deps.signal,
      }).then((exitCode) => { run.exitCode = exitCode; }, (error: Error) => { run.exitCode = 1; summary += `\n${error.message}`; })
        .finally(() => { run.summary = summary; current = undefined; });
      return true;
    },
    /** Resolves once no run is under way: the console waits for it before it closes the database. */
    async idle(): Promise<void> {
      await current;
    },
  };
}

export type JobRunner = ReturnType<typeof createJobRunner>;

/** Starts `job` in the console's process, or says why not (409): on PostgreSQL the CronJobs run the jobs; one run at a time. */
export function startConsoleRun(runner: JobRunner | undefined, job: string, by: string): void {
  if (!runner) {
    throw new HttpError(409, 'the console runs jobs only on the embedded database; on PostgreSQL their CronJobs run them (or `sweep <job>`)');
  }
  if (!runner.start(job, by)) throw new HttpError(409, `a run the console started (${runner.last()?.job}) is under way: wait for it to end`);
}
