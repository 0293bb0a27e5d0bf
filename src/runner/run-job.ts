import type { Knex } from 'knex';
import { describeDatabase, getConfig, type Config } from '../configuration/config.js';
import { registerConfigSecrets } from '../configuration/config-secrets.js';
import { checkConnection, closeDatabase, createDatabase, statementControlOf } from '../database/database.js';
import { lockDataDir } from '../database/data-dir-lock.js';
import { getPendingMigrations } from '../database/migrations.js';
import { requirePrivileges, RUNNER_PRIVILEGES } from '../database/privileges.js';
import { DatabaseUnresponsiveError, findCause, StatementCancelledError, StatementTimeoutError } from '../database/statement-errors.js';
import { finishRun, startRun, type RunStatus } from '../ledger/job-runs.js';
import { createLogger, type Logger } from '../logging/logger.js';
import { finishRunTrace, startRunTrace, type RunTrace } from '../tracing/run-trace.js';
import { graceLeftMs } from './grace-left.js';
import { startTracing } from '../tracing/tracing.js';
import { exportRunMetrics, OTLP_METRICS_BOUND_MS } from '../metrics/otlp-push.js';
import { createRunMetrics, pushRunMetrics, recordRunOutcome, type RunMetrics } from '../metrics/run-metrics.js';
import { AbortRunError, SweepError } from './errors.js';
import { ExitCode, type ExitCodeValue } from './exit-codes.js';
import type { JobDefinition, JobResult } from './job.type.js';

/** How long a command other than a sweep may take to finish after a signal. */
const DEFAULT_GRACE_SECONDS = 5;
import { createPrinter, type Printer } from './printer.js';

/** The process's surroundings, passed in so tests can run the CLI in-process. */
export interface RunnerIo {
  env: Record<string, string | undefined>;
  cwd: string;
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  /** An open database to use instead of the configured one; the runner leaves it open. */
  database?: Knex;
  /** Aborted to ask a running job to stop. */
  signal?: AbortSignal;
}

/**
 * Everything every job needs, in one place: configuration, logger, database, the
 * run's row, the summary, and the mapping of outcomes and errors to exit codes.
 */
export async function runJob<Options>(job: JobDefinition<Options>, options: Options, io: RunnerIo): Promise<ExitCodeValue> {
  let config: Config;
  try {
    config = getConfig(io.env, { stdoutIsTTY: Boolean(io.stdout.isTTY), cwd: io.cwd });
  } catch (error) {
    io.stderr.write(`sweep: ${(error as Error).message}\n`);
    return ExitCode.USAGE;
  }
  registerConfigSecrets(config);
  // Telemetry never fails the work it describes: an SDK that cannot start leaves the run untraced.
  const traced = await startTracing(config.telemetry).catch((error: unknown) => {
    io.stderr.write(`sweep: tracing could not start (${(error as Error)?.message ?? String(error)}); the run goes on untraced\n`);
    return false;
  });
  const printer = createPrinter(io.stderr);
  const rootLogger = createLogger({ level: config.log.level, format: config.log.format,
    destination: job.writesData ? io.stderr : printer.guard(io.stdout), traced });
  // Everything the run does, from its first statement to its last request, is in its trace.
  // A service (the console) is no run: each of its requests is a trace of its own.
  const trace = startRunTrace(job.name, io.env, !job.servesUntilSignal);
  let stoppedAt: number | undefined;
  const onStop = () => { stoppedAt = performance.now(); };
  const graceLeft = () => graceLeftMs(stoppedAt, (job.graceSeconds?.(options) ?? DEFAULT_GRACE_SECONDS) * 1000);
  io.signal?.addEventListener('abort', onStop, { once: true });
  let exitCode: ExitCodeValue = ExitCode.ABORTED;
  try {
    exitCode = await trace.within(() => runTraced(job, options, io, { config, printer, rootLogger, trace, graceLeft }));
    return exitCode;
  } finally {
    io.signal?.removeEventListener('abort', onStop);
    trace.end(exitCode);
    await finishRunTrace(rootLogger.child({ job: job.name }), graceLeft());
    rootLogger.flush();
  }
}

