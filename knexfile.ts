import type { Knex } from 'knex';
import { getConfig } from './src/configuration/config.js';
import { migratorConfig } from './src/database/migrations.js';

/**
 * For the knex CLI (`NODE_OPTIONS='--import tsx' npx knex migrate:status`). The jobs
 * do not read this file: `sweep migrate` uses the same configuration and migrations.
 * The knex CLI is for a PostgreSQL server only; the embedded database is opened by sweep.
 */
const config = getConfig(process.env);
if (config.database.kind !== 'postgres') {
  throw new Error('knexfile.ts: set DATABASE_URL (the embedded database is used through `npm run command -- migrate`)');
}

const knexConfig: Knex.Config = {
  client: 'pg',
  connection: config.database.url,
  migrations: migratorConfig,
};

export default knexConfig;
