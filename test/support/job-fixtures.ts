import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { MockSettings } from '../../mockserver/mock-server.js';
import { buildDelayedTodos, buildTodo, insertTodos } from './fixtures.js';

/** The run date every fixture's items are in scope for. */
export const RUN_DATE = '2022-06-03';

/** One notification a job must send, exactly once. */
export interface ExpectedNotification {
  key: string;
  /** Whose token it must carry. */
  workspaceId: string;
  message: string;
}

/**
 * A notification job as the engine's reliability tests drive it: what to insert so that
 * it has `count` items, and the notifications those must become. Expected notifications
 * sorted by key are in the job's scan order (one due date, or one run date, per fixture).
 */
export interface JobFixture {
  job: string;
  /** The arguments of a run whose scope is the seeded items. */
  args: string[];
  seed(db: Knex, count: number, workspaces: number): Promise<ExpectedNotification[]>;
  /** Whether the job surveys its scope (inScope, alreadySent, previouslyFailed): not one whose scope is all of history. */
  surveyed: boolean;
  /** Settings that make the mock answer 403 to a token of another workspace for these items. */
  ownership(expected: ExpectedNotification[]): Partial<MockSettings>;
}

const todoOwnership = (expected: ExpectedNotification[]): Partial<MockSettings> => ({
  todoWorkspaces: Object.fromEntries(expected.map((n) => [n.key.split(':')[1]!, n.workspaceId])),
});

/** Todos due on `dueDate`, round-robin over `workspaces` workspaces, and what `job` sends for each. */
const todosDueOn = (job: string, dueDate: string, message: (id: string) => string): JobFixture['seed'] =>
  async (db, count, workspaces) => {
    const todos = await insertTodos(db, buildDelayedTodos(count, workspaces, dueDate));
    return todos.map((todo) => ({ key: `${job}:${todo.id}:${todo.due_date}`, workspaceId: todo.workspace_id, message: message(todo.id) }))
      .sort((a, b) => a.key.localeCompare(b.key));
  };

export const delayNotifications: JobFixture = {
  job: 'send-delay-notifications',
  args: ['--date', RUN_DATE],
  seed: todosDueOn('send-delay-notifications', '2020-01-01', (id) => `Todo ${id} is delayed`),
  surveyed: false,
  ownership: todoOwnership,
};

export const dueSoonReminders: JobFixture = {
  job: 'send-due-soon-reminders',
  args: ['--date', RUN_DATE],
  seed: todosDueOn('send-due-soon-reminders', '2022-06-04', (id) => `Todo ${id} is due on 2022-06-04`),
  surveyed: true,
  ownership: todoOwnership,
};

/** An item is a workspace: `count` workspaces, each with one to three delayed todos (`workspaces` does not apply). */
export const workspaceDigests: JobFixture = {
  job: 'send-workspace-digests',
  args: ['--date', RUN_DATE],
  async seed(db, count) {
    const expected: ExpectedNotification[] = [];
    const todos = [];
    for (let i = 0; i < count; i += 1) {
      const workspaceId = randomUUID();
      const delayed = 1 + (i % 3);
      for (let t = 0; t < delayed; t += 1) todos.push(buildTodo({ workspace_id: workspaceId, due_date: '2021-01-01' }));
      // Due on the run date itself: not delayed yet, not counted.
      todos.push(buildTodo({ workspace_id: workspaceId, due_date: RUN_DATE }));
      expected.push({ key: `send-workspace-digests:${workspaceId}:${RUN_DATE}`, workspaceId,
        message: `Workspace ${workspaceId} has ${delayed} delayed todos` });
    }
    await insertTodos(db, todos);
    return expected.sort((a, b) => a.key.localeCompare(b.key));
  },
  surveyed: true,
  // The mock answers a digest with another workspace's token 403 by itself.
  ownership: () => ({}),
};

export const JOB_FIXTURES = [delayNotifications, dueSoonReminders, workspaceDigests];
