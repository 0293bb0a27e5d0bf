import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { lockDataDir } from '../../src/database/data-dir-lock.js';
import { createEmbeddedDataDir } from '../support/test-database.js';

describe('lockDataDir', () => {
  const dirs: Array<{ remove: () => void }> = [];
  afterEach(() => { for (const dir of dirs.splice(0)) dir.remove(); });
  const dataDir = () => {
    const made = createEmbeddedDataDir();
    dirs.push(made);
    return made.dir;
  };

  it('takes the directory with this pid and gives it back', () => {
    const dir = dataDir();
    const release = lockDataDir(dir);
    expect(readFileSync(join(dir, 'sweep.pid'), 'utf8').trim()).toBe(String(process.pid));
    release();
    expect(existsSync(join(dir, 'sweep.pid'))).toBe(false);
  });

  it('refuses, in one line naming the pid, a directory a live process holds', () => {
    const dir = dataDir();
    writeFileSync(join(dir, 'sweep.pid'), `${process.ppid}\n`);
    expect(() => lockDataDir(dir)).toThrow(`the embedded database in ${dir} is in use by another sweep process (pid ${process.ppid})`);
  });

  it('takes over a lock left by a process that is gone', () => {
    const dir = dataDir();
    writeFileSync(join(dir, 'sweep.pid'), '2147483646\n');
    const release = lockDataDir(dir);
    expect(readFileSync(join(dir, 'sweep.pid'), 'utf8').trim()).toBe(String(process.pid));
    release();
  });
});
