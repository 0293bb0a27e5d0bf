import { randomUUID } from 'node:crypto';
import knexModule, { type Knex } from 'knex';
import { inject } from 'vitest';
import { databaseUrl, withAdmin } from './test-database-target.js';

export interface EmptyDatabase {
  name: string;
  /** How the sweep reaches it (through the pooler when the tests run behind one). */
  url: string;
  /** Straight to the server, as its superuser: for setting it up as a todo service would have. */
  admin: Knex;
  /** The same database as `role`, straight to the server (a pooler's auth file knows only the test's user). */
  urlAs(role: string): string;
  destroy(): Promise<void>;
}

/** A database with nothing in it, not cloned from the migrated template: a todo service's, before sweep. */
export async function createEmptyDatabase(prefix = 'sweep_empty'): Promise<EmptyDatabase> {
  const target = inject('testDatabase');
  if (target.kind !== 'postgres') throw new Error('createEmptyDatabase needs a PostgreSQL server');
  const name = `${prefix}_${randomUUID().replaceAll('-', '').slice(0, 10)}`;
  await withAdmin(target.adminUrl, (server) => server.raw(`create database ${name}`));
  const admin = knexModule.knex({ client: 'pg', connection: databaseUrl(target.adminUrl, name), pool: { min: 0, max: 3 } });
  return {
    name,
    url: databaseUrl(target.url, name),
    admin,
    urlAs(role) {
      const url = new URL(databaseUrl(target.adminUrl, name));
      url.username = role;
      url.password = '';
      return url.toString();
    },
    async destroy() {
      await admin.destroy();
      await withAdmin(target.adminUrl, (server) => server.raw(`drop database if exists ${name} with (force)`));
    },
  };
}

/**
 * The todo service's own table as it might be: more columns than sweep reads, its own
 * defaults and index, rows already in it. `columns` replaces the definition of the ones sweep reads.
 */
export function todoServiceTableSql(columns: { id?: string; workspace_id?: string; due_date?: string } = {}): string {
  const definitions = {
    id: 'id uuid primary key default gen_random_uuid()',
    workspace_id: 'workspace_id uuid not null',
    due_date: 'due_date date',
    ...columns,
  };
  return `create table todos (
    ${Object.values(definitions).filter(Boolean).join(',\n    ')},
    title text not null default '',
    done boolean not null default false,
    created_at timestamptz not null default now())`;
}
