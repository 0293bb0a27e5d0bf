import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AbortRunError } from '../runner/errors.js';

const LOCK_FILE = 'sweep.pid';

/**
 * Takes the embedded database's data directory for this process, or says in one line
 * which process has it. PGlite opens a directory another process has open without a
 * word (checked with @electric-sql/pglite 0.5: both open, both write), so sweep keeps its
 * own lock file: the holder's pid, taken over when that process is gone. Returns the release.
 */
export function lockDataDir(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, LOCK_FILE);
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
          + 'stop it first (the embedded database serves one process at a time; set DATABASE_URL to share one)', { dataDir, pid: holder });
      }
      // Left by a process that died: take it over.
      rmSync(path, { force: true });
    }
  }
  throw new AbortRunError(`could not lock the embedded database in ${dataDir}`, { dataDir });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