/** The run itself, inside its trace. */
async function runTraced<Options>(job: JobDefinition<Options>, options: Options, io: RunnerIo,
  { config, printer, rootLogger, trace, graceLeft }: { config: Config; printer: Printer; rootLogger: Logger; trace: RunTrace;
    /** What is left of the grace period once a signal stopped the run (its metrics' pushes fit in it). */
    graceLeft: () => number | undefined }): Promise<ExitCodeValue> {
  let logger = rootLogger.child({ job: job.name, ...trace.logFields });
  const startedAt = performance.now();
  let db: Knex | undefined;
  let runId: string | undefined;
  const metrics = createRunMetrics();
  // Metrics describe the runs of record: a dry run or an operator's listing must not push
  // an exit code, or a success that hides the real runs' failures.
  const pushes = job.recordsRun(options);
  let stopStatements: (() => void) | undefined;
  let releaseDataDir: (() => void) | undefined;
  try {
    if (job.database !== 'none') {
      // PGlite takes no lock of its own: two processes on one data directory would corrupt it.
      if (!io.database && config.database.kind === 'embedded') releaseDataDir = await lockDataDir(config.database.dataDir);
      const statements = job.longStatements
        ? { ...config.statements, statementTimeoutMs: config.statements.longStatementTimeoutMs } : config.statements;
      db = io.database ?? createDatabase(config.database, { logger, settings: statements });
      statementControlOf(db)?.traceUnder(trace.span);
      // A service (the console) lets its requests in flight finish, then stops its own statements.
      stopStatements = io.database || job.servesUntilSignal ? undefined : cancelStatementsOnSignal(db, io.signal, (job.graceSeconds?.(options) ?? DEFAULT_GRACE_SECONDS) * 1000);
      if (config.database.kind === 'embedded') {
        logger.info({ database: describeDatabase(config.database) },
          'DATABASE_URL is not set: using the embedded PostgreSQL (for local use; set DATABASE_URL in production)');
      } else {
        logger.debug({ database: describeDatabase(config.database) }, 'using PostgreSQL');
      }
      await checkConnection(db, config.database);
      if (job.database === 'schema') {
        await requirePrivileges(db, job.privileges ?? RUNNER_PRIVILEGES);
        await requireCurrentSchema(db);
      }
      await job.checkOptions?.(db, options);
    }
    if (db && job.recordsRun(options)) {
      runId = (await startRun(db, job.name, options as Record<string, unknown>, { traceId: trace.traceId })).id;
      logger = logger.child({ runId });
      trace.recordRun(runId);
    }
    logger.debug({ options }, 'run started');
    const result = await job.run({
      config, logger, db: db as Knex, runId, signal: io.signal ?? new AbortController().signal,
      printer, output: io.stdout, metrics, env: io.env, terminal: io.stderr, traceSpan: trace.span,
    }, options);
    const interruptedBy = io.signal?.aborted && !job.servesUntilSignal ? String(io.signal.reason) : undefined;
    const exitCode = interruptedBy ? signalExitCode(interruptedBy)
      : result.held ? ExitCode.HELD : result.outcome === 'partial' ? ExitCode.TEMPFAIL : ExitCode.OK;
    const durationMs = Math.round(performance.now() - startedAt);
    const status = interruptedBy ? 'interrupted' : result.held ? 'held' : result.paused ? 'paused' : result.outcome === 'partial' ? 'partial' : 'succeeded';
    trace.recordResult({ status, counts: result.counts, runDate: result.details?.runDate, paused: result.paused });
    await recordFinish(db, runId, logger, {
      status,
      counts: result.counts,
      error: interruptedBy ? `interrupted by ${interruptedBy}` : result.held ?? result.paused,
    });
    printer.clearProgress();
    reportSummary(logger, printer, job, result, durationMs, exitCode);
    if (pushes) await pushMetrics(config, job.name, metrics, logger, { exitCode, durationSeconds: durationMs / 1000, counts: result.counts }, graceLeft);
    return exitCode;
  } catch (error) {
    printer.clearProgress();
    const stoppedWait = findCause(error, StatementCancelledError) ?? findCause(error, DatabaseUnresponsiveError);
    const interruptedBy = io.signal?.aborted && stoppedWait ? String(io.signal.reason) : undefined;
    if (interruptedBy) {
      // A wait on the database the signal cancelled or, past the grace, abandoned: the run
      // stopped as asked, it did not fail.
      const exitCode = signalExitCode(interruptedBy);
      const abandoned = stoppedWait instanceof DatabaseUnresponsiveError;
      logger.warn({ statement: stoppedWait?.statement, exitCode, abandoned },
        `${job.name} interrupted by ${interruptedBy} while waiting for the database (${abandoned
          ? `abandoned ${stoppedWait.statement}: no answer within the grace period` : `cancelled ${stoppedWait?.statement}`}); `
        + `${job.interruptedNote ?? 'what was not recorded is released or left to its lease'}`);
      trace.recordResult({ status: 'interrupted' });
      await recordFinish(db, runId, logger, { status: 'interrupted', error: `interrupted by ${interruptedBy}` });
      return exitCode;
    }
    const exitCode = reportError(logger, config, error);
    trace.recordResult({ status: 'failed' });
    await recordFinish(db, runId, logger, { status: 'failed', error: (error as Error).message });
    if (pushes) await pushMetrics(config, job.name, metrics, logger,
      { exitCode, durationSeconds: (performance.now() - startedAt) / 1000, counts: {} }, graceLeft);
    return exitCode;
  } finally {
    stopStatements?.();
    if (db && !io.database) await closeDatabase(db);
    releaseDataDir?.();
    rootLogger.flush();
  }
}

/**
 * Pushes the run's metrics: each push bounded by HTTP_TIMEOUT_MS (the Pushgateway) or its
 * own bound (OTLP) and, after a signal, by what is left of the grace period.
 */
