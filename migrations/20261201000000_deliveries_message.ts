import type { Knex } from 'knex';

/**
 * A delivery keeps the message it is for, so the ledger can drain its own due work: a
 * retry is sent by its job's next run whatever that run's scan covers (a reminder for a
 * day gone by, a digest with the count of its own day), with the text first meant.
 *
 * Adding a nullable column is a catalogue change, no table rewrite. Deliveries still to
 * be sent from before this migration were all send-delay-notifications', whose message
 * is made of the todo's id alone: they get it here. Only the few rows still waiting are
 * touched (retry, pending, and failed/dead, which an operator may re-arm), through the
 * partial indexes that hold them, never the sent bulk of the ledger.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('deliveries', (table) => {
    table.text('message');
  });
  await knex.raw(`update deliveries set message = 'Todo ' || item_id || ' is delayed'
    where job = 'send-delay-notifications' and message is null and status in ('retry', 'failed', 'dead', 'pending')`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('deliveries', (table) => {
    table.dropColumn('message');
  });
}
