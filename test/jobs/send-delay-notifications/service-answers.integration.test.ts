import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { buildDelayedTodos, buildTodo, insertTodos, keyOf } from '../../support/fixtures.js';
import { runSweep } from '../../support/run-sweep.js';
import { useTestbed } from '../../support/testbed.js';

const SEND = 'send-delay-notifications';

const testbed = useTestbed();

const sweep = (args: string[], env: Record<string, string> = {}) => runSweep(args, { database: testbed.database, servicesUrl: testbed.mock.url, env });
const deliveries = () => testbed.database.db('deliveries').select('*').orderBy('key');

describe('answers that break the contract are classified failures with context', () => {
  it('skips a workspace whose token answer is not JSON or has no access_token', async () => {
    const [html, empty, fine] = await insertTodos(testbed.database.db, buildDelayedTodos(3, 3));
    testbed.mock.configure({
      rules: [
        { endpoint: 'token', match: { workspaceId: html!.workspace_id }, status: 200, body: '<html>login</html>' },
        { endpoint: 'token', match: { workspaceId: empty!.workspace_id }, status: 200, body: { token_type: 'Bearer' } },
      ],
    });

    const run = await sweep([SEND, '--date', '2022-06-03']);

    expect(run.exitCode).toBe(75);
    expect(run.summary).toMatchObject({ sent: 1, workspacesWithoutToken: 2 });
    for (const todo of [html!, empty!]) {
      expect(run.logs.find((line) => line.level === 'error' && line.workspaceId === todo.workspace_id)?.reason)
        .toMatch(/answered 200 without an access_token/);
    }
    expect(testbed.mock.journal().filter((entry) => entry.endpoint === 'notify').map((entry) => entry.key)).toEqual([keyOf(fine!)]);
  });

  it('refuses a token answer larger than allowed', async () => {
    const [todo] = await insertTodos(testbed.database.db, [buildTodo()]);
    testbed.mock.configure({ rules: [{ endpoint: 'token', status: 200, body: 'x'.repeat(2 * 1024 * 1024) }] });

    const run = await sweep([SEND, '--date', '2022-06-03']);

    expect(run.logs.find((line) => line.level === 'error' && line.workspaceId === todo!.workspace_id)?.reason)
      .toMatch(/larger than allowed/);
    expect(run.summary).toMatchObject({ sent: 0, skippedWithoutToken: 1 });
  });

  it('never follows a redirect, so the Authorization header cannot travel to another host', async () => {
    let stolen = 0;
    const elsewhere: Server = createServer((request, response) => {
      stolen += 1;
      response.end();
    });
    await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = elsewhere.address() as AddressInfo;
      const [todo] = await insertTodos(testbed.database.db, [buildTodo()]);
      testbed.mock.configure({ rules: [{ endpoint: 'notify', status: 307, headers: { Location: `http://127.0.0.1:${port}/collect` } }] });

      const run = await sweep([SEND, '--date', '2022-06-03']);

      expect(stolen).toBe(0);
      expect(run.summary).toMatchObject({ sent: 0, failedPermanently: 1 });
      expect(await deliveries()).toMatchObject([{ key: keyOf(todo!), status: 'failed', last_status: 307 }]);
      expect(run.logs.find((line) => line.key === keyOf(todo!) && line.level === 'warn')?.reason).toMatch(/redirect, not followed/);
    } finally {
      elsewhere.close();
    }
  });

  it('retries an answer slower than the timeout, and logs the timeout with the item', async () => {
    const [todo] = await insertTodos(testbed.database.db, [buildTodo()]);
    testbed.mock.configure({ rules: [{ endpoint: 'notify', delayMs: 1500, times: 1 }] });

    const run = await sweep([SEND, '--date', '2022-06-03'], { HTTP_TIMEOUT_MS: '200' });

    expect(run.exitCode).toBe(0);
    expect(run.summary).toMatchObject({ sent: 1 });
    expect(run.logs.find((line) => line.key === keyOf(todo!) && line.code === 'ETIMEDOUT')?.msg).toMatch(/retrying/);
  });

  it('classifies an HTML error page as a transient failure with a short reason', async () => {
    const [todo] = await insertTodos(testbed.database.db, [buildTodo()]);
    testbed.mock.configure({ rules: [{ endpoint: 'notify', status: 502, body: `<html><body>${'Bad gateway '.repeat(100)}</body></html>` }] });

    const run = await sweep([SEND, '--date', '2022-06-03']);

    expect(run.exitCode).toBe(75);
    const line = run.logs.find((entry) => entry.key === keyOf(todo!) && entry.level === 'warn');
    expect(line).toMatchObject({ status: 502, todoId: todo!.id, workspaceId: todo!.workspace_id });
    expect(String(line!.reason).length).toBeLessThan(260);
  });
});
