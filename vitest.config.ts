import { defineConfig } from 'vitest/config';

/**
 * Two projects: unit tests of pure logic, and integration tests that talk to a real
 * PostgreSQL (TEST_DATABASE_URL, else testcontainers when Docker answers, else the
 * embedded PGlite) and to the mockserver on a real port.
 */
export default defineConfig({
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/**/*.integration.test.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.integration.test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
