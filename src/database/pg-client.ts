import { createRequire } from 'node:module';
import type { Knex } from 'knex';
import pg from 'pg';
import { SweepError } from '../runner/errors.js';
import { endStatementSpan, startStatementSpan } from '../tracing/statement-spans.js';
import { tracingEnabled } from '../tracing/tracing.js';
import { keepOwnMessage, restoreOwnMessage } from './sql-free-errors.js';
import { describeStatement, type StatementControl, type StatementInFlight } from './statement-control.js';
import { DatabaseUnresponsiveError, isLockTimeout, isQueryCanceled, isStatementTimeout, StatementCancelledError,
  StatementTimeoutError } from './statement-errors.js';

/**
 * knex's PostgreSQL client (node_modules/knex/lib/dialects/postgres/index.js), with no
 * session state: nothing is set at connect (no startup options, no session SET), so the
 * sweep runs the same through PgBouncer in transaction mode as on a direct connection.
 * What the sweep needs of a session is set per transaction instead:
 *
 * - a statement outside a transaction runs as `BEGIN; SET LOCAL …` (one round trip, a
 *   multi-statement simple query), the statement, `COMMIT`;
 * - a knex transaction's `BEGIN` carries the same SET LOCALs in its round trip.
 *
 * knex sends every statement, BEGIN and COMMIT included, through `_query`; pg tracks the
 * server's transaction status (ReadyForQuery), which says whether a statement is already
 * inside a transaction. Statements are sent with unnamed prepared statements (pg's
 * default), which PgBouncer's transaction mode allows.
 */

// knex's pg dialect is a CommonJS class without types of its own.
interface KnexPgClientBase {
  _query(connection: PgConnection, obj: QueryObject): Promise<QueryObject>;
  query(connection: PgConnection, queryParam: unknown): Promise<unknown>;
  acquireConnection(): Promise<PgConnection>;
  _acquireOnlyConnection(): Promise<PgConnection>;
  checkVersion(connection: PgConnection): Promise<string>;
}
type KnexPgClientClass = new (config: Knex.Config) => KnexPgClientBase;
const KnexPgClient = createRequire(import.meta.url)('knex/lib/dialects/postgres/index.js') as KnexPgClientClass;

interface QueryObject {
  sql: string;
  bindings?: unknown[];
  options?: Record<string, unknown>;
  response?: unknown;
}

type PgConnection = pg.Client & { getTransactionStatus?(): string | null };

/** knex's own BEGIN for a transaction (pg-transaction.js): `BEGIN;` or `BEGIN TRANSACTION <mode>;`. */
const KNEX_BEGIN = /^\s*begin(\s+transaction\b[^;]*)?;?\s*$/i;
/** Statements that manage the transaction itself: never wrapped in another. */
const TRANSACTION_CONTROL = /^\s*(begin|start\s+transaction|commit|end|rollback|abort|savepoint|release|prepare\s+transaction)\b/i;
/** Statements PostgreSQL refuses inside a transaction block: they run as they are. */
const OUTSIDE_TRANSACTION = /^\s*((create|drop)\s+(unique\s+)?index\s+concurrently|reindex\b.*\bconcurrently|vacuum|(create|drop)\s+database|alter\s+system|(create|drop)\s+tablespace)\b/i;

/** A `set [local] statement_timeout = N` in a statement: the bound of what follows on its connection. */
const SETS_STATEMENT_TIMEOUT = /\bstatement_timeout\s*=\s*'?(\d+)/i;

/** The server's bound of the statements a connection runs now, as its transaction last set it. */
const connectionBound = new WeakMap<PgConnection, number>();

/** The knex config key that carries the control to the client. */
export interface SweepPgConfig {
  statementControl: StatementControl;
}

export class SweepPgClient extends KnexPgClient {
  declare config: Knex.Config & SweepPgConfig;

  /** Read from the config: knex's transaction clients are copies made without the constructor (makeTxClient). */
  get control(): StatementControl {
    return this.config.statementControl;
  }

