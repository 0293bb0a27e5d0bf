import type { Knex } from 'knex';
import { withParallelWorkers } from '../../database/database.js';
import { changedSince, type ChangeWindow } from '../../ledger/change-window.js';
import { surveyAgainstLedger, withoutDelivery } from '../../ledger/undelivered.js';
import { joinZones, latest, type RunZones } from '../../sweep/local-due-times.js';

/** A todo whose due date has ended in its workspace's zone, as this job reads it. */
export interface DelayedTodo {
  id: string;
  workspaceId: string;
  /** As the database writes it: YYYY-MM-DD, never a JS Date. */
  dueDate: string;
  key: string;
}

/**
 * The contract's key, `send-delay-notifications:<todoId>:<dueDate>`, computed by the
 * database: the scan leaves out todos whose key the ledger holds, and the key the run
 * sends is the one it read, so the two can never spell a date differently.
 */
export const KEY = `'send-delay-notifications:' || t.id || ':' || t.due_date::text`;

/**
 * The todos delayed as of the run: due on or before the last date that has ended in their
 * workspace's zone. One range of todos_due_date_id_idx up to the latest such date of any
 * zone in use, each todo then judged by its zone's row. A todo whose zone the run cannot
 * judge (new since the run started) is delayed only once its date has ended everywhere,
 * where no zone can say otherwise; one in a zone PostgreSQL does not know, never.
 */
const delayed = (db: Knex, zones: RunZones, mode: 'ordered' | 'hashed' = 'ordered') => db('todos as t')
  .modify(joinZones(zones, mode))
  .where('t.due_date', '<=', latest(zones, 'lastEnded'))
  .whereRaw(`(t.due_date <= z.last_ended
    or (z.zone is null and t.due_date <= ?::date and coalesce(w.time_zone, ?::text) <> all(?::text[])))`,
  [zones.endedEverywhere, zones.defaultZone, zones.unknown as unknown as Knex.RawBinding]);

type Row = { id: string; workspace_id: string; due_date: string; key: string };
const toTodo = (row: Row): DelayedTodo => ({ id: row.id, workspaceId: row.workspace_id, dueDate: row.due_date, key: row.key });
const columns = (db: Knex) => ['t.id', 't.workspace_id', 't.due_date', db.raw(`${KEY} as key`)];

/** A todo's place in the scan's order, (due_date, id), in keyset form. */
const placeOf = (todo: Pick<DelayedTodo, 'dueDate' | 'id'>): string[] => [todo.dueDate, todo.id];

/**
 * The same place as text that sorts as (due_date, id) does, to remember: only for an
 * ISO date of years 0001-9999 (as text, '4713-01-01 BC' would sort after 2020).
 */
export const positionOf = (todo: Pick<DelayedTodo, 'dueDate' | 'id'>): string[] | undefined =>
  (/^\d{4}-\d{2}-\d{2}$/.test(todo.dueDate) ? placeOf(todo) : undefined);

/**
 * The due date of the oldest delayed todo with no delivery: where a job that has no
 * position yet (its first run) starts. One pass that hashes the ledger, about 1.4 µs a
 * todo: the only statement that reads all of history, once, when a deployment is carried
 * forward; a walk from the oldest todo probing the ledger one todo at a time would take
 * minutes at millions.
 */
export async function getFirstNewDueDate(db: Knex, zones: RunZones): Promise<string | undefined> {
  const survey = await withParallelWorkers(db, (trx) =>
    surveyAgainstLedger(trx, delayed(trx, zones, 'hashed').select(trx.raw(`${KEY} as key`), 't.due_date'), 'due_date'));
  return survey.firstNew;
}

/**
 * One page of delayed todos with no delivery, in (due_date, id) order, after `after`.
 * Keyset pagination on todos_due_date_id_idx: never OFFSET, never all rows.
 */
