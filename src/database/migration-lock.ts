import type { Knex } from 'knex';
import type { Logger } from '../logging/logger.js';
import { SweepError } from '../runner/errors.js';
import { ExitCode } from '../runner/exit-codes.js';
import { statementControlOf } from './database.js';

/**
 * One `sweep migrate` at a time, however many start (the pods of a rollout, an init
 * container and a Job), and none stuck behind one that was killed.
 *
 * knex's own lock (a row of knex_migrations_lock set to 1) fails the second migrate at
 * once, and stays taken when the migrate holding it dies. So each migrate first takes a
 * transaction-level advisory lock of sweep's own and holds its transaction open while
 * knex migrates on the pool's other connections: PostgreSQL releases it with the
 * transaction, whatever ends the process. A transaction-level lock, not a session one:
 * behind PgBouncer in transaction mode a transaction keeps its server connection to its
 * end, where a session lock would stay on a server connection lent to someone else.
 * Holding sweep's lock, a migrate knows no other migrate of this version runs, so knex's
 * lock found taken was left by a killed one: it is released.
 *
 * The open transaction takes no transaction id and holds no snapshot between its
 * statements (takeMigrateLock), so the migrations' CREATE INDEX CONCURRENTLY do not wait for it.
 */

/** sweep's advisory lock key for its migrations (an arbitrary constant: 'sweepmig' in ASCII). */
const MIGRATE_LOCK_KEY = '8319104525488003431';
const POLL_MS = 500;
const STILL_WAITING_EVERY_MS = 30_000;

export interface MigrateLockOptions {
  logger: Logger;
  signal: AbortSignal;
}

/**
 * Runs `work` holding sweep's migrate lock, after any other migrate has finished;
 * undefined when `signal` stopped the wait first.
 */
export async function withMigrateLock<T>(db: Knex, options: MigrateLockOptions, work: () => Promise<T>): Promise<T | undefined> {
  // The embedded database: one process at a time by its data directory's lock (data-dir-lock.ts).
  const holder = statementControlOf(db) ? await takeMigrateLock(db, options) : null;
  if (holder === undefined) return undefined;
  try {
    await releaseLeftKnexLock(db, options.logger);
    return await work();
  } finally {
    await holder?.commit().catch(() => undefined);
  }
}

/** The transaction holding the lock; undefined when stopped while waiting. */
async function takeMigrateLock(db: Knex, { logger, signal }: MigrateLockOptions): Promise<Knex.Transaction | undefined> {
  const waitingSince = Date.now();
  let lastSaid = 0;
  while (!signal.aborted) {
    const trx = await db.transaction();
    try {
      // Open for as long as the migrations run: the idle bound every transaction has would end it.
      await trx.raw('set local idle_in_transaction_session_timeout = 0');
      // No bindings: a simple query, whose snapshot ends with it. With bindings pg sends an
      // unnamed portal, which keeps its snapshot (backend_xmin) until the transaction ends,
      // and every CREATE INDEX CONCURRENTLY would wait for this transaction: for ever.
      const result = await trx.raw<{ rows: Array<{ locked: boolean }> }>(
        `select pg_try_advisory_xact_lock(${MIGRATE_LOCK_KEY}) as locked`);
      if (result.rows[0]?.locked) {
        if (lastSaid > 0) logger.info({ waitedMs: Date.now() - waitingSince }, 'the other sweep migrate finished');
        return trx;
      }
    } catch (error) {
      await trx.rollback().catch(() => undefined);
      throw error;
    }
    await trx.rollback().catch(() => undefined);
    if (Date.now() - lastSaid >= STILL_WAITING_EVERY_MS) {
      logger.info({ waitedMs: Date.now() - waitingSince }, 'another sweep migrate is applying the migrations: waiting for it to finish');
      lastSaid = Date.now();
    }
    await sleep(POLL_MS, signal);
  }
  return undefined;
}

/** knex's lock taken while no migrate runs: a migrate stopped while it held it (SIGKILL, a lost node). */
async function releaseLeftKnexLock(db: Knex, logger: Logger): Promise<void> {
  const exists = await db.raw<{ rows: Array<{ exists: boolean }> }>(`select to_regclass('knex_migrations_lock') is not null as exists`);
  if (!exists.rows[0]?.exists) return;
  const released = await db('knex_migrations_lock').where({ is_locked: 1 }).update({ is_locked: 0 });
  if (released > 0) {
    logger.warn('knex\'s migration lock (knex_migrations_lock.is_locked = 1) was left taken by a migrate that stopped '
      + 'while it held it, and no other migrate runs: released it; the migrations it had not finished run now');
  }
}

/** knex's lock taken all the same: by a migrate that does not take sweep's lock (an older sweep, knex's own CLI). */
export class KnexLockTakenError extends SweepError {
  constructor(options?: { cause?: unknown }) {
    super('knex\'s migration lock is taken by a migrate that does not hold sweep\'s lock (an older sweep, or knex\'s CLI): '
      + 'run sweep migrate again once it has finished; if none runs, release it with: '
      + 'UPDATE knex_migrations_lock SET is_locked = 0;', ExitCode.TEMPFAIL, {}, options);
  }
}

/** knex's LockError is not exported: known by its name (knex/lib/migrations/migrate/Migrator.js). */
export function isKnexLockError(error: unknown): boolean {
  return (error as { name?: string })?.name === 'MigrationLocked';
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
