import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Knex } from 'knex';
import { inject } from 'vitest';
import { createDatabase, createEmbeddedDatabase } from '../../src/database/database.js';
import { migratorConfig } from '../../src/database/migrations.js';
import { databaseUrl, withAdmin } from './test-database-target.js';

export interface TestDatabase {
  kind: 'postgres' | 'embedded';
  /** For the test's own setup and assertions. */
  db: Knex;
  /** Environment for a runner that opens the database itself (DATABASE_URL), empty for embedded. */
  env: Record<string, string>;
  /** An open database for an in-process runner, when it cannot open its own (embedded). */
  injected?: Knex;
  /** Whether separate processes can share this database (overlapping runs, crashes). */
  shared: boolean;
  destroy(): Promise<void>;
}

/** A fresh, migrated database for one test file. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const target = inject('testDatabase');
  if (target.kind === 'embedded') {
    const db = createEmbeddedDatabase();
    await db.migrate.latest(migratorConfig);
    return { kind: 'embedded', db, env: {}, injected: db, shared: false, destroy: () => db.destroy() };
  }
  const name = `sweep_test_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  await withAdmin(target.adminUrl, (admin) => admin.raw(`create database ${name} template ${target.template}`));
  const url = databaseUrl(target.url, name);
  const db = createDatabase({ kind: 'postgres', url });
  return {
    kind: 'postgres', db, env: { DATABASE_URL: url }, shared: true,
    async destroy() {
      await db.destroy();
      await withAdmin(target.adminUrl, (admin) => admin.raw(`drop database if exists ${name} with (force)`));
    },
  };
}

/** A data directory for a child process that uses the embedded database; removed by the returned function. */
export function createEmbeddedDataDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'sweep-test-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
