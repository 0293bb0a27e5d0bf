import type { Argument, Option } from 'commander';
import type { Knex } from 'knex';
import type { TablePrivileges } from '../database/privileges.js';
import type { Config } from '../configuration/config.js';
import type { Logger } from '../logging/logger.js';
import type { RunMetrics } from '../metrics/run-metrics.js';
import type { TraceSpan } from '../tracing/tracing.js';
import type { Printer } from './printer.js';

/** What the runner hands a job: everything it needs, already opened and validated. */
export interface JobContext {
  config: Config;
  /** Carries { job, runId } on every line. */
  logger: Logger;
  /** Open and checked; present unless the job declared `database: 'none'`. */
  db: Knex;
  /** Set when the run is recorded in job_runs. */
  runId?: string;
  /** Aborted when the run is asked to stop (SIGTERM, SIGINT). */
  signal: AbortSignal;
  printer: Printer;
  /** Where a job that `writesData` writes its result. */
  output: NodeJS.WritableStream;
  /** Pushed to the Pushgateway at the end of the run when PUSHGATEWAY_URL is set. */
  metrics: RunMetrics;
  /** The environment (with .env under it), for a command's own variables (the console's tokens). */
  env: Record<string, string | undefined>;
  /** The terminal (stderr), for what a person must read and the log must not hold (a one-time sign-in link). */
  terminal: NodeJS.WritableStream;
  /** The run's root span: the parent of its pages and token fetches (the no-op span when untraced). */
  traceSpan?: TraceSpan;
}

export interface JobResult {
  /** done: exit 0. partial: finished, but the next run has work to retry (exit 75). */
  outcome: 'done' | 'partial';
  /** Set when the run met a pause of its job (sweep pause): who paused it, when and why. Recorded `paused`. */
  paused?: string;
  /** Set when the run held on a storm (hold-check.ts), sending nothing: recorded `held`, exit 65. */
  held?: string;
  /** Counts for the summary log line, the run's row and the table. */
  counts: Record<string, number>;
  /** How the summary line ends, when the run has more to say than its exit code (items that went dead). */
  ending?: string;
  /** Further summary fields (rates, dates) for the log line. */
  details?: Record<string, unknown>;
  /** Labels for the table at a terminal, in order; keys of `counts` or `details`. */
  table?: Array<[label: string, field: string]>;
}

/**
 * A job, declared in one place: its name and options for the CLI, what it needs
 * from the runner, and the function that does the work.
 */
export interface JobDefinition<Options = Record<string, unknown>> {
  name: string;
  /** One line, shown by `sweep --help`. */
  description: string;
  options?: () => Option[];
  /** Positional arguments; their values reach `run` as `options.args`, in order. */
  arguments?: () => Argument[];
  /**
   * A job whose result is data for stdout (a listing) sends its logs to stderr, so
   * `sweep <job> --json | jq` reads the data only.
   */
  writesData?: boolean;
  /** none: no database; connection: reachable (migrate); schema: reachable and migrated. */
  database: 'none' | 'connection' | 'schema';
  /**
   * What the job needs of the database role, checked before anything is touched (a job
   * with `database: 'schema'`); default RUNNER_PRIVILEGES, the grants of sweep_runner.
   */
  privileges?: TablePrivileges;
  /**
   * Its statements read or write whole tables by design (migrate): they are bounded by
   * SWEEP_LONG_STATEMENT_TIMEOUT_MS instead of SWEEP_STATEMENT_TIMEOUT_MS.
   */
  longStatements?: boolean;
  /**
   * How long, after SIGTERM or SIGINT, the run may take to finish (a sweep's --grace-seconds;
   * default 5 s): its statements in flight are cancelled at once, the ones it makes then
   * are bounded by what is left of it.
   */
  graceSeconds?: (options: Options) => number;
  /**
   * A service (the console): it serves until SIGTERM or SIGINT, and that signal is its
   * normal end, exit 0, where a sweep stopped by one exits 128 + its number. The runner
   * does not cancel its statements on the signal: the service lets its requests in
   * flight finish, and bounds that itself.
   */
  servesUntilSignal?: boolean;
  /**
   * What a run stopped by a signal says it leaves behind, in its last line (a sweep: what
   * was not sent is released for the next run); by default, that its writes were rolled back or left to their lease.
   */
  interruptedNote?: string;
  /** Whether this invocation gets a row in job_runs (a dry run does not). */
  recordsRun: (options: Options) => boolean;
  /**
   * Checks what only the database can tell (a run date against its clock), once it is
   * open and before the run is recorded; throws a UsageError to refuse the run (exit
   * 64, nothing touched).
   */
  checkOptions?(db: Knex, options: Options): Promise<void>;
  run(context: JobContext, options: Options): Promise<JobResult>;
}

/** Keeps each job's options typed while the registry holds them side by side. */
export function defineJob<Options>(definition: JobDefinition<Options>): JobDefinition<Options> {
  return definition;
}
