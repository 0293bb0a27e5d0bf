import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import knexModule, { type Knex } from 'knex';
import pg from 'pg';
import { describeDatabase, type DatabaseConfig } from '../configuration/config.js';
import type { Logger } from '../logging/logger.js';
import { AbortRunError } from '../runner/errors.js';
import { configurationAdvice, DatabaseConfigurationError } from './connection-errors.js';
import { SweepPgClient, type SweepPgConfig } from './pg-client.js';
import { withSqlFreeErrors } from './sql-free-errors.js';
import { DEFAULT_TRANSACTION_SETTINGS, StatementControl, type TransactionSettings } from './statement-control.js';

export type { Knex } from 'knex';

// The embedded database is loaded only when it is used: a run against PostgreSQL never
// needs it, and loading it was a tenth of every run's start-up. Through require, as
// knex-pglite itself loads PGlite: one copy of it in the process, not an ESM and a CJS one.
const requireOnDemand = createRequire(import.meta.url);

const DATE_OID = 1082;
/**
 * Dates stay `YYYY-MM-DD` strings: a JS Date would shift them by the local time zone.
 * Every transaction sets DateStyle ISO (pg-client.ts), so that is how they arrive.
 */
const keepDateAsString = (value: string) => value;

export interface DatabaseOptions {
  /** Upper bound of the pool for a real PostgreSQL (the embedded one has one connection). */
  poolMax?: number;
  /** Where knex's own messages go (by default they would be printed with console), and statements that wait long. */
  logger?: Logger;
  /** What every transaction runs with (timeouts); default DEFAULT_TRANSACTION_SETTINGS. */
  settings?: TransactionSettings;
}

/**
 * knex reports connection retries on its own; the runner reports the failure once,
 * as one line, so knex's messages are only for debugging.
 */
function knexLog(logger: Logger | undefined): Knex.Logger {
  const debug = (message: unknown) => logger?.debug({ knex: String(message) }, 'knex');
  return { warn: debug, error: debug, debug, deprecate: (method: string, alternative: string) => logger?.warn({ method, alternative }, 'knex deprecation') };
}

/** PostgreSQL's own default, for the statements that read a whole table on purpose (PGlite has no workers; kept for the same SQL). */
const PARALLEL_WORKERS_PER_GATHER = 2;

/**
 * Runs `work` in a transaction whose statements read a whole table on purpose (a job's
 * first run finding where to start): parallel workers allowed, where two halve the time,
 * and the longer statement bound (SWEEP_LONG_STATEMENT_TIMEOUT_MS) instead of the usual one.
 */
export async function withParallelWorkers<T>(db: Knex, work: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  const control = statementControlOf(db);
  return db.transaction(async (trx) => {
    await trx.raw(control ? control.settingsSql({ long: true }) : `set local max_parallel_workers_per_gather = ${PARALLEL_WORKERS_PER_GATHER}`);
    return work(trx);
  });
}

/** The statements of a knex instance on a PostgreSQL server; undefined for the embedded PGlite (one connection, no pooler). */
export function statementControlOf(db: Knex): StatementControl | undefined {
  return db.client instanceof SweepPgClient ? db.client.control : undefined;
}

/** A knex instance for the configured database: a PostgreSQL server, or PGlite on disk. */
export function createDatabase(database: DatabaseConfig, options: DatabaseOptions = {}): Knex {
  if (database.kind === 'postgres') {
    return knexModule.knex({
      // No session state: every transaction sets what it needs (pg-client.ts), so a pooler in
      // transaction mode, the role's or the server's settings change nothing.
      client: SweepPgClient as unknown as typeof Knex.Client,
      statementControl: new StatementControl(options.settings ?? DEFAULT_TRANSACTION_SETTINGS, options.logger),
      connection: {
        connectionString: database.url,
        types: {
          getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
            oid === DATE_OID ? keepDateAsString : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
        },
        connectionTimeoutMillis: 10_000,
        // An idle pooled connection whose server or path died without a reset is found
        // by the kernel's probes, not by the next statement's deadline.
        keepAlive: true,
        keepAliveInitialDelayMillis: 10_000,
      } as Knex.PgConnectionConfig,
      pool: { min: 0, max: options.poolMax ?? 5 },
      log: knexLog(options.logger),
      acquireConnectionTimeout: 15_000,
    } as Knex.Config & SweepPgConfig);
  }
  mkdirSync(database.dataDir, { recursive: true });
  return createEmbeddedDatabase(database.dataDir, options);
}

/** PGlite through knex; `dataDir` undefined keeps it in memory (tests). */
export function createEmbeddedDatabase(dataDir?: string, options: DatabaseOptions = {}): Knex {
  // One instance, passed as an object: knex calls a connection *function* again on
  // every acquire, which would open a second PGlite on the same directory.
  const { PGlite, types: pgliteTypes } = requireOnDemand('@electric-sql/pglite') as typeof import('@electric-sql/pglite');
  const ClientPgLite = withSqlFreeErrors(requireOnDemand('knex-pglite') as typeof Knex.Client);
  const pglite = new PGlite(dataDir ?? 'memory://', { parsers: { [pgliteTypes.DATE]: keepDateAsString } });
  return knexModule.knex({
    client: ClientPgLite,
    dialect: 'postgres',
    connection: { pglite } as unknown as Knex.StaticConnectionConfig,
    log: knexLog(options.logger),
  });
}

/** How long closing the pool may wait for the server's goodbye before its connections are simply dropped. */
const CLOSE_WAIT_MS = 1_000;

/**
 * Closes a knex instance within a bound: a polite close waits for the server to answer
 * each connection's goodbye, which a frozen server never does, and an open socket would
 * keep the process alive past its exit code.
 */
export async function closeDatabase(db: Knex): Promise<void> {
  const control = statementControlOf(db);
  const closing = db.destroy().catch(() => undefined);
  if (control?.unresponsive) {
    // No goodbye will be answered: the connections are dropped, and the pool's own close
    // (which waits for connects in progress) is left to finish or be cut short by the exit.
    control.closeConnections();
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  const closed = await Promise.race([closing.then(() => true),
    new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), CLOSE_WAIT_MS); })]);
  clearTimeout(timer);
  if (!closed) control?.closeConnections();
}

/**
 * Fails fast, as one line, when the database cannot be reached (exit 1), or refuses the
 * configured user, password, database or TLS (exit 64: connection-errors.ts).
 */
export async function checkConnection(db: Knex, database: DatabaseConfig): Promise<void> {
  try {
    await db.raw('select 1');
  } catch (error) {
    const advice = configurationAdvice(error);
    if (advice) {
      throw new DatabaseConfigurationError(`cannot use the database (${describeDatabase(database)}): `
        + `${describeDatabaseError(error)}: ${advice}`, { database: describeDatabase(database) }, { cause: error });
    }
    throw new AbortRunError(`cannot reach the database (${describeDatabase(database)}): ${describeDatabaseError(error)}`,
      { database: describeDatabase(database) }, { cause: error });
  }
}

/** The part of a driver error an operator can act on, without the stack. */
export function describeDatabaseError(error: unknown): string {
  const e = error as { code?: string; message?: string; errors?: Array<{ message?: string }> };
  // pg reports an unreachable host with several addresses as an AggregateError.
  const message = e.message || e.errors?.map((inner) => inner.message).join('; ') || String(error);
  return e.code && !message.includes(e.code) ? `${message} (${e.code})` : message;
}
