import { afterAll, beforeAll, beforeEach } from 'vitest';
import { startMockServer, type MockServer } from '../../mockserver/mock-server.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';

export interface Testbed {
  database: TestDatabase;
  mock: MockServer;
}

const TABLES = ['deliveries', 'job_runs', 'job_pauses', 'job_positions', 'job_holds', 'todos', 'workspaces'];

/**
 * A database of its own for the whole file, with `tables` emptied before each test, so
 * tests never see each other's rows. Read `.database` inside hooks and tests.
 */
export function useTestDatabase(tables: string[] = TABLES): { database: TestDatabase } {
  const holder = {} as { database: TestDatabase };
  beforeAll(async () => { holder.database = await createTestDatabase(); });
  afterAll(() => holder.database?.destroy());
  beforeEach(async () => {
    for (const table of tables) await holder.database.db(table).del();
  });
  return holder;
}

/**
 * What most integration test files need: a database of their own and a mockserver on a
 * real port for the whole file, with the tables emptied and the mock reset before each
 * test, so tests never see each other's rows, rules or journal.
 */
export function useTestbed(): Testbed {
  const testbed = useTestDatabase() as Testbed;
  beforeAll(async () => { testbed.mock = await startMockServer({ port: 0 }); });
  afterAll(async () => { await testbed.mock?.close(); });
  beforeEach(() => { testbed.mock.reset(); });
  return testbed;
}
