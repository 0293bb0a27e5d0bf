import type { TransactionSettings } from '../configuration/config.js';
import type { Logger } from '../logging/logger.js';
import { DatabaseUnresponsiveError } from './statement-errors.js';
import type { TraceSpan } from '../tracing/tracing.js';

// The type lives with the configuration that reads it (configuration imports nothing of the database).
export type { TransactionSettings };

export const DEFAULT_TRANSACTION_SETTINGS: TransactionSettings = {
  lockTimeoutMs: 10_000,
  statementTimeoutMs: 120_000,
  longStatementTimeoutMs: 3_600_000,
  idleInTransactionTimeoutMs: 60_000,
  slowStatementMs: 5_000,
};

/** Once a run's grace period is over, the statements it still makes (its last records) are bounded by this. */
const FLOOR_MS = 500;

/**
 * How far past the server's own bound the client waits for an answer. The server's error
 * (statement or lock timeout) is the clearer one and normally wins; past this, the server
 * is not answering at all (frozen, or the network path is gone without a reset).
 */
export const CLIENT_MARGIN_MS = 2_000;

/** How long after a stopping run's grace period the client waits for a cancelled statement before it abandons it. */
export const ABANDON_AFTER_GRACE_MS = 500;

/** A statement in flight, as the control sees it. */
export interface StatementInFlight {
  /** What it is, for a log line: the tables it names and its opening words. */
  readonly statement: string;
  readonly startedAt: number;
  /** Set once this process asked the server to cancel it. */
  cancelReason: string | undefined;
  /** Sends the server a cancel request for it (the protocol's, which a pooler forwards). */
  cancel(): void;
  /**
   * The server's bound for it (its statement_timeout, or the long one): the client gives
   * up waiting CLIENT_MARGIN_MS after it. Undefined: only the stop deadline applies.
   */
  readonly boundMs?: number;
  /** Stops waiting for it: closes its connection and fails it with `error`. */
  abandon?(error: DatabaseUnresponsiveError): void;
}


/**
 * The statements of one knex instance: the settings each transaction starts with, the
 * statements in flight (logged once they run long, cancelled when the run stops), and the
 * deadline a stopping run's statements must end by.
 */
export class StatementControl {
  private readonly inFlight = new Set<StatementInFlight>();
  private deadline: number | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private stopReason: string | undefined;
  private unresponsiveSince: DatabaseUnresponsiveError | undefined;
  /** Every open connection of the pool (pg clients), for `closeConnections`. */
  readonly connections = new Set<{ connection?: { stream?: { destroy(): void } } }>();
  /** What else a stopping run waits for on the database (a connection from the pool): given up with the statements. */
  private readonly abandonWaiters = new Set<(why: 'deadline' | 'stopping') => void>();

  /** The run's span: its statements' parent, when a run that traces owns this pool. */
  traceParent: TraceSpan | undefined;

  constructor(readonly settings: TransactionSettings, private readonly logger?: Logger) {}

  /** Makes every statement of this pool a span under `span` (the run's root). */
  traceUnder(span: TraceSpan): void {
    this.traceParent = span;
  }

  /** The error that showed the database stopped answering; from then on no statement is sent (see `refuseIfUnresponsive`). */
  get unresponsive(): DatabaseUnresponsiveError | undefined {
    return this.unresponsiveSince;
  }

  /** The server's bound of a statement that runs with `settingsSql(options)`. */
  statementBoundNow(options: { long?: boolean } = {}): number {
    return this.boundNow(options.long ? this.settings.longStatementTimeoutMs : this.settings.statementTimeoutMs);
  }

  /**
   * The SET LOCAL statements a transaction starts with. `long` for the statements that
   * read a whole table on purpose: their longer bound, and parallel workers allowed.
   */
  settingsSql(options: { long?: boolean } = {}): string {
    const statementMs = this.statementBoundNow(options);
    const lockMs = this.boundNow(this.settings.lockTimeoutMs);
    return [
      // Keys and dates are read as text: YYYY-MM-DD whatever the server's or the role's DateStyle.
      `set local datestyle = 'ISO, YMD'`,
      // A sweep's statements read a page, a batch or a key: no workers, no JIT (docs/performance.md).
      `set local max_parallel_workers_per_gather = ${options.long ? 2 : 0}`,
      'set local jit = off',
      `set local lock_timeout = ${lockMs}`,
      `set local statement_timeout = ${statementMs}`,
      `set local idle_in_transaction_session_timeout = ${this.settings.idleInTransactionTimeoutMs}`,
    ].join('; ');
  }

