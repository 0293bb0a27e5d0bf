import type { NotificationKind } from './mock-server.type.js';

/**
 * The three notifications of docs/services-contract.md, told apart by the form of their
 * message. The field names are those of JournalEntry, so a parse spreads into an entry.
 */
export type NotificationMessage =
  | { kind: 'delay'; todoId: string }
  | { kind: 'due-soon'; todoId: string; dueDate: string }
  | { kind: 'digest'; digestWorkspaceId: string; delayedCount: number };

const date = String.raw`\d{4}-\d{2}-\d{2}`;
const delayMessage = /^Todo (\S+) is delayed$/;
const dueSoonMessage = new RegExp(String.raw`^Todo (\S+) is due on (${date})$`);
const digestMessage = /^Workspace (\S+) has (\d+) delayed todos$/;
// Greedy, so that an id with a colon in it still leaves the date last.
const keyRest = new RegExp(String.raw`^(.+):(${date})$`);

const jobs: Record<NotificationKind, { job: string; key: string; message: string }> = {
  delay: {
    job: 'send-delay-notifications',
    key: 'send-delay-notifications:<todoId>:<dueDate>',
    message: 'Todo <todoId> is delayed',
  },
  'due-soon': {
    job: 'send-due-soon-reminders',
    key: 'send-due-soon-reminders:<todoId>:<dueDate>',
    message: 'Todo <todoId> is due on <dueDate>',
  },
  digest: {
    job: 'send-workspace-digests',
    key: 'send-workspace-digests:<workspaceId>:<runDate>',
    message: 'Workspace <workspaceId> has <n> delayed todos',
  },
};
const kinds = Object.keys(jobs) as NotificationKind[];

/** Which of the three notifications `message` is; undefined for a message of any other form. */
export function parseNotificationMessage(message: string): NotificationMessage | undefined {
  const delay = delayMessage.exec(message);
  if (delay?.[1] !== undefined) return { kind: 'delay', todoId: delay[1] };
  const dueSoon = dueSoonMessage.exec(message);
  if (dueSoon?.[1] !== undefined && dueSoon[2] !== undefined) {
    return { kind: 'due-soon', todoId: dueSoon[1], dueDate: dueSoon[2] };
  }
  const digest = digestMessage.exec(message);
  const count = Number(digest?.[2]);
  // Beyond 2^53 the journal would show another n than the one sent.
  if (digest?.[1] !== undefined && Number.isSafeInteger(count)) {
    return { kind: 'digest', digestWorkspaceId: digest[1], delayedCount: count };
  }
  return undefined;
}

/**
 * Why `key` and `message` cannot be the same notification, or undefined when they can.
 * Only keys that start with a job's name and a colon are checked: tests and tools send
 * keys of their own, and those name no notification to compare with.
 */
export function keyMismatch(key: string, message: NotificationMessage | undefined): string | undefined {
  const kind = kinds.find((candidate) => key.startsWith(`${jobs[candidate].job}:`));
  if (kind === undefined) return undefined;
  const form = jobs[kind];
  const rest = keyRest.exec(key.slice(form.job.length + 1));
  const keyItem = rest?.[1];
  const keyDate = rest?.[2];
  if (keyItem === undefined || keyDate === undefined) return `the key must be ${form.key}`;
  if (message?.kind !== kind) return `a ${form.job} key needs the message "${form.message}"`;
  const messageItem = message.kind === 'digest' ? message.digestWorkspaceId : message.todoId;
  if (keyItem !== messageItem) {
    const item = message.kind === 'digest' ? 'workspace' : 'todo';
    return `the key names ${item} ${keyItem}, the message ${item} ${messageItem}`;
  }
  if (message.kind === 'due-soon' && keyDate !== message.dueDate) {
    return `the key names due date ${keyDate}, the message ${message.dueDate}`;
  }
  return undefined;
}
