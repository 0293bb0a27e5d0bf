import { describe, expect, inject, it } from 'vitest';
import { useTestDatabase } from '../support/testbed.js';

/**
 * A failed statement's error is one line: the database's own message and what the
 * statement was (operation and tables), never its SQL or its parameters. On a server and
 * on the embedded PGlite alike (each lane runs this file on its own).
 */
describe(`a failed statement's error, on ${inject('testDatabase').kind === 'postgres' ? 'PostgreSQL' : 'the embedded PGlite'}`, () => {
  const testbed = useTestDatabase([]);

  it('names the operation and tables and keeps the database\'s message, without the SQL or the values', async () => {
    const failed = await testbed.database.db('no_such_table').where({ secret_column: 'a-value-only-the-row-knows' }).select('id')
      .then(() => undefined, (error: Error) => error);

    expect(failed?.message).toBe('relation "no_such_table" does not exist (in select on no_such_table)');
  });

  it('does the same for a raw statement, its comment and bindings included', async () => {
    const failed = await testbed.database.db.raw('/* a comment */ insert into deliveries (key, nope) values (?, ?)', ['k-1', 'v-2'])
      .then(() => undefined, (error: Error) => error);

    expect(failed?.message).toBe('column "nope" of relation "deliveries" does not exist (in insert on deliveries)');
    expect(failed?.message).not.toMatch(/comment|values|k-1|v-2|\$\d/);
  });
});
