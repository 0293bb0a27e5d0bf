import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runSweep } from '../support/run-sweep.js';
import type { TestDatabase } from '../support/test-database.js';

/**
 * A PostgreSQL server as far as a refusal goes: it answers an SSLRequest with no, and a
 * startup message with the ErrorResponse a real server sends for a wrong password.
 */
function startRefusingServer(): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => {
    socket.on('data', (data) => {
      if (data.length === 8 && data.readInt32BE(4) === 80877103) {
        socket.write('N');
        return;
      }
      const fields = Buffer.from('SFATAL\0VFATAL\0C28P01\0Mpassword authentication failed for user "svc"\0\0');
      const header = Buffer.alloc(5);
      header.write('E', 0);
      header.writeInt32BE(fields.length + 4, 1);
      socket.end(Buffer.concat([header, fields]));
    });
    socket.on('error', () => undefined);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port })));
}

const sweepWith = (url: string) => runSweep(['send-delay-notifications'], { database: { env: { DATABASE_URL: url } } as unknown as TestDatabase });
const errorsOf = (run: Awaited<ReturnType<typeof sweepWith>>) => run.logs.filter((line) => line.level === 'error').map((line) => line.msg);

describe('the database refusing the configured connection: exit 64, one line, no password', () => {
  let refusing: { server: Server; port: number };
  beforeAll(async () => { refusing = await startRefusingServer(); });
  afterAll(() => new Promise<void>((resolve) => { refusing.server.close(() => resolve()); }));

  it('a wrong password (28P01)', async () => {
    const run = await sweepWith(`postgres://svc:hunter2-pw@127.0.0.1:${refusing.port}/sweep`);
    expect(run.exitCode).toBe(64);
    expect(errorsOf(run)).toEqual([`the database refused the connection (PostgreSQL at postgres://svc:***@127.0.0.1:${refusing.port}/sweep): `
      + 'password authentication failed for user "svc" (28P01): check the user and password in DATABASE_URL']);
    expect(run.output + run.stderr).not.toContain('hunter2-pw');
  });

  it('TLS required and refused by the server', async () => {
    const run = await sweepWith(`postgres://svc:hunter2-pw@127.0.0.1:${refusing.port}/sweep?sslmode=require`);
    expect(run.exitCode).toBe(64);
    expect(errorsOf(run)).toEqual([expect.stringMatching(
      /^the database refused the connection \(.*\): The server does not support SSL connections: the server refused TLS: enable ssl on it, or drop sslmode from DATABASE_URL$/)]);
    expect(run.output + run.stderr).not.toContain('hunter2-pw');
  });

  it.runIf(inject('testDatabase').kind === 'postgres')('an unknown role (28000) and an unknown database (3D000), on the real server', async () => {
    const server = new URL((inject('testDatabase') as { adminUrl: string }).adminUrl);
    const unknownRole = new URL(server);
    unknownRole.username = 'sweep_no_such_role';
    const role = await sweepWith(unknownRole.toString());
    expect(role.exitCode).toBe(64);
    expect(errorsOf(role)).toEqual([expect.stringMatching(
      /^the database refused the connection \(.*\): role "sweep_no_such_role" does not exist \(28000\): check the user in DATABASE_URL, and that pg_hba.conf lets it in from here$/)]);
    const unknownDatabase = new URL(server);
    unknownDatabase.pathname = '/sweep_no_such_database';
    const database = await sweepWith(unknownDatabase.toString());
    expect(database.exitCode).toBe(64);
    expect(errorsOf(database)).toEqual([expect.stringMatching(
      /^the database refused the connection \(.*\): database "sweep_no_such_database" does not exist \(3D000\): check the database name in DATABASE_URL$/)]);
  });

  it('an unreachable database stays exit 1', async () => {
    const closed = await startRefusingServer();
    await new Promise<void>((resolve) => { closed.server.close(() => resolve()); });
    const run = await sweepWith(`postgres://svc@127.0.0.1:${closed.port}/sweep`);
    expect(run.exitCode).toBe(1);
    expect(errorsOf(run)).toEqual([expect.stringMatching(/^cannot reach the database .*ECONNREFUSED/)]);
  });
});
