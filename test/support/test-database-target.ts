import knexModule, { type Knex } from 'knex';

/** Which PostgreSQL the integration tests use, decided once by the global setup. */
export type TestDatabaseTarget =
  /**
   * A server: each test file clones `template` into a database of its own. `url` is how
   * the sweep reaches it (perhaps through PgBouncer), `adminUrl` how databases are created
   * and dropped (straight to PostgreSQL: a pooler in transaction mode is no place for that).
   */
  | { kind: 'postgres'; url: string; adminUrl: string; template: string; source: 'TEST_DATABASE_URL' | 'testcontainers' }
  /** No server: each test file gets an in-memory PGlite. */
  | { kind: 'embedded' };

declare module 'vitest' {
  export interface ProvidedContext {
    testDatabase: TestDatabaseTarget;
  }
}

/** The same server, another database: postgres://u@h:5432/admin -> postgres://u@h:5432/name. */
export function databaseUrl(adminUrl: string, name: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Runs `work` with a one-connection pool on the admin database, then closes it. */
export async function withAdmin<T>(adminUrl: string, work: (admin: Knex) => Promise<T>): Promise<T> {
  const admin = knexModule.knex({ client: 'pg', connection: adminUrl, pool: { min: 0, max: 1 } });
  try {
    return await work(admin);
  } finally {
    await admin.destroy();
  }
}
