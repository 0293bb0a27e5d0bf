import type { Knex } from 'knex';
import { createIndexConcurrently } from '../src/database/concurrent-index.js';

/**
 * A run costs its new work, not its history. A todo past its due date stays delayed for
 * as long as it exists, so a scan from the oldest one reads all of history every run.
 * Instead a job remembers how far its scan has settled every item (job_positions), and
 * finds what appears behind that point since (a todo created late with a due date long
 * past, or one whose due date moved back) through todos.changed_at.
 *
 * changed_at is kept by triggers, so the other code that writes todos does not change:
 * set on every insert, and on an update that moves the due date (the only change that
 * gives a todo a new notification key). Adding the column is a catalogue change, no
 * table rewrite; existing rows keep null (the remembered position covers them), so the
 * index holds only the todos written from now on, built CONCURRENTLY outside a
 * transaction so that the service's writers are never blocked on a large table.
 */
export const config = { transaction: false };

export async function up(knex: Knex): Promise<void> {
  await knex.raw('alter table todos add column if not exists changed_at timestamptz');
  await knex.raw(`create or replace function sweep_todo_changed() returns trigger language plpgsql as $$
    begin
      new.changed_at := now();
      return new;
    end $$`);
  await knex.raw('drop trigger if exists todos_inserted on todos');
  await knex.raw('create trigger todos_inserted before insert on todos for each row execute function sweep_todo_changed()');
  await knex.raw('drop trigger if exists todos_due_date_moved on todos');
  await knex.raw(`create trigger todos_due_date_moved before update of due_date on todos for each row
    when (old.due_date is distinct from new.due_date) execute function sweep_todo_changed()`);
  await createIndexConcurrently(knex, 'todos_changed_at_idx', 'on todos (changed_at) where changed_at is not null');
  await knex.raw(`create table if not exists job_positions (
    job text primary key,
    position text[] not null,
    changes_since timestamptz,
    updated_at timestamptz not null default now())`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop table if exists job_positions');
  await knex.raw('drop index concurrently if exists todos_changed_at_idx');
  await knex.raw('drop trigger if exists todos_due_date_moved on todos');
  await knex.raw('drop trigger if exists todos_inserted on todos');
  await knex.raw('drop function if exists sweep_todo_changed()');
  await knex.raw('alter table todos drop column if exists changed_at');
}
