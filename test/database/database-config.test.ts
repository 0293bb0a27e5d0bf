import { afterEach, describe, expect, it } from 'vitest';
import { createDatabase, type Knex } from '../../src/database/database.js';

describe('createDatabase for a PostgreSQL server', () => {
  let db: Knex | undefined;
  afterEach(async () => { await db?.destroy(); });

  it('bounds a connect and keeps idle connections probed by TCP keepalive, so a dead path is found without a statement', () => {
    // No connection is made: only the settings every connection of the pool is opened with.
    db = createDatabase({ kind: 'postgres', url: 'postgres://sweep@127.0.0.1:1/sweep' });
    const connection = (db.client as { config: { connection: Record<string, unknown> } }).config.connection;
    expect(connection).toMatchObject({ connectionTimeoutMillis: 10_000, keepAlive: true, keepAliveInitialDelayMillis: 10_000 });
  });
});
