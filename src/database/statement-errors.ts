import { SweepError } from '../runner/errors.js';
import { ExitCode } from '../runner/exit-codes.js';

/** PostgreSQL's codes for a statement that waited its bound: lock_not_available, query_canceled. */
const LOCK_NOT_AVAILABLE = '55P03';
const QUERY_CANCELED = '57014';

/**
 * A statement that waited longer than its bound (lock_timeout or statement_timeout): the
 * database is busy, not lost. The run stops as on a lost database (what is unrecorded is
 * left to its lease) but with exit 75, so the scheduler's next run simply tries again.
 */
export class StatementTimeoutError extends SweepError {
  /** The message as made: knex prefixes a failed statement's SQL to it, pg-client.ts puts this back. */
  readonly line: string;
  constructor(readonly bound: 'lock_timeout' | 'statement_timeout', readonly boundMs: number, readonly statement: string,
    options?: { cause?: unknown }) {
    super(bound === 'lock_timeout'
      ? `waited longer than lock_timeout (${boundMs} ms) for a lock, for ${statement}: another session holds it `
        + '(a schema change, a long transaction); the next run retries'
      : `ran longer than statement_timeout (${boundMs} ms): ${statement}; the next run retries`,
    ExitCode.TEMPFAIL, { statement, [bound]: boundMs }, options);
    this.line = this.message;
  }
}

/** A statement this process cancelled (a signal, the end of the grace period): the run was stopping anyway. */
export class StatementCancelledError extends SweepError {
  readonly line: string;
  constructor(readonly reason: string, readonly statement: string, options?: { cause?: unknown }) {
    super(`cancelled ${statement} (${reason})`, ExitCode.ABORTED, { statement, reason }, options);
    this.line = this.message;
  }
}

/**
 * The database did not answer a statement within the client's own deadline (a frozen
 * server, a dead network path), or within a stopping run's grace period. Every wait on
 * the database is bounded by one or the other: the server's timeouts hold only while the
 * server runs. Exit 75: nothing is lost (claims not recorded expire with their lease),
 * and the next run retries.
 */
export class DatabaseUnresponsiveError extends SweepError {
  readonly line: string;
  constructor(readonly statement: string, readonly waitedMs: number, readonly why: 'deadline' | 'stopping' | 'earlier') {
    super(why === 'earlier'
      ? `the database stopped answering (an earlier statement got no answer): not sending ${statement}; the next run retries`
      : `the database stopped answering: ${statement.startsWith('a connection') ? `no ${statement.slice(2)}` : `no answer to ${statement}`} `
        + `within ${(waitedMs / 1000).toFixed(1)} s${why === 'stopping' ? ' of a stopping run\'s grace period' : ', past its server-side bound'}`
        + '; abandoned it (claims not recorded expire with their lease; the next run retries)',
    ExitCode.TEMPFAIL, { statement, waitedMs }, {});
    this.line = this.message;
  }
}

export function isLockTimeout(error: unknown): boolean {
  return (error as { code?: string })?.code === LOCK_NOT_AVAILABLE;
}

/** A statement gave up waiting for a lock: PostgreSQL's own error, or ours made of it by pg-client.ts. */
export function waitedTooLongForLock(error: unknown): boolean {
  return isLockTimeout(error) || (error instanceof StatementTimeoutError && error.bound === 'lock_timeout');
}

/** statement_timeout and a cancel request both end a statement with 57014; the message tells them apart. */
export function isStatementTimeout(error: unknown): boolean {
  const e = error as { code?: string; message?: string };
  return e?.code === QUERY_CANCELED && /statement timeout/i.test(e.message ?? '');
}

export function isQueryCanceled(error: unknown): boolean {
  return (error as { code?: string })?.code === QUERY_CANCELED;
}

/** The first error of `type` in `error`'s cause chain. */
export function findCause<T>(error: unknown, type: abstract new (...args: never[]) => T): T | undefined {
  for (let current = error, depth = 0; current && depth < 10; current = (current as { cause?: unknown }).cause, depth += 1) {
    if (current instanceof type) return current;
  }
  return undefined;
}
