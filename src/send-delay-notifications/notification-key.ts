import type { DelayedTodo } from './delayed-todo.type.js';

export const JOB_NAME = 'send-delay-notifications';

/**
 * The Idempotency-Key of a delay notification, as the notify contract defines it:
 * the same todo with the same due date is one notification however often a run is
 * repeated; a todo whose due date moved and passed again is a new one.
 */
export function delayNotificationKey(todo: Pick<DelayedTodo, 'id' | 'dueDate'>): string {
  return `${JOB_NAME}:${todo.id}:${todo.dueDate}`;
}

export function delayNotificationMessage(todo: Pick<DelayedTodo, 'id'>): string {
  return `Todo ${todo.id} is delayed`;
}
