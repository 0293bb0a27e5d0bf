import type { Knex } from 'knex';
import { createIndexConcurrently } from '../src/database/concurrent-index.js';

/**
 * send-workspace-digests reads the delayed todos a workspace at a time, in workspace
 * order: (workspace_id, due_date) lets it count one workspace's delayed todos from the
 * index and page through the workspaces without sorting every delayed todo.
 *
 * Built CONCURRENTLY, outside a transaction: todos is the service's own large, live
 * table, and a plain build would block its writers for as long as it takes.
 */
export const config = { transaction: false };

export async function up(knex: Knex): Promise<void> {
  await createIndexConcurrently(knex, 'todos_workspace_id_due_date_idx', 'on todos (workspace_id, due_date)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index concurrently if exists todos_workspace_id_due_date_idx');
}