  override async _query(connection: PgConnection, obj: QueryObject): Promise<QueryObject> {
    const sql = obj.sql;
    if (KNEX_BEGIN.test(sql)) {
      // A knex transaction (withParallelWorkers, a migration): its settings in BEGIN's round trip.
      obj.sql = `${sql.trim().replace(/;?$/, ';')} ${this.control.settingsSql()}`;
      connectionBound.set(connection, this.control.statementBoundNow());
      return this.tracked(connection, sql, () => super._query(connection, obj));
    }
    const idle = transactionStatus(connection) === 'I';
    const outside = OUTSIDE_TRANSACTION.test(sql);
    if (!idle || outside || TRANSACTION_CONTROL.test(sql)) {
      const sets = SETS_STATEMENT_TIMEOUT.exec(sql);
      if (sets) connectionBound.set(connection, Number(sets[1]));
      // Outside a transaction nothing of ours bounds it on the server (an index built
      // concurrently): the long bound is the client's.
      const boundMs = outside ? this.control.settings.longStatementTimeoutMs : undefined;
      return this.tracked(connection, sql, () => super._query(connection, obj), boundMs);
    }
    // The whole transaction is the statement in flight: a cancel that lands on its BEGIN or
    // its COMMIT is the statement's cancel too.
    connectionBound.set(connection, this.control.statementBoundNow());
    return this.tracked(connection, sql, async () => {
      await simpleQuery(connection, `begin; ${this.control.settingsSql()}`);
      try {
        const done = await super._query(connection, obj);
        await simpleQuery(connection, 'commit');
        return done;
      } catch (error) {
        if (transactionStatus(connection) !== 'I') await simpleQuery(connection, 'rollback').catch(() => undefined);
        throw error;
      }
    });
  }

  /** An error keeps one line, never the SQL knex prefixed to it (sql-free-errors.ts). */
  override async query(connection: PgConnection, queryParam: unknown): Promise<unknown> {
    try {
      return await super.query(connection, queryParam);
    } catch (error) {
      if (error instanceof StatementTimeoutError || error instanceof StatementCancelledError || error instanceof DatabaseUnresponsiveError) {
        error.message = error.line;
      } else {
        restoreOwnMessage(error, queryParam);
      }
      throw error;
    }
  }

  /** No connection is taken once the database has stopped answering, and a stopping run does not wait past its grace for one. */
  override async acquireConnection(): Promise<PgConnection> {
    this.control.refuseIfUnresponsive('a connection from the pool');
    const bound = this.control.waitBound('a connection from the pool');
    try {
      return await Promise.race([super.acquireConnection(), bound.given]);
    } finally {
      bound.done();
    }
  }

  /**
   * knex's own (dialects/postgres), with every connection known to the control from the
   * moment it starts connecting, so that a run that ends can close the ones a frozen
   * server never answers, a connect in progress included.
   */
  override async _acquireOnlyConnection(): Promise<PgConnection> {
    const self = this as unknown as { driver: typeof pg; connectionSettings: pg.ClientConfig };
    const connection = new self.driver.Client(self.connectionSettings) as PgConnection & { __knex__disposed?: unknown };
    this.control.connections.add(connection);
    connection.on('error', (error) => { connection.__knex__disposed = error; });
    connection.on('end', () => {
      connection.__knex__disposed ??= 'Connection ended unexpectedly';
      this.control.connections.delete(connection);
    });
    try {
      await connection.connect();
    } catch (error) {
      this.control.connections.delete(connection);
      throw error;
    }
    return connection;
  }

  /** knex's first statement on a new connection: bounded like every other. */
  override async checkVersion(connection: PgConnection): Promise<string> {
    return this.tracked(connection, 'select version()', () => super.checkVersion(connection), this.control.statementBoundNow());
  }

  /** knex's own cancel (`.timeout(ms, { cancel: true })`) calls pg_cancel_backend, which cannot reach a backend behind a pooler. */
  async cancelQuery(connectionToKill: PgConnection): Promise<void> {
    sendCancel(connectionToKill);
  }

