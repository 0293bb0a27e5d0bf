import { UTC_TODAY } from '../../database/utc-today.js';
import { ITEM_ID_AS_UUID, ITEM_ID_IS_UUID } from '../../ledger/undelivered.js';
import { defineNotificationJob, type Notification, type OwedDelivery, type Standing } from '../../sweep/notification-job.js';
import { getDueSoonTodos, getRemindedTodosNow, surveyDueSoonTodos, type DueSoonTodo } from './due-soon-todo.dao.js';

const notificationOf = (todo: DueSoonTodo): Notification => ({
  key: todo.key, workspaceId: todo.workspaceId, itemId: todo.id, itemDate: todo.dueDate,
  message: `Todo ${todo.id} is due on ${todo.dueDate}`,
});

/**
 * An owed reminder stands while its todo is there, due on the same day (the same key),
 * and that day is not before the run date: a reminder after the day would come too
 * late. Its workspace may have changed.
 */
export function reminderStanding(owed: OwedDelivery, todo: DueSoonTodo | undefined, runDate: string | undefined): Standing {
  if (!todo) return { reason: 'the todo is gone' };
  if (todo.key !== owed.key) return { reason: `its due date moved to ${todo.dueDate}` };
  if (runDate !== undefined && todo.dueDate < runDate) return { reason: `its due date ${todo.dueDate} is before the run date ${runDate}` };
  return { notification: notificationOf(todo) };
}

/** One reminder per todo due on the day after the run date; a todo whose due date moved gets one for its new day. */
export const sendDueSoonReminders = defineNotificationJob<DueSoonTodo>({
  name: 'send-due-soon-reminders',
  description: 'Sends one reminder per todo due on the day after the run date, once, however often it runs.',
  runDate: 'todos due on the day after it are reminded',
  items: 'todos due the next day',
  owedDaysBefore: 1,
  survey: (db, run) => surveyDueSoonTodos(db, run.runDate),
  readPage: (db, { run, after, limit }) => getDueSoonTodos(db, { runDate: run.runDate, afterId: after?.id, limit }),
  notificationOf,
  stillStands: async (db, owed, { runDate }) => {
    const todos = await getRemindedTodosNow(db, owed.map((delivery) => delivery.itemId));
    return new Map(owed.map((delivery) => [delivery.key, reminderStanding(delivery, todos.get(delivery.itemId), runDate)]));
  },
  describe: ({ itemId, itemDate }) => ({ todoId: itemId, dueDate: itemDate }),
  // Deleted, or moved to another day (a new key), or its due date has come (a UTC day, as
  // run dates are): only a run dated the day before scopes a reminder, so no scheduled run
  // asks for it again.
  itemWellFormed: ITEM_ID_IS_UUID,
  itemGone: `d.item_date <= ${UTC_TODAY} or not exists (select 1 from todos t where t.id = ${ITEM_ID_AS_UUID} and t.due_date = d.item_date)`,
});
