import { existsSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import { createDatabase } from '../../src/database/database.js';
import { migratorConfig } from '../../src/database/migrations.js';
import { databaseUrl, withAdmin, type TestDatabaseTarget } from './test-database-target.js';

/**
 * Chooses the PostgreSQL for the integration tests, in this order: TEST_DATABASE_URL,
 * testcontainers when a Docker engine answers, else the embedded PGlite. For a server,
 * migrates a template database once; each test file clones it (graphile-worker's way).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let stopContainer: (() => Promise<unknown>) | undefined;
  let adminUrl = process.env.TEST_DATABASE_URL;
  let source: 'TEST_DATABASE_URL' | 'testcontainers' = 'TEST_DATABASE_URL';
  if (!adminUrl && dockerMayAnswer()) {
    try {
      const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
      const container = await new PostgreSqlContainer('postgres:16-alpine').start();
      stopContainer = () => container.stop();
      adminUrl = container.getConnectionUri();
      source = 'testcontainers';
    } catch (error) {
      console.warn(`integration tests: testcontainers could not start PostgreSQL (${(error as Error).message}); using the embedded PGlite`);
    }
  }
  if (!adminUrl) {
    console.info('integration tests: no TEST_DATABASE_URL and no Docker engine: using the embedded PGlite');
    project.provide('testDatabase', { kind: 'embedded' });
    return async () => undefined;
  }

  const template = `sweep_template_${process.pid}`;
  await withAdmin(adminUrl, async (admin) => {
    await admin.raw(`drop database if exists ${template} with (force)`);
    await admin.raw(`create database ${template}`);
  });
  const db = createDatabase({ kind: 'postgres', url: databaseUrl(adminUrl, template) });
  try {
    await db.migrate.latest(migratorConfig);
  } finally {
    await db.destroy();
  }
  console.info(`integration tests: PostgreSQL from ${source}, template database ${template}`);
  const target: TestDatabaseTarget = { kind: 'postgres', adminUrl, template, source };
  project.provide('testDatabase', target);

  return async () => {
    await withAdmin(adminUrl, (admin) => admin.raw(`drop database if exists ${template} with (force)`));
    await stopContainer?.();
  };
}

function dockerMayAnswer(): boolean {
  return Boolean(process.env.DOCKER_HOST) || existsSync('/var/run/docker.sock');
}