  /**
   * Runs the statement as the control's entry in flight, and turns a bound, a cancel or
   * no answer at all into a typed error. `boundMs`: the server's bound of the statement,
   * by default what its transaction set.
   */
  private async tracked<T>(connection: PgConnection, sql: string, run: () => Promise<T>, boundMs?: number): Promise<T> {
    const statement = describeStatement(sql);
    this.control.refuseIfUnresponsive(statement);
    let abandoned: ((error: DatabaseUnresponsiveError) => void) | undefined;
    const gone = new Promise<never>((_, reject) => { abandoned = reject; });
    const entry: StatementInFlight = {
      statement,
      startedAt: Date.now(),
      cancelReason: undefined,
      cancel: () => sendCancel(connection),
      boundMs: boundMs ?? connectionBound.get(connection) ?? this.control.statementBoundNow(),
      abandon: (error) => {
        // The connection is of no further use: closing it frees the pool and the event loop,
        // and knex discards it (pg marks it ended).
        (connection as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
        abandoned?.(error);
      },
    };
    const done = this.control.track(entry);
    const span = tracingEnabled() ? startStatementSpan(sql, connection, this.control.traceParent) : undefined;
    let failed: unknown;
    const running = run();
    try {
      return await Promise.race([running, gone]);
    } catch (error) {
      failed = error;
      if (error instanceof SweepError) {
        running.catch(() => undefined);
        throw error;
      }
      if (isLockTimeout(error)) {
        throw new StatementTimeoutError('lock_timeout', this.control.lockTimeoutNow(), entry.statement, { cause: error });
      }
      if (isStatementTimeout(error)) {
        throw new StatementTimeoutError('statement_timeout', Date.now() - entry.startedAt, entry.statement, { cause: error });
      }
      if (entry.cancelReason !== undefined && isQueryCanceled(error)) {
        throw new StatementCancelledError(entry.cancelReason, entry.statement, { cause: error });
      }
      keepOwnMessage(error);
      throw error;
    } finally {
      done();
      if (span) endStatementSpan(span, failed);
    }
  }
}

/**
 * The server's transaction status from its last ReadyForQuery: I idle, T in a transaction,
 * E in a failed one. Without it (a pg older than this code was written for) a statement
 * inside a transaction would get a BEGIN and COMMIT of its own and end the outer one.
 */
function transactionStatus(connection: PgConnection): string {
  if (typeof connection.getTransactionStatus !== 'function') {
    throw new Error('pg lacks Client#getTransactionStatus: the sweep needs pg 8.23 or later (package.json)');
  }
  return connection.getTransactionStatus() ?? 'I';
}

function simpleQuery(connection: PgConnection, sql: string): Promise<unknown> {
  return connection.query(sql);
}

/**
 * The protocol's cancel request, as pg's Client#cancel sends it: a new connection to the
 * same address carrying the backend's process id and secret key. PgBouncer answers it
 * for the server connection the client is linked to, where pg_cancel_backend(pid) would
 * need the server's pid and a session on that server.
 */
function sendCancel(target: PgConnection): void {
  const { processID, secretKey, host, port } = target as unknown as { processID: number | null; secretKey: number | null;
    host: string; port: number };
  if (processID === null || secretKey === null) return;
  const connection = new (pg as unknown as { Connection: new () => CancelConnection }).Connection();
  // The server closes the connection once it has read the request; an error (the server
  // gone) only means there is nothing left to cancel.
  connection.on('error', () => undefined);
  connection.on('connect', () => connection.cancel(processID, secretKey));
  if (host.startsWith('/')) connection.connect(`${host}/.s.PGSQL.${port}`);
  else connection.connect(port, host);
}

interface CancelConnection {
  on(event: string, listener: (...args: unknown[]) => void): void;
  connect(portOrPath: number | string, host?: string): void;
  cancel(processID: number, secretKey: number): void;
}
