import { ITEM_ID_AS_UUID, ITEM_ID_IS_UUID } from '../../ledger/undelivered.js';
import { defineNotificationJob, type Notification, type OwedDelivery, type Standing } from '../../sweep/notification-job.js';
import {
  getChangedDelayedTodos, getDelayedTodos, getFirstNewDueDate, getLastDelayedPosition, positionOf, type DelayedTodo,
} from './delayed-todo.dao.js';
import { getTodosNow } from './owed-todo.dao.js';

const notificationOf = (todo: DelayedTodo): Notification => ({
  key: todo.key, workspaceId: todo.workspaceId, itemId: todo.id, itemDate: todo.dueDate, message: `Todo ${todo.id} is delayed`,
});

/**
 * An owed delay notification stands while its todo is there with the same due date (the
 * same key); its workspace may have changed. One not delayed as of the run date (owed
 * from a run with a later --date) is not true yet: it stays owed rather than superseded,
 * since a todo behind the remembered position is never scanned again, and the first run
 * whose date it is delayed for sends it.
 */
export function delayStanding(owed: OwedDelivery, todo: DelayedTodo | undefined, runDate: string | undefined): Standing {
  if (!todo) return { reason: 'the todo is gone' };
  if (todo.key !== owed.key) return { reason: `its due date moved to ${todo.dueDate}` };
  if (runDate !== undefined && !(todo.dueDate < runDate)) return { notYet: `it is not delayed as of ${runDate} (due ${todo.dueDate})` };
  return { notification: notificationOf(todo) };
}

/** One notification per todo past its due date; a todo whose due date moved and passed again is a new one. */
export const sendDelayNotifications = defineNotificationJob<DelayedTodo>({
  name: 'send-delay-notifications',
  description: 'Sends one notification per todo past its due date, once, however often it runs.',
  runDate: 'todos due before it are delayed',
  items: 'delayed todos',
  // No survey: its scope is every todo ever delayed, and a count of it would make every
  // run cost all of history. A run reads what changed and what is new (resume).
  readPage: async (db, { run, after, from, limit }) => {
    if (after) return getDelayedTodos(db, { runDate: run.runDate, after, limit });
    if (from) return getDelayedTodos(db, { runDate: run.runDate, after: from, limit });
    const firstNew = await getFirstNewDueDate(db, run.runDate);
    return firstNew === undefined ? [] : getDelayedTodos(db, { runDate: run.runDate, after: { from: firstNew }, limit });
  },
  resume: {
    positionOf,
    lastPosition: (db, run) => getLastDelayedPosition(db, run.runDate),
    readChanged: (db, { run, since, upTo, after, limit }) =>
      getChangedDelayedTodos(db, { runDate: run.runDate, since, upTo, after, limit }),
    positionOfDelivery: 'array[d.item_date::text, d.item_id]',
    deliveryItemChanged: (changedSince) => `exists (select 1 from todos t where t.id = ${ITEM_ID_AS_UUID}
      and ${changedSince({ xid: 't.changed_xid', time: 't.changed_at' })})`,
  },
  notificationOf,
  stillStands: async (db, owed, { runDate }) => {
    const todos = await getTodosNow(db, owed.map((delivery) => delivery.itemId));
    return new Map(owed.map((delivery) => [delivery.key, delayStanding(delivery, todos.get(delivery.itemId), runDate)]));
  },
  describe: ({ itemId, itemDate }) => ({ todoId: itemId, dueDate: itemDate }),
  itemWellFormed: ITEM_ID_IS_UUID,
  // Deleted, or its due date moved (which gives it a new key): a todo has no done state,
  // so one still there with that due date stays delayed, and its delivery is what keeps
  // it from being notified again.
  itemGone: `not exists (select 1 from todos t where t.id = ${ITEM_ID_AS_UUID} and t.due_date = d.item_date)`,
});
