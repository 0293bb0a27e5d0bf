import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { AbortRunError } from '../runner/errors.js';

/** What older releases left in the directory, and what sweep still uses where the kernel offers no better lock. */
const PID_FILE = 'sweep.pid';
/** How long a contender waits for the holder to say who it is. */
const ASK_HOLDER_MS = 1_000;
/** How many times a contender asks a holder that does not answer before it gives up without its pid. */
const HOLDER_SILENT_TRIES = 10;

/**
 * Takes the embedded database's data directory for this process, or says in one line
 * which process has it. PGlite opens a directory another process has open without a
 * word (checked with @electric-sql/pglite 0.5: both open, both write, and the data
 * directory is corrupted), so sweep holds a lock of its own for as long as it has the
 * directory open. Returns the release.
 *
 * On Linux the lock is a listening socket in the kernel's abstract namespace, named after
 * the directory's real path: binding it is atomic, and the kernel frees it the moment its
 * process ends, however it ends, so nothing is ever left behind to take over. Elsewhere
 * (a developer's macOS) it is a pid file, taken over when its process is gone.
 */
export async function lockDataDir(dataDir: string): Promise<() => void> {
  mkdirSync(dataDir, { recursive: true });
  if (process.platform !== 'linux') return lockWithPidFile(dataDir);
  const name = abstractSocketName(dataDir);
  for (let attempt = 0; ; attempt += 1) {
    const server = await listen(name);
    if (server) {
      // The lock must not keep a process alive that has nothing else to do.
      server.unref();
      return () => server.close();
    }
    const holder = await askHolder(name);
    if (holder !== undefined || attempt >= HOLDER_SILENT_TRIES) {
      throw new AbortRunError(`the embedded database in ${dataDir} is in use by another sweep process`
        + `${holder ? ` (pid ${holder})` : ''}: stop it first (the embedded database serves one process at a time; `
        + 'set DATABASE_URL to share one)', { dataDir, holderPid: holder });
    }
    // No answer: the holder is between its bind and its listen (a moment in which a
    // connect is refused), or it was ending as we asked and its lock is about to be free.
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** One name per directory, whatever path leads to it (symlinks, `..`). */
export function abstractSocketName(dataDir: string): string {
  const hash = createHash('sha256').update(realpathSync(dataDir)).digest('hex').slice(0, 40);
  return `\0sweep-embedded-database-${hash}`;
}

/** A server listening on `name`, or undefined when another process holds it. */
function listen(name: string): Promise<Server | undefined> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => {
      // A contender asks who holds the directory: the answer is this process's pid.
      socket.on('error', () => undefined);
      socket.end(`${process.pid}\n`);
    });
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') resolve(undefined);
      else reject(error);
    });
    server.listen(name, () => resolve(server));
  });
}

/** The pid the holder of `name` answers with, or undefined when none answers. */
function askHolder(name: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    let answer = '';
    const socket = connect(name);
    const done = (pid: number | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(pid);
    };
    const timer = setTimeout(() => done(undefined), ASK_HOLDER_MS);
    socket.on('data', (chunk: Buffer) => { answer += chunk.toString(); });
    socket.on('end', () => {
      const pid = Number(answer.trim());
      done(Number.isInteger(pid) && pid > 0 ? pid : undefined);
    });
    socket.on('error', () => done(undefined));
  });
}

/**
 * The lock where the kernel has no abstract sockets: a file holding the holder's pid,
 * created exclusively and taken over when that process is gone. Its takeover is not
 * atomic: two processes started at the same instant over a stale file may both take it.
 */
function lockWithPidFile(dataDir: string): () => void {
  const path = join(dataDir, PID_FILE);
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      writeFileSync(path, `${process.pid}\n`, { flag: 'wx' });
      return () => {
        try {
          if (readFileSync(path, 'utf8').trim() === String(process.pid)) rmSync(path, { force: true });
        } catch {
          // already gone
        }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(readFileSync(path, 'utf8').trim());
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder)) {
        throw new AbortRunError(`the embedded database in ${dataDir} is in use by another sweep process (pid ${holder}): `
          + `stop it first, or, if pid ${holder} is not a sweep, remove ${path} (the embedded database serves one process at a time; `
          + 'set DATABASE_URL to share one)', { dataDir, holderPid: holder });
      }
      rmSync(path, { force: true });
    }
  }
  throw new AbortRunError(`could not lock the embedded database in ${dataDir}: remove ${path} if no sweep process is running`, { dataDir });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
