import { existsSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import { redactUrl } from '../../src/configuration/config.js';
import { createDatabase } from '../../src/database/database.js';
import { migratorConfig } from '../../src/database/migrations.js';
import { databaseUrl, withAdmin, type TestDatabaseTarget } from './test-database-target.js';

/**
 * Chooses the PostgreSQL for the integration tests, in this order: TEST_DATABASE_URL,
 * testcontainers when a Docker engine answers, else the embedded PGlite. For a server,
 * migrates a template database once; each test file clones it (graphile-worker's way).
 * TEST_ADMIN_DATABASE_URL, when TEST_DATABASE_URL goes through a pooler (.ci/pgbouncer.sh),
 * reaches the same server directly, to create and drop the databases.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let stopContainer: (() => Promise<unknown>) | undefined;
  let url = process.env.TEST_DATABASE_URL;
  let source: 'TEST_DATABASE_URL' | 'testcontainers' = 'TEST_DATABASE_URL';
  if (!url && dockerMayAnswer()) {
    try {
      const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
      const container = await new PostgreSqlContainer('postgres:16-alpine').start();
      stopContainer = () => container.stop();
      url = container.getConnectionUri();
      source = 'testcontainers';
    } catch (error) {
      console.warn(`integration tests: testcontainers could not start PostgreSQL (${(error as Error).message}); using the embedded PGlite`);
    }
  }
  if (!url) {
    console.info('integration tests: no TEST_DATABASE_URL and no Docker engine: using the embedded PGlite');
    project.provide('testDatabase', { kind: 'embedded' });
    return async () => undefined;
  }

  const adminUrl = (source === 'TEST_DATABASE_URL' && process.env.TEST_ADMIN_DATABASE_URL) || url;
  const template = `sweep_template_${process.pid}`;
  await withAdmin(adminUrl, async (admin) => {
    await admin.raw(`drop database if exists ${template} with (force)`);
    await admin.raw(`create database ${template}`);
  });
  // Migrated the way the sweep reaches the server, pooler included.
  const db = createDatabase({ kind: 'postgres', url: databaseUrl(url, template) });
  try {
    await db.migrate.latest(migratorConfig);
  } finally {
    await db.destroy();
  }
  if (adminUrl !== url) {
    // A pooler keeps its idle server connections to the template, and PostgreSQL will not
    // copy a database others are connected to.
    await withAdmin(adminUrl, (admin) => admin.raw(
      'select pg_terminate_backend(pid) from pg_stat_activity where datname = ? and pid <> pg_backend_pid()', [template]));
  }
  console.info(`integration tests: PostgreSQL from ${source}${adminUrl !== url ? ` through ${redactUrl(url)}` : ''}, template database ${template}`);
  const target: TestDatabaseTarget = { kind: 'postgres', url, adminUrl, template, source };
  project.provide('testDatabase', target);

  return async () => {
    await withAdmin(adminUrl, (admin) => admin.raw(`drop database if exists ${template} with (force)`));
    await stopContainer?.();
  };
}

function dockerMayAnswer(): boolean {
  return Boolean(process.env.DOCKER_HOST) || existsSync('/var/run/docker.sock');
}