export async function getDelayedTodos(db: Knex, query: { zones: RunZones; after: DelayedTodo | string[] | { from: string }; limit: number }):
Promise<DelayedTodo[]> {
  const { after } = query;
  const rows: Row[] = await delayed(db, query.zones)
    .select(columns(db))
    .modify((builder) => {
      if ('from' in after) builder.where('t.due_date', '>=', after.from);
      else builder.whereRaw('(t.due_date, t.id) > (?::date, ?::uuid)', Array.isArray(after) ? after : placeOf(after));
    })
    .modify(withoutDelivery(db, KEY))
    .orderBy([{ column: 't.due_date' }, { column: 't.id' }])
    .limit(query.limit);
  return rows.map(toTodo);
}

/**
 * Delayed todos with no delivery written (created, or their due date moved) by a
 * transaction the last run could not see, at or before `upTo`: behind the position
 * earlier scans settled, so no scan from there meets them. Through todos_changed_xid_idx:
 * as many rows as changed.
 */
export async function getChangedDelayedTodos(db: Knex, query: { zones: RunZones; since: ChangeWindow; upTo: string[];
  after?: DelayedTodo; limit: number }): Promise<DelayedTodo[]> {
  const [changedSql, changedBindings] = changedSince(query.since, { xid: 't.changed_xid', time: 't.changed_at' });
  // Materialized, so the changed todos are found first, through their own index: with
  // the page's order and limit in view, PostgreSQL walked the whole (due_date, id) index
  // hoping to meet them early (2 s a run at 1,000,000 todos while the window held changes).
  const rows: Row[] = await db.withMaterialized('changed', (changed) => changed.from('todos as t')
    .select('t.id', 't.workspace_id', 't.due_date')
    .whereRaw(changedSql, changedBindings)
    .where('t.due_date', '<=', latest(query.zones, 'lastEnded'))
    .whereRaw('(t.due_date, t.id) <= (?::date, ?::uuid)', query.upTo)
    .modify((builder) => {
      if (query.after) builder.whereRaw('(t.due_date, t.id) > (?::date, ?::uuid)', placeOf(query.after));
    }))
    // The changed todos after the cursor only, a handful, judged by their zones as a set.
    .from(delayed(db, query.zones, 'hashed').from('changed as t').select('t.*').as('t'))
    .select(columns(db))
    .modify(withoutDelivery(db, KEY))
    .orderBy([{ column: 't.due_date' }, { column: 't.id' }])
    .limit(query.limit);
  return rows.map(toTodo);
}

/** The last delayed todo as of now, in scan order: how far a scan that completes has settled. */
export async function getLastDelayedPosition(db: Knex, zones: RunZones): Promise<string[] | undefined> {
  const row = await delayed(db, zones).select('t.id', 't.due_date')
    .orderBy([{ column: 't.due_date', order: 'desc' }, { column: 't.id', order: 'desc' }])
    .first<{ id: string; due_date: string } | undefined>();
  return row && positionOf({ id: row.id, dueDate: row.due_date });
}

const LAST_ID = 'ffffffff-ffff-ffff-ffff-ffffffffffff';

/**
 * How far a scan may settle as of the run: to the end of the last date that has ended in
 * every zone, since a todo after it may be delayed in one zone and not yet in another
 * (the scan passes it over), and not past a todo with no delivery in a workspace whose
 * zone PostgreSQL does not know (skipped, so still owed: the day before its due date).
 * A scan re-reads at most the day or two of todos after it, each found settled by its
 * ledger lookup; a workspace left in an unknown zone holds it back until it is fixed.
 */
export async function getPositionCap(db: Knex, zones: RunZones): Promise<string[]> {
  let capDate = zones.endedEverywhere;
  if (zones.unknown.length > 0) {
    const row = await db('todos as t').join('workspaces as w', 'w.id', 't.workspace_id')
      .whereRaw('w.time_zone = any(?::text[])', [zones.unknown as unknown as Knex.RawBinding])
      .where('t.due_date', '<=', capDate)
      .modify(withoutDelivery(db, KEY))
      .first<{ before: string | null } | undefined>(db.raw(`to_char(min(t.due_date) - 1, 'YYYY-MM-DD') as before`));
    if (row?.before && row.before < capDate) capDate = row.before;
  }
  return [capDate, LAST_ID];
}
