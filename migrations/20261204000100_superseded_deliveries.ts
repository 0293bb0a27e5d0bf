import type { Knex } from 'knex';
import { createIndexConcurrently } from '../src/database/concurrent-index.js';

/**
 * A delivery the ledger owed whose item no longer stands as it did (its todo deleted,
 * its due date moved, its workspace without delayed todos any more) is settled unsent:
 * status `superseded`, with the reason in last_error. `forced` marks one an operator
 * re-armed with `deliveries retry --force`: its next run sends it whatever its item says.
 *
 * No table rewrite and no long lock on a large ledger:
 * - `forced` is a nullable column without a default: a catalogue change;
 * - the status check is replaced NOT VALID (a brief lock, no scan), then validated,
 *   which scans the ledger under a lock that lets runs go on claiming and recording;
 * - superseded rows get a small partial index of their own, for the operator's views
 *   (`deliveries --status superseded`, `deliveries retry`), built CONCURRENTLY; they
 *   stay out of the hot path's partial indexes (pending claims; retry/failed/dead).
 */
export const config = { transaction: false };

const STATUSES = `'pending', 'sent', 'retry', 'failed', 'dead'`;

async function replaceStatusCheck(knex: Knex, statuses: string): Promise<void> {
  await knex.raw(`alter table deliveries drop constraint if exists deliveries_status_check,
    add constraint deliveries_status_check check (status in (${statuses})) not valid`);
  await knex.raw('alter table deliveries validate constraint deliveries_status_check');
}

export async function up(knex: Knex): Promise<void> {
  await knex.raw('alter table deliveries add column if not exists forced boolean');
  await replaceStatusCheck(knex, `${STATUSES}, 'superseded'`);
  await createIndexConcurrently(knex, 'deliveries_superseded_idx', `on deliveries (job) where status = 'superseded'`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index concurrently if exists deliveries_superseded_idx');
  // Never sent, and the scan sends an item that stands again once: forgetting them is safe.
  await knex.raw(`delete from deliveries where status = 'superseded'`);
  await replaceStatusCheck(knex, STATUSES);
  await knex.raw('alter table deliveries drop column if exists forced');
}
