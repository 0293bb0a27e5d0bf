import { ITEM_ID_AS_UUID, ITEM_ID_IS_UUID } from '../../ledger/undelivered.js';
import { clockOf, ENDED_EVERYWHERE_SQL, zoneOf, type RunZones } from '../../sweep/local-due-times.js';
import { defineNotificationJob, type Notification, type OwedDelivery, type Standing } from '../../sweep/notification-job.js';
import { getDueSoonTodos, getRemindedTodosNow, surveyDueSoonTodos, type DueSoonTodo, type RemindedTodo } from './due-soon-todo.dao.js';

const notificationOf = (todo: DueSoonTodo): Notification => ({
  key: todo.key, workspaceId: todo.workspaceId, itemId: todo.id, itemDate: todo.dueDate,
  message: `Todo ${todo.id} is due on ${todo.dueDate}`,
});

/**
 * An owed reminder stands while its todo is there, due on the same day (the same key),
 * and that day has not ended in its workspace's zone: a reminder after the day would
 * come too late. Its workspace may have changed. One whose send time has not come yet in
 * its zone (its workspace moved west), or whose zone PostgreSQL does not know, is not
 * due yet and stays owed.
 */
export function reminderStanding(owed: OwedDelivery, todo: RemindedTodo | undefined, zones: RunZones | undefined): Standing {
  if (!todo) return { reason: 'the todo is gone' };
  if (todo.key !== owed.key) return { reason: `its due date moved to ${todo.dueDate}` };
  if (zones) {
    const zone = zoneOf(zones, todo.timeZone);
    const clock = clockOf(zones, zone);
    if (!clock) return { notYet: `its workspace's time zone ${JSON.stringify(zone)} cannot be judged by this run` };
    if (todo.dueDate <= clock.lastEnded) return { reason: `its due date ${todo.dueDate} has ended in ${zone} (${clock.localDate} there)` };
    if (todo.dueDate > clock.remindUpTo) return { notYet: `its reminder has not fallen due yet in ${zone} (${clock.localDate} there)` };
  }
  return { notification: notificationOf(todo) };
}

/** One reminder per todo due on the day after the run date; a todo whose due date moved gets one for its new day. */
export const sendDueSoonReminders = defineNotificationJob<DueSoonTodo>({
  name: 'send-due-soon-reminders',
  description: 'Sends one reminder per todo due the next day, from the local send time on the day before in its workspace\'s zone, once.',
  runDate: 'todos due on the day after it are reminded',
  items: 'todos due the next day',
  fallsDue: { daysAfterItemDate: -1, atLocalTime: true },
  owedDaysBefore: 1,
  localTime: '09:00',
  survey: (db, run) => surveyDueSoonTodos(db, run.zones),
  readPage: (db, { run, after, limit }) => getDueSoonTodos(db, { zones: run.zones, after, limit }),
  notificationOf,
  stillStands: async (db, owed, { zones }) => {
    const todos = await getRemindedTodosNow(db, owed.map((delivery) => delivery.itemId));
    return new Map(owed.map((delivery) => [delivery.key, reminderStanding(delivery, todos.get(delivery.itemId), zones)]));
  },
  describe: ({ itemId, itemDate }) => ({ todoId: itemId, dueDate: itemDate }),
  // Deleted, or moved to another day (a new key), or its due date has ended in every zone
  // on earth: no scheduled run, in whatever zone its workspace is by then, asks for it again.
  itemWellFormed: ITEM_ID_IS_UUID,
  itemGone: `d.item_date <= ${ENDED_EVERYWHERE_SQL} or not exists (select 1 from todos t where t.id = ${ITEM_ID_AS_UUID} and t.due_date = d.item_date)`,
});
