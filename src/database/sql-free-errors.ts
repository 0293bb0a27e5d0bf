import type { Knex } from 'knex';
import { describeOperation } from './statement-control.js';

/**
 * knex prefixes a failed statement's SQL to its error message (up to thousands of
 * characters, comments included): an error keeps one line, its own message and what the
 * statement was (operation and tables), never its SQL or parameters. The driver's own
 * message is kept when the statement fails (`keepOwnMessage`, from the client's `_query`)
 * and put back once knex has added its prefix (`restoreOwnMessage`, from its `query`).
 */
const ownMessage = new WeakMap<object, string>();

export function keepOwnMessage(error: unknown): void {
  if (error && typeof error === 'object') ownMessage.set(error, (error as Error).message);
}

export function restoreOwnMessage(error: unknown, queryParam: unknown): void {
  if (!error || typeof error !== 'object' || !ownMessage.has(error)) return;
  const sql = typeof queryParam === 'string' ? queryParam : (queryParam as { sql?: string })?.sql ?? '';
  (error as Error).message = `${ownMessage.get(error)} (in ${describeOperation(sql)})`;
}

/** A knex client class whose errors carry no SQL (the embedded PGlite's; pg-client.ts does the same for a server). */
export function withSqlFreeErrors(Client: typeof Knex.Client): typeof Knex.Client {
  const Base = Client as unknown as new (config: Knex.Config) => {
    _query(connection: unknown, obj: unknown): Promise<unknown>;
    query(connection: unknown, queryParam: unknown): Promise<unknown>;
  };
  return class SqlFreeErrors extends Base {
    override async _query(connection: unknown, obj: unknown): Promise<unknown> {
      try {
        return await super._query(connection, obj);
      } catch (error) {
        keepOwnMessage(error);
        throw error;
      }
    }

    override async query(connection: unknown, queryParam: unknown): Promise<unknown> {
      try {
        return await super.query(connection, queryParam);
      } catch (error) {
        restoreOwnMessage(error, queryParam);
        throw error;
      }
    }
  } as unknown as typeof Knex.Client;
}