async function pushMetrics(config: Config, job: string, metrics: RunMetrics, logger: Logger,
  outcome: { exitCode: number; durationSeconds: number; counts: Record<string, number> }, graceLeft: () => number | undefined): Promise<void> {
  if (!config.pushgatewayUrl && !config.telemetry.metrics) return;
  recordRunOutcome(metrics, outcome);
  const within = (boundMs: number) => Math.min(boundMs, graceLeft() ?? boundMs);
  if (config.pushgatewayUrl) {
    await pushRunMetrics(metrics, { url: config.pushgatewayUrl, job, logger, timeoutMs: within(config.http.timeoutMs) });
  }
  await exportRunMetrics(metrics, { telemetry: config.telemetry, job, logger, boundMs: within(OTLP_METRICS_BOUND_MS),
    startedAt: new Date(Date.now() - outcome.durationSeconds * 1000) });
}

/**
 * On SIGTERM or SIGINT, cancels the run's statements in flight with the protocol's cancel
 * request, whatever they wait for (a lock held elsewhere), and bounds the ones it makes
 * afterwards by the grace period; returns the function that stops listening.
 */
function cancelStatementsOnSignal(db: Knex, signal: AbortSignal | undefined, graceMs: number): (() => void) | undefined {
  const control = statementControlOf(db);
  if (!control || !signal) return undefined;
  const onSignal = () => control.stop(`stopped by ${String(signal.reason)}`, graceMs);
  if (signal.aborted) onSignal();
  else signal.addEventListener('abort', onSignal, { once: true });
  return () => {
    signal.removeEventListener('abort', onSignal);
    control.dispose();
  };
}

/** The shell's convention: 128 + the signal's number. */
function signalExitCode(signal: string): ExitCodeValue {
  return signal === 'SIGINT' ? ExitCode.INTERRUPTED : ExitCode.TERMINATED;
}

async function requireCurrentSchema(db: Knex): Promise<void> {
  const pending = await getPendingMigrations(db);
  if (pending.length > 0) {
    throw new AbortRunError(`the database schema is not up to date (${pending.length} migration(s) pending): run 'sweep migrate' first`,
      { pending });
  }
}

async function recordFinish(
  db: Knex | undefined, runId: string | undefined, logger: Logger,
  outcome: { status: Exclude<RunStatus, 'running'>; counts?: Record<string, number>; error?: string },
): Promise<void> {
  if (!db || !runId) return;
  try {
    await finishRun(db, runId, outcome);
  } catch (error) {
    // The logger carries runId already: a second one would make a line with two.
    logger.warn({ reason: (error as Error).message }, 'could not record the end of the run in job_runs');
  }
}

function reportSummary(logger: Logger, printer: Printer, definition: Pick<JobDefinition<never>, 'name' | 'interruptedNote'>,
  result: JobResult, durationMs: number, exitCode: number): void {
  const job = definition.name;
  const fields: Record<string, unknown> = { ...result.counts, ...result.details, durationMs, exitCode };
  const ending = result.held ? `: ${result.held}` : result.paused ? `: ${result.paused}`
    : exitCode === ExitCode.INTERRUPTED || exitCode === ExitCode.TERMINATED
      ? `: interrupted${definition.interruptedNote ? `; ${definition.interruptedNote}` : ''}`
      : exitCode === ExitCode.TEMPFAIL || result.ending ? `: ${result.ending ?? 'some items will be retried by the next run'}` : '';
  logger.info({ summary: true, ...fields }, `${job} finished${ending}`);
  if (result.table) {
    const rows = result.table.map(([label, field]): [string, string | number] => [label, formatValue(fields[field])]);
    rows.push(['duration', `${(durationMs / 1000).toFixed(2)} s`]);
    printer.table(`${job}: ${exitCode === 0 ? 'done' : `exit ${exitCode}`}`, rows);
  }
}

function formatValue(value: unknown): string | number {
  if (typeof value === 'number') return Number.isInteger(value) ? value : value.toFixed(1);
  return value === undefined || value === null ? '-' : String(value);
}

/** One line an operator can act on; the stack only at debug level. */
function reportError(logger: Logger, config: Config, error: unknown): ExitCodeValue {
  const debug = config.log.level === 'debug' || config.log.level === 'trace';
  if (error instanceof SweepError) {
    logger.error({ ...error.context, ...(debug ? { err: error.cause ?? error } : {}) }, error.message);
    // A statement that waited its bound, or got no answer at all, however the caller worded
    // it: the database is busy or stalled, nothing recorded is lost, and the next run retries (exit 75).
    return findCause(error, StatementTimeoutError) || findCause(error, DatabaseUnresponsiveError) ? ExitCode.TEMPFAIL : error.exitCode;
  }
  const sqlState = (error as { code?: unknown })?.code;
  if (typeof sqlState === 'string' && /^[0-9A-Z]{5}$/.test(sqlState)) {
    // The database ended a statement (a connection killed, a constraint, a failover): its
    // one line, which names the statement's operation and tables, never its SQL.
    logger.error({ sqlState, ...(debug ? { err: error } : {}) }, `run aborted by a database error: ${(error as Error).message} [${sqlState}]`);
    return ExitCode.ABORTED;
  }
  logger.error(debug ? { err: error } : {}, `run aborted by an unexpected error: ${(error as Error)?.message ?? String(error)}`);
  return ExitCode.ABORTED;
}
