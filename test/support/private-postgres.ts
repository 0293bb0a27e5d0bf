import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll } from 'vitest';

/**
 * A PostgreSQL cluster of the test's own, on 127.0.0.1 and a free port, for what no test
 * may do to the machine's server: freeze it (SIGSTOP on the postmaster and its backends,
 * as a stalled volume or a paused VM looks to a client) and thaw it again.
 */
export interface PrivatePostgres {
  url: string;
  /** Stops every process of the cluster where it is: connections stay open, nothing answers. */
  freeze(): void;
  thaw(): void;
  /** Stops the server at once (as a crash: backends end, connections are reset); `start` brings it back. */
  crash(): void;
  start(): void;
  stop(): void;
}

/** The server's binaries (Debian's layout), or undefined where there are none. */
export function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const version = readdirSync(root).sort((a, b) => Number(b) - Number(a))[0];
  const dir = version && join(root, version, 'bin');
  return dir && existsSync(join(dir, 'initdb')) ? dir : undefined;
}

/**
 * A cluster of the file's own for its tests (read `.server` inside hooks and tests),
 * thawed after each test, so that no test leaves it frozen for the next or for the
 * file's own teardown, and stopped after the file's other teardown.
 */
export function usePrivatePostgres(): { server: PrivatePostgres } {
  const holder = {} as { server: PrivatePostgres };
  beforeAll(async () => { holder.server = await startPrivatePostgres(); }, 60_000);
  afterEach(() => holder.server?.thaw());
  afterAll(() => holder.server?.stop());
  return holder;
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = postgresBinDir();
  if (!bin) throw new Error('no PostgreSQL server binaries under /usr/lib/postgresql');
  const dir = mkdtempSync(join(tmpdir(), 'sweep-private-pg-'));
  const asRoot = userInfo().uid === 0;
  // initdb refuses to run as root: the cluster belongs to the postgres user then.
  if (asRoot) chownSync(dir, Number(execFileSync('id', ['-u', 'postgres']).toString().trim()), Number(execFileSync('id', ['-g', 'postgres']).toString().trim()));
  const run = (command: string, args: string[]) => (asRoot
    ? execFileSync('runuser', ['-u', 'postgres', '--', join(bin, command), ...args], { stdio: 'pipe' })
    : execFileSync(join(bin, command), args, { stdio: 'pipe' }));
  const data = join(dir, 'data');
  const port = await freePort();
  run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  const start = () => run('pg_ctl', ['-D', data, '-l', join(dir, 'log'), '-w', '-o',
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off`, 'start']);
  start();
  const processes = () => {
    // None while it is stopped (crash).
    if (!existsSync(join(data, 'postmaster.pid'))) return [];
    const postmaster = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return [postmaster, ...childrenOf(postmaster)];
  };
  const signalAll = (signal: NodeJS.Signals) => {
    for (const pid of processes()) {
      try {
        process.kill(pid, signal);
      } catch {
        // a backend that ended meanwhile
      }
    }
  };
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    freeze: () => signalAll('SIGSTOP'),
    thaw: () => signalAll('SIGCONT'),
    crash: () => run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']),
    start,
    stop() {
      signalAll('SIGCONT');
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** The processes whose parent is `pid`, read from /proc. */
function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The fields after the command name, which may hold spaces and parentheses: state, ppid, …
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (parent === pid) children.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return children;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
