import { ITEM_ID_AS_UUID, ITEM_ID_IS_UUID } from '../../ledger/undelivered.js';
import { defineNotificationJob } from '../../sweep/notification-job.js';
import { getDelayedTodos, surveyDelayedTodos, type DelayedTodo, type DelayedTodoSurvey } from './delayed-todo.dao.js';

/** One notification per todo past its due date; a todo whose due date moved and passed again is a new one. */
export const sendDelayNotifications = defineNotificationJob<DelayedTodo, object, DelayedTodoSurvey>({
  name: 'send-delay-notifications',
  description: 'Sends one notification per todo past its due date, once, however often it runs.',
  runDate: 'todos due before it are delayed',
  items: 'delayed todos',
  survey: (db, run) => surveyDelayedTodos(db, run.runDate),
  readPage: async (db, { run, survey, after, limit }) => {
    if (!after && survey.firstNew === undefined) return [];
    return getDelayedTodos(db, { runDate: run.runDate, after, from: survey.firstNew ?? run.runDate, limit });
  },
  notificationOf: (todo) => ({
    key: todo.key, workspaceId: todo.workspaceId, itemId: todo.id, itemDate: todo.dueDate, message: `Todo ${todo.id} is delayed`,
  }),
  describe: ({ itemId, itemDate }) => ({ todoId: itemId, dueDate: itemDate }),
  // Deleted, or its due date moved (which gives it a new key): a todo has no done state,
  // so one still there with that due date stays delayed, and its delivery is what keeps
  // it from being notified again.
  itemWellFormed: ITEM_ID_IS_UUID,
  itemGone: `not exists (select 1 from todos t where t.id = ${ITEM_ID_AS_UUID} and t.due_date = d.item_date)`,
});
