import type { TransactionSettings } from '../configuration/config.js';
import type { Logger } from '../logging/logger.js';

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

/** A statement in flight, as the control sees it. */
export interface StatementInFlight {
  /** What it is, for a log line: the tables it names and its opening words. */
  readonly statement: string;
  readonly startedAt: number;
  /** Set once this process asked the server to cancel it. */
  cancelReason: string | undefined;
  /** Sends the server a cancel request for it (the protocol's, which a pooler forwards). */
  cancel(): void;
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

  constructor(readonly settings: TransactionSettings, private readonly logger?: Logger) {}

  /**
   * The SET LOCAL statements a transaction starts with. `long` for the statements that
   * read a whole table on purpose: their longer bound, and parallel workers allowed.
   */
  settingsSql(options: { long?: boolean } = {}): string {
    const statementMs = this.boundNow(options.long ? this.settings.longStatementTimeoutMs : this.settings.statementTimeoutMs);
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

  /** Registers a statement; the returned function ends it (call it however it ended). */
  track(entry: StatementInFlight): () => void {
    this.inFlight.add(entry);
    const slow = setTimeout(() => {
      this.logger?.warn({ statement: entry.statement, waitedMs: Date.now() - entry.startedAt,
        lockTimeoutMs: this.settings.lockTimeoutMs, statementTimeoutMs: this.settings.statementTimeoutMs },
      `still waiting for the database after ${Math.round((Date.now() - entry.startedAt) / 1000)} s: ${entry.statement} `
        + '(a lock held by another session, or a slow statement; it is bounded by lock_timeout and statement_timeout)');
    }, this.settings.slowStatementMs);
    slow.unref();
    return () => {
      clearTimeout(slow);
      this.inFlight.delete(entry);
    };
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
    this.deadlineTimer = setTimeout(() => this.cancelInFlight(`${reason}: the grace period is over`), graceMs);
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
 * A statement as a log line can name it: the tables it reads or writes, then its opening
 * words ("todos, deliveries: select "t"."id", …"). PostgreSQL's lock timeout does not say
 * which lock it waited for; the tables the statement names are where to look.
 */
export function describeStatement(sql: string): string {
  const ctes = new Set([...sql.matchAll(/(?:\bwith|,)\s+(?:recursive\s+)?"?([a-z_][a-z0-9_]*)"?\s+as\s+(?:materialized\s+|not\s+materialized\s+)?\(/gi)]
    .map((match) => match[1]!.toLowerCase()));
  const tables = new Set<string>();
  // A name, quoted or whole, not followed by "(" (a function such as unnest(...)).
  for (const match of sql.matchAll(/\b(?:from|join|into|update|table)\s+(?:only\s+)?(?:"([a-z_][a-z0-9_]*)"|([a-z_][a-z0-9_]*)\b)(?!\()/gi)) {
    const name = (match[1] ?? match[2])!.toLowerCase();
    if (!ctes.has(name) && !['select', 'lateral', 'unnest', 'only', 'set'].includes(name)) tables.add(name);
  }
  const text = sql.replace(/\s+/g, ' ').trim();
  const opening = text.length > 80 ? `${text.slice(0, 80)}…` : text;
  return tables.size > 0 ? `a statement on ${[...tables].join(', ')} (${opening})` : `the statement ${opening}`;
}
