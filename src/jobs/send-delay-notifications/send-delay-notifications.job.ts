import { ITEM_ID_AS_UUID, ITEM_ID_IS_UUID } from '../../ledger/undelivered.js';
import { clockOf, zoneOf, type RunZones } from '../../sweep/local-due-times.js';
import { defineNotificationJob, type Notification, type OwedDelivery, type Standing } from '../../sweep/notification-job.js';
import {
  getChangedDelayedTodos, getDelayedTodos, getFirstNewDueDate, getLastDelayedPosition, getPositionCap, positionOf, type DelayedTodo,
} from './delayed-todo.dao.js';
import { getTodosNow, type OwedTodo } from './owed-todo.dao.js';

const notificationOf = (todo: DelayedTodo): Notification => ({
  key: todo.key, workspaceId: todo.workspaceId, itemId: todo.id, itemDate: todo.dueDate, message: `Todo ${todo.id} is delayed`,
});

/**
 * An owed delay notification stands while its todo is there with the same due date (the
 * same key); its workspace may have changed. One not delayed yet in its workspace's zone
 * as of the run (owed from a run with a later --date, or its workspace moved west), or in
 * a zone PostgreSQL does not know, is not true yet: it stays owed rather than superseded,
 * since a todo behind the remembered position is never scanned again, and the first run
 * as of which it is delayed sends it.
 */
export function delayStanding(owed: OwedDelivery, todo: OwedTodo | undefined, zones: RunZones | undefined): Standing {
  if (!todo) return { reason: 'the todo is gone' };
  if (todo.key !== owed.key) return { reason: `its due date moved to ${todo.dueDate}` };
  if (zones) {
    const zone = zoneOf(zones, todo.timeZone);
    const clock = clockOf(zones, zone);
    if (!clock) return { notYet: `its workspace's time zone ${JSON.stringify(zone)} cannot be judged by this run` };
    if (!(todo.dueDate <= clock.lastEnded)) return { notYet: `it is not delayed yet in ${zone} (due ${todo.dueDate}, ${clock.localDate} there)` };
  }
  return { notification: notificationOf(todo) };
}

/** One notification per todo past its due date; a todo whose due date moved and passed again is a new one. */
export const sendDelayNotifications = defineNotificationJob<DelayedTodo>({
  name: 'send-delay-notifications',
  description: 'Sends one notification per todo whose due date has ended in its workspace\'s zone, once, however often it runs.',
  runDate: 'todos due before it are delayed',
  items: 'delayed todos',
  fallsDue: { daysAfterItemDate: 1, atLocalTime: false },
  // No survey: its scope is every todo ever delayed, and a count of it would make every
  // run cost all of history. A run reads what changed and what is new (resume).
  readPage: async (db, { run, after, from, limit }) => {
    const { zones } = run;
    if (after) return getDelayedTodos(db, { zones, after, limit });
    if (from) return getDelayedTodos(db, { zones, after: from, limit });
    const firstNew = await getFirstNewDueDate(db, zones);
    return firstNew === undefined ? [] : getDelayedTodos(db, { zones, after: { from: firstNew }, limit });
  },
  resume: {
    positionOf,
    lastPosition: (db, run) => getLastDelayedPosition(db, run.zones),
    positionCap: (db, run) => getPositionCap(db, run.zones),
    readChanged: (db, { run, since, upTo, after, limit }) =>
      getChangedDelayedTodos(db, { zones: run.zones, since, upTo, after, limit }),
    positionOfDelivery: 'array[d.item_date::text, d.item_id]',
    deliveryItemChanged: (changedSince) => `exists (select 1 from todos t where t.id = ${ITEM_ID_AS_UUID}
      and ${changedSince({ xid: 't.changed_xid', time: 't.changed_at' })})`,
  },
  notificationOf,
  stillStands: async (db, owed, { zones }) => {
    const todos = await getTodosNow(db, owed.map((delivery) => delivery.itemId));
    return new Map(owed.map((delivery) => [delivery.key, delayStanding(delivery, todos.get(delivery.itemId), zones)]));
  },
  describe: ({ itemId, itemDate }) => ({ todoId: itemId, dueDate: itemDate }),
  itemWellFormed: ITEM_ID_IS_UUID,
  // Deleted, or its due date moved (which gives it a new key): a todo has no done state,
  // so one still there with that due date stays delayed, and its delivery is what keeps
  // it from being notified again.
  itemGone: `not exists (select 1 from todos t where t.id = ${ITEM_ID_AS_UUID} and t.due_date = d.item_date)`,
});
