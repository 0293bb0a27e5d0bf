import { UTC_TODAY } from '../../database/utc-today.js';
import { ITEM_ID_AS_UUID, ITEM_ID_IS_UUID } from '../../ledger/undelivered.js';
import { defineNotificationJob } from '../../sweep/notification-job.js';
import { getDueSoonTodos, surveyDueSoonTodos, type DueSoonTodo } from './due-soon-todo.dao.js';

/** One reminder per todo due on the day after the run date; a todo whose due date moved gets one for its new day. */
export const sendDueSoonReminders = defineNotificationJob<DueSoonTodo>({
  name: 'send-due-soon-reminders',
  description: 'Sends one reminder per todo due on the day after the run date, once, however often it runs.',
  runDate: 'todos due on the day after it are reminded',
  items: 'todos due the next day',
  owedDaysBefore: 1,
  survey: (db, run) => surveyDueSoonTodos(db, run.runDate),
  readPage: (db, { run, after, limit }) => getDueSoonTodos(db, { runDate: run.runDate, afterId: after?.id, limit }),
  notificationOf: (todo) => ({
    key: todo.key, workspaceId: todo.workspaceId, itemId: todo.id, itemDate: todo.dueDate,
    message: `Todo ${todo.id} is due on ${todo.dueDate}`,
  }),
  describe: ({ itemId, itemDate }) => ({ todoId: itemId, dueDate: itemDate }),
  // Deleted, or moved to another day (a new key), or its due date has come (a UTC day, as
  // run dates are): only a run dated the day before scopes a reminder, so no scheduled run
  // asks for it again.
  itemWellFormed: ITEM_ID_IS_UUID,
  itemGone: `d.item_date <= ${UTC_TODAY} or not exists (select 1 from todos t where t.id = ${ITEM_ID_AS_UUID} and t.due_date = d.item_date)`,
});