  /** The current bound of a lock wait, for the error that reports one. */
  lockTimeoutNow(): number {
    return this.boundNow(this.settings.lockTimeoutMs);
  }

  /** A bound, shortened to what is left before the deadline of a stopping run. */
  private boundNow(ms: number): number {
    if (this.deadline === undefined) return ms;
    return Math.max(FLOOR_MS, Math.min(ms, this.deadline - Date.now()));
  }

  /**
   * Registers a statement; the returned function ends it (call it however it ended). A
   * statement with no answer CLIENT_MARGIN_MS past its server-side bound is abandoned: the
   * server would have ended it by then if it were running.
   */
  track(entry: StatementInFlight): () => void {
    this.inFlight.add(entry);
    const slow = setTimeout(() => {
      this.logger?.warn({ statement: entry.statement, waitedMs: Date.now() - entry.startedAt,
        lockTimeoutMs: this.settings.lockTimeoutMs, statementTimeoutMs: this.settings.statementTimeoutMs },
      `still waiting for the database after ${Math.round((Date.now() - entry.startedAt) / 1000)} s: ${entry.statement} `
        + '(a lock held by another session, or a slow statement; it is bounded by lock_timeout and statement_timeout)');
    }, this.settings.slowStatementMs);
    slow.unref();
    const deadlineMs = this.clientDeadlineMs(entry);
    const deadline = deadlineMs === undefined ? undefined : setTimeout(() => this.abandonUnanswered('deadline'), deadlineMs);
    deadline?.unref();
    return () => {
      clearTimeout(slow);
      if (deadline) clearTimeout(deadline);
      this.inFlight.delete(entry);
    };
  }

  /** How long the client waits for `entry`'s answer: its bound plus the margin, and never past a stopping run's grace. */
  private clientDeadlineMs(entry: StatementInFlight): number | undefined {
    const own = entry.boundMs === undefined ? undefined : entry.boundMs + CLIENT_MARGIN_MS;
    if (this.deadline === undefined) return own;
    const stopping = Math.max(0, this.deadline - Date.now()) + ABANDON_AFTER_GRACE_MS;
    return own === undefined ? stopping : Math.min(own, stopping);
  }

  /**
   * Throws when the database has stopped answering: a statement sent now would wait on
   * the same frozen server or dead path, and each wait would hold the run for its deadline.
   */
  refuseIfUnresponsive(statement: string): void {
    if (this.unresponsiveSince) throw new DatabaseUnresponsiveError(statement, 0, 'earlier');
  }

  /**
   * Rejects once a stopping run has waited its grace (and the margin) for `what`, a
   * connection from the pool, however long before the signal the wait began; `done` ends it.
   */
  waitBound(what: string): { given: Promise<never>; done: () => void } {
    const startedAt = Date.now();
    let reject: ((error: DatabaseUnresponsiveError) => void) | undefined;
    const given = new Promise<never>((_, rejectWith) => { reject = rejectWith; });
    given.catch(() => undefined);
    const waiter = (why: 'deadline' | 'stopping') => reject?.(this.giveUp(what, Date.now() - startedAt, why));
    this.abandonWaiters.add(waiter);
    return { given, done: () => this.abandonWaiters.delete(waiter) };
  }

  private giveUp(what: string, waitedMs: number, why: 'deadline' | 'stopping'): DatabaseUnresponsiveError {
    const error = new DatabaseUnresponsiveError(what, waitedMs, why);
    this.unresponsiveSince ??= error;
    return error;
  }

  /**
   * Closes every connection at once, answered or not: the end of a run whose database
   * stopped answering, where a polite close would wait for the frozen server's goodbye.
   */
  closeConnections(): void {
    for (const client of this.connections) client.connection?.stream?.destroy();
    this.connections.clear();
  }

  /**
   * A statement got no answer by its deadline: every statement in flight is abandoned (they
   * wait on the same server), their connections closed, and later ones refused.
   */
  private abandonUnanswered(why: 'deadline' | 'stopping'): void {
    const now = Date.now();
    const already = this.unresponsiveSince;
    for (const waiter of this.abandonWaiters) waiter(why);
    this.abandonWaiters.clear();
    for (const entry of [...this.inFlight]) {
      const error = new DatabaseUnresponsiveError(entry.statement, now - entry.startedAt, why);
      this.unresponsiveSince ??= error;
      this.inFlight.delete(entry);
      entry.abandon?.(error);
    }
    if (this.unresponsiveSince && !already) {
      this.logger?.error({ statement: this.unresponsiveSince.statement, waitedMs: this.unresponsiveSince.waitedMs },
        this.unresponsiveSince.message);
    }
  }

