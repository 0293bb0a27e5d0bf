import { afterAll, beforeAll, beforeEach } from 'vitest';
import { startMockServer, type MockServer } from '../../mockserver/mock-server.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';

export interface Testbed {
  database: TestDatabase;
  mock: MockServer;
}

/**
 * What most integration test files need: a database of their own and a mockserver on a
 * real port for the whole file, with the tables emptied and the mock reset before each
 * test, so tests never see each other's rows, rules or journal.
 */
export function useTestbed(): Testbed {
  const testbed = {} as Testbed;
  beforeAll(async () => {
    testbed.database = await createTestDatabase();
    testbed.mock = await startMockServer({ port: 0 });
  });
  afterAll(async () => {
    await testbed.mock?.close();
    await testbed.database?.destroy();
  });
  beforeEach(async () => {
    testbed.mock.reset();
    for (const table of ['deliveries', 'job_runs', 'todos']) await testbed.database.db(table).del();
  });
  return testbed;
}
