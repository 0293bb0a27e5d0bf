import { describe, expect, it } from 'vitest';
import { keyMismatch, parseNotificationMessage } from '../../mockserver/notification-message.js';

const workspace = '8f0c3f8e-5b1a-4a53-9d2e-1f6f3a0b7c11';
const otherWorkspace = '2d9e4b6a-7c3f-4e21-8a5b-6c0d1e2f3a4b';

describe('parseNotificationMessage', () => {
  it.each([
    ['a delay notification', 'Todo t-1 is delayed', { kind: 'delay', todoId: 't-1' }],
    [
      'a due-soon reminder',
      'Todo t-1 is due on 2024-05-02',
      { kind: 'due-soon', todoId: 't-1', dueDate: '2024-05-02' },
    ],
    [
      'a workspace digest',
      `Workspace ${workspace} has 12 delayed todos`,
      { kind: 'digest', digestWorkspaceId: workspace, delayedCount: 12 },
    ],
  ])('parses %s', (_case, message, expected) => {
    expect(parseNotificationMessage(message)).toEqual(expected);
  });

  it.each([
    ['another text', 'hello'],
    ['a delay notification with a trailing space', 'Todo t-1 is delayed '],
    ['a todo id with a space', 'Todo t 1 is delayed'],
    ['a reminder without a date', 'Todo t-1 is due on tomorrow'],
    ['a reminder with a short date', 'Todo t-1 is due on 2024-5-2'],
    ['a digest with a negative count', `Workspace ${workspace} has -1 delayed todos`],
    ['a digest in the singular', `Workspace ${workspace} has 1 delayed todo`],
    ['a digest whose count a number cannot hold', `Workspace ${workspace} has 99999999999999999999 delayed todos`],
  ])('finds no notification in %s', (_case, message) => {
    expect(parseNotificationMessage(message)).toBeUndefined();
  });
});

describe('keyMismatch', () => {
  const mismatch = (key: string, message: string) => keyMismatch(key, parseNotificationMessage(message));

  it.each([
    ['send-delay-notifications:t-1:2024-05-01', 'Todo t-1 is delayed'],
    ['send-due-soon-reminders:t-1:2024-05-02', 'Todo t-1 is due on 2024-05-02'],
    [`send-workspace-digests:${workspace}:2024-05-01`, `Workspace ${workspace} has 3 delayed todos`],
    ['send-delay-notifications:ns:t-1:2024-05-01', 'Todo ns:t-1 is delayed'],
  ])('finds %s and its message in agreement', (key, message) => {
    expect(mismatch(key, message)).toBeUndefined();
  });

  it.each([
    [
      'another todo, delay',
      'send-delay-notifications:t-2:2024-05-01',
      'Todo t-1 is delayed',
      'the key names todo t-2, the message todo t-1',
    ],
    [
      'another todo, reminder',
      'send-due-soon-reminders:t-2:2024-05-02',
      'Todo t-1 is due on 2024-05-02',
      'the key names todo t-2, the message todo t-1',
    ],
    [
      'another due date',
      'send-due-soon-reminders:t-1:2024-05-03',
      'Todo t-1 is due on 2024-05-02',
      'the key names due date 2024-05-03, the message 2024-05-02',
    ],
    [
      'another workspace',
      `send-workspace-digests:${otherWorkspace}:2024-05-01`,
      `Workspace ${workspace} has 3 delayed todos`,
      `the key names workspace ${otherWorkspace}, the message workspace ${workspace}`,
    ],
    [
      'another kind',
      'send-delay-notifications:t-1:2024-05-01',
      'Todo t-1 is due on 2024-05-01',
      'a send-delay-notifications key needs the message "Todo <todoId> is delayed"',
    ],
    [
      'a message of no kind',
      `send-workspace-digests:${workspace}:2024-05-01`,
      'hello',
      'a send-workspace-digests key needs the message "Workspace <workspaceId> has <n> delayed todos"',
    ],
    [
      'a key without its date',
      'send-due-soon-reminders:t-1',
      'Todo t-1 is due on 2024-05-02',
      'the key must be send-due-soon-reminders:<todoId>:<dueDate>',
    ],
    [
      'a key of the prefix alone',
      'send-delay-notifications:',
      'Todo t-1 is delayed',
      'the key must be send-delay-notifications:<todoId>:<dueDate>',
    ],
  ])('explains %s', (_case, key, message, reason) => {
    expect(mismatch(key, message)).toBe(reason);
  });

  it.each([
    ['an arbitrary key', 'k-1'],
    ['a key of another job', 'send-weekly-reports:t-1:2024-05-01'],
    ['a job name without its colon', 'send-delay-notifications-replay:t-2:2024-05-01'],
  ])('does not check %s', (_case, key) => {
    expect(mismatch(key, 'Todo t-1 is delayed')).toBeUndefined();
    expect(mismatch(key, 'hello')).toBeUndefined();
  });
});
