import { describe, expect, it } from 'vitest';
import {
  delayNotificationKey,
  delayNotificationMessage,
  JOB_NAME,
} from '../../../src/jobs/send-delay-notifications/notification-key.js';
import type { DelayedTodo } from '../../../src/jobs/send-delay-notifications/delayed-todo.type.js';

const todo = (overrides: Partial<DelayedTodo> = {}): DelayedTodo => ({
  id: '7f3c1c2e-5d0a-4b8e-9a51-0c3f2b9d6e11',
  workspaceId: 'ws-1',
  dueDate: '2022-06-01',
  ...overrides,
});

describe('delayNotificationKey', () => {
  it('is send-delay-notifications:<todoId>:<dueDate>', () => {
    expect(delayNotificationKey(todo())).toBe('send-delay-notifications:7f3c1c2e-5d0a-4b8e-9a51-0c3f2b9d6e11:2022-06-01');
  });

  it('starts with the job name', () => {
    expect(JOB_NAME).toBe('send-delay-notifications');
    expect(delayNotificationKey(todo({ id: '42' }))).toBe(`${JOB_NAME}:42:2022-06-01`);
  });

  it('is the same for the same todo and due date, whatever its workspace field says', () => {
    expect(delayNotificationKey(todo({ workspaceId: 'ws-1' }))).toBe(delayNotificationKey(todo({ workspaceId: 'ws-2' })));
  });

  it('changes when the due date moved, so a todo that is late again is notified again', () => {
    expect(delayNotificationKey(todo({ dueDate: '2022-06-01' }))).not.toBe(delayNotificationKey(todo({ dueDate: '2022-06-08' })));
  });

  it('differs between todos with the same due date', () => {
    expect(delayNotificationKey(todo({ id: 'a' }))).not.toBe(delayNotificationKey(todo({ id: 'b' })));
  });
});

describe('delayNotificationMessage', () => {
  it('is "Todo <todoId> is delayed"', () => {
    expect(delayNotificationMessage(todo({ id: '42' }))).toBe('Todo 42 is delayed');
    expect(delayNotificationMessage(todo())).toBe('Todo 7f3c1c2e-5d0a-4b8e-9a51-0c3f2b9d6e11 is delayed');
  });
});