  /**
   * The run is stopping (SIGTERM, SIGINT): cancels the statements in flight now, since
   * whatever they wait for, the run will not start new work with their result; a
   * statement cancelled this way rolls back, so nothing is half done. The statements made
   * from now on (the last outcomes, the releases, the run's record) are bounded by
   * `graceMs`, and what still runs then is cancelled too.
   */
  stop(reason: string, graceMs: number): void {
    if (this.stopReason !== undefined) return;
    this.stopReason = reason;
    this.deadline = Date.now() + graceMs;
    this.cancelInFlight(reason);
    this.deadlineTimer = setTimeout(() => {
      this.cancelInFlight(`${reason}: the grace period is over`);
      // A live server ends a cancelled statement in milliseconds; one that has not answered
      // by now is not going to, and the run must not outlive its grace waiting for it.
      this.deadlineTimer = setTimeout(() => this.abandonUnanswered('stopping'), ABANDON_AFTER_GRACE_MS);
      this.deadlineTimer.unref();
    }, graceMs);
    this.deadlineTimer.unref();
  }

  /** Sends a cancel request for every statement in flight. */
  cancelInFlight(reason: string): number {
    let cancelled = 0;
    for (const entry of this.inFlight) {
      if (entry.cancelReason !== undefined) continue;
      entry.cancelReason = reason;
      entry.cancel();
      cancelled += 1;
    }
    if (cancelled > 0) this.logger?.info({ statements: cancelled, reason }, 'cancelled the database statements in flight');
    return cancelled;
  }

  dispose(): void {
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
  }
}

/**
 * What a statement does, for an error line: its operation and the tables it names
 * ("insert on deliveries"), never its text or parameters.
 */
export function describeOperation(sql: string): string {
  const { operation, tables } = operationOf(sql);
  return tables.length > 0 ? `${operation} on ${tables.join(', ')}` : operation;
}

/** A statement's operation (select, insert...; a CTE's by what it writes) and the tables it names. */
export function operationOf(sql: string): { operation: string; tables: string[] } {
  const text = sql.replace(/--[^\n]*|\/\*[\s\S]*?\*\//g, ' ').trim().toLowerCase();
  const first = /^[a-z]+/.exec(text)?.[0] ?? 'statement';
  const operation = first === 'with' ? (/\b(insert|update|delete)\b/.exec(text)?.[1] ?? 'select') : first;
  return { operation, tables: tablesOf(sql) };
}

/**
 * A statement as a log line can name it: the tables it reads or writes, then its opening
 * words ("todos, deliveries: select "t"."id", …"). PostgreSQL's lock timeout does not say
 * which lock it waited for; the tables the statement names are where to look.
 */
export function describeStatement(sql: string): string {
  const tables = tablesOf(sql);
  const text = sql.replace(/\s+/g, ' ').trim();
  const opening = text.length > 80 ? `${text.slice(0, 80)}…` : text;
  return tables.length > 0 ? `a statement on ${tables.join(', ')} (${opening})` : `the statement ${opening}`;
}

/** The tables a statement reads or writes, not its CTEs or the functions it calls. */
function tablesOf(sql: string): string[] {
  const ctes = new Set([...sql.matchAll(/(?:\bwith|,)\s+(?:recursive\s+)?"?([a-z_][a-z0-9_]*)"?\s+as\s+(?:materialized\s+|not\s+materialized\s+)?\(/gi)]
    .map((match) => match[1]!.toLowerCase()));
  const tables = new Set<string>();
  // A name, quoted or whole, not followed by "(" (a function such as unnest(...)).
  for (const match of sql.matchAll(/\b(?:from|join|into|update|table)\s+(?:only\s+)?(?:"([a-z_][a-z0-9_]*)"|([a-z_][a-z0-9_]*)\b)(?!\()/gi)) {
    const name = (match[1] ?? match[2])!.toLowerCase();
    if (!ctes.has(name) && !['select', 'lateral', 'unnest', 'only', 'set'].includes(name)) tables.add(name);
  }
  return [...tables];
}
