import knexModule, { type Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { call, startTestConsole, type TestConsole } from '../support/console-server.js';
import { postgresBinDir, usePrivatePostgres } from '../support/private-postgres.js';

/** /readyz against a real server frozen mid-life (SIGSTOP on the test's own cluster): the probe's own bound, not the database's. */
describe.skipIf(inject('testDatabase').kind !== 'postgres' || !postgresBinDir())('the console\'s readiness on a frozen server', () => {
  const cluster = usePrivatePostgres();
  let db: Knex;
  let server: TestConsole;
  beforeAll(async () => {
    db = knexModule.knex({ client: 'pg', connection: cluster.server.url, pool: { min: 0, max: 2 }, log: { error: () => undefined, warn: () => undefined } });
    server = await startTestConsole(db);
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    await db?.destroy();
  });

  it('answers 503 within its 2 s while the server is frozen, and ready again once it is thawed', async () => {
    expect(await call(`${server.url}/readyz`, undefined)).toMatchObject({ status: 200, body: { status: 'ready' } });
    cluster.server.freeze();
    try {
      const started = Date.now();
      expect(await call(`${server.url}/readyz`, undefined)).toMatchObject({ status: 503 });
      expect(Date.now() - started).toBeLessThan(3_000);
      expect((await call(`${server.url}/healthz`, undefined)).status).toBe(200);
    } finally {
      cluster.server.thaw();
    }
    let ready = 0;
    for (let i = 0; i < 50 && ready !== 200; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      ready = (await call(`${server.url}/readyz`, undefined)).status;
    }
    expect(ready).toBe(200);
  }, 30_000);
});
