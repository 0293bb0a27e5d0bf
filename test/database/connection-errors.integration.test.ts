import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runSweep } from '../support/run-sweep.js';
import type { TestDatabase } from '../support/test-database.js';

/**
 * A PostgreSQL server as far as a refusal goes: it answers an SSLRequest with no (or,
 * given a certificate, with yes and TLS with it), and a startup message with the
 * ErrorResponse a real server sends for a wrong password.
 */
function startRefusingServer(tls?: { cert: Buffer; key: Buffer }): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => {
    socket.on('data', (data) => {
      if (data.length === 8 && data.readInt32BE(4) === 80877103) {
        if (!tls) {
          socket.write('N');
          return;
        }
        socket.removeAllListeners('data');
        socket.write('S');
        const secure = new TLSSocket(socket, { isServer: true, cert: tls.cert, key: tls.key });
        secure.on('error', () => undefined);
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

describe('the database refusing the configured connection, or its certificate refused: exit 64, one line, no password', () => {
  let refusing: { server: Server; port: number };
  beforeAll(async () => { refusing = await startRefusingServer(); });
  afterAll(() => new Promise<void>((resolve) => { refusing.server.close(() => resolve()); }));

  it('a wrong password (28P01)', async () => {
    const run = await sweepWith(`postgres://svc:hunter2-pw@127.0.0.1:${refusing.port}/sweep`);
    expect(run.exitCode).toBe(64);
    expect(errorsOf(run)).toEqual([`cannot use the database (PostgreSQL at postgres://svc:***@127.0.0.1:${refusing.port}/sweep): `
      + 'password authentication failed for user "svc" (28P01): check the user and password in DATABASE_URL']);
    expect(run.output + run.stderr).not.toContain('hunter2-pw');
  });

  it('TLS required and refused by the server', async () => {
    const run = await sweepWith(`postgres://svc:hunter2-pw@127.0.0.1:${refusing.port}/sweep?sslmode=require`);
    expect(run.exitCode).toBe(64);
    expect(errorsOf(run)).toEqual([expect.stringMatching(
      /^cannot use the database \(.*\): The server does not support SSL connections: the server refused TLS: enable ssl on it, or drop sslmode from DATABASE_URL$/)]);
    expect(run.output + run.stderr).not.toContain('hunter2-pw');
  });

  it('a server certificate that does not verify (sslmode=verify-full, a self-signed certificate)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sweep-pg-tls-'));
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost',
        '-addext', 'subjectAltName=IP:127.0.0.1', '-days', '1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
      const tls = await startRefusingServer({ cert: readFileSync(join(dir, 'cert.pem')), key: readFileSync(join(dir, 'key.pem')) });
      try {
        const run = await sweepWith(`postgres://svc:hunter2-pw@127.0.0.1:${tls.port}/sweep?sslmode=verify-full`);
        expect(run.exitCode).toBe(64);
        expect(errorsOf(run)).toEqual([expect.stringMatching(/^cannot use the database \(.*\): .*self[- ]signed certificate.*: the server's certificate does not verify: give its CA in DATABASE_URL \(sslrootcert=…\), or fix the certificate$/)]);
        expect(run.output + run.stderr).not.toContain('hunter2-pw');
      } finally {
        await new Promise<void>((resolve) => { tls.server.close(() => resolve()); });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.runIf(inject('testDatabase').kind === 'postgres')('an unknown role (28000) and an unknown database (3D000), on the real server', async () => {
    const server = new URL((inject('testDatabase') as { adminUrl: string }).adminUrl);
    const unknownRole = new URL(server);
    unknownRole.username = 'sweep_no_such_role';
    const role = await sweepWith(unknownRole.toString());
    expect(role.exitCode).toBe(64);
    expect(errorsOf(role)).toEqual([expect.stringMatching(
      /^cannot use the database \(.*\): role "sweep_no_such_role" does not exist \(28000\): check the user in DATABASE_URL, and that pg_hba.conf lets it in from here$/)]);
    const unknownDatabase = new URL(server);
    unknownDatabase.pathname = '/sweep_no_such_database';
    const database = await sweepWith(unknownDatabase.toString());
    expect(database.exitCode).toBe(64);
    expect(errorsOf(database)).toEqual([expect.stringMatching(
      /^cannot use the database \(.*\): database "sweep_no_such_database" does not exist \(3D000\): check the database name in DATABASE_URL$/)]);
  });

  it('an unreachable database stays exit 1', async () => {
    const closed = await startRefusingServer();
    await new Promise<void>((resolve) => { closed.server.close(() => resolve()); });
    const run = await sweepWith(`postgres://svc@127.0.0.1:${closed.port}/sweep`);
    expect(run.exitCode).toBe(1);
    expect(errorsOf(run)).toEqual([expect.stringMatching(/^cannot reach the database .*ECONNREFUSED/)]);
  });
});
