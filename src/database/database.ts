import { mkdirSync } from 'node:fs';
import knexModule, { type Knex } from 'knex';
import ClientPgLite from 'knex-pglite';
import pg from 'pg';
import { PGlite, types as pgliteTypes } from '@electric-sql/pglite';
import { describeDatabase, type DatabaseConfig } from '../configuration/config.js';
import type { Logger } from '../logging/logger.js';
import { AbortRunError } from '../runner/errors.js';

export type { Knex } from 'knex';

const DATE_OID = 1082;
/** Dates stay `YYYY-MM-DD` strings: a JS Date would shift them by the local time zone. */
const keepDateAsString = (value: string) => value;

export interface DatabaseOptions {
  /** Upper bound of the pool for a real PostgreSQL (the embedded one has one connection). */
  poolMax?: number;
  /** Where knex's own messages go; by default they would be printed with console. */
  logger?: Logger;
}

/**
 * knex reports connection retries on its own; the runner reports the failure once,
 * as one line, so knex's messages are only for debugging.
 */
function knexLog(logger: Logger | undefined): Knex.Logger {
  const debug = (message: unknown) => logger?.debug({ knex: String(message) }, 'knex');
  return { warn: debug, error: debug, debug, deprecate: (method: string, alternative: string) => logger?.warn({ method, alternative }, 'knex deprecation') };
}

/** A knex instance for the configured database: a PostgreSQL server, or PGlite on disk. */
export function createDatabase(database: DatabaseConfig, options: DatabaseOptions = {}): Knex {
  if (database.kind === 'postgres') {
    return knexModule.knex({
      client: 'pg',
      connection: {
        connectionString: database.url,
        types: {
          getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
            oid === DATE_OID ? keepDateAsString : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
        },
        connectionTimeoutMillis: 10_000,
        // Keys are built from dates as text: ISO on every connection, whatever the server's
        // default, so a date always reads YYYY-MM-DD (or YYYY-MM-DD BC, which no key may carry).
        options: '-c DateStyle=ISO,YMD',
      } as Knex.PgConnectionConfig,
      pool: { min: 0, max: options.poolMax ?? 5 },
      log: knexLog(options.logger),
      acquireConnectionTimeout: 15_000,
    });
  }
  mkdirSync(database.dataDir, { recursive: true });
  return createEmbeddedDatabase(database.dataDir, options);
}

/** PGlite through knex; `dataDir` undefined keeps it in memory (tests). */
export function createEmbeddedDatabase(dataDir?: string, options: DatabaseOptions = {}): Knex {
  // One instance, passed as an object: knex calls a connection *function* again on
  // every acquire, which would open a second PGlite on the same directory.
  const pglite = new PGlite(dataDir ?? 'memory://', { parsers: { [pgliteTypes.DATE]: keepDateAsString } });
  return knexModule.knex({
    client: ClientPgLite as unknown as typeof Knex.Client,
    dialect: 'postgres',
    connection: { pglite } as unknown as Knex.StaticConnectionConfig,
    log: knexLog(options.logger),
  });
}

/** Fails fast, as one line, when the database cannot be reached. */
export async function checkConnection(db: Knex, database: DatabaseConfig): Promise<void> {
  try {
    await db.raw('select 1');
  } catch (error) {
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
