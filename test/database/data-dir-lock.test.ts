import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { lockDataDir } from '../../src/database/data-dir-lock.js';
import { createEmbeddedDataDir } from '../support/test-database.js';

describe('lockDataDir', () => {
  const dirs: Array<{ remove: () => void }> = [];
  const releases: Array<() => void> = [];
  afterEach(() => {
    for (const release of releases.splice(0)) release();
    for (const dir of dirs.splice(0)) dir.remove();
  });
  const dataDir = () => {
    const made = createEmbeddedDataDir();
    dirs.push(made);
    return made.dir;
  };

  it('takes the directory, refuses it to a second taker in one line naming the holder, and gives it back', async () => {
    const dir = dataDir();
    const release = await lockDataDir(dir);
    await expect(lockDataDir(dir)).rejects.toThrow(`the embedded database in ${dir} is in use by another sweep process (pid ${process.pid}): stop it first`);
    release();
    releases.push(await lockDataDir(dir));
  });

  it('is one lock whatever path names the directory', async () => {
    const dir = dataDir();
    releases.push(await lockDataDir(dir));
    await expect(lockDataDir(join(dir, '..', dir.split('/').pop()!))).rejects.toThrow(/in use by another sweep process/);
  });

  it.runIf(process.platform === 'linux')('ignores a pid file left by an older release, even one whose pid is alive', async () => {
    const dir = dataDir();
    writeFileSync(join(dir, 'sweep.pid'), `${process.ppid}\n`);
    releases.push(await lockDataDir(dir));
  });
});
