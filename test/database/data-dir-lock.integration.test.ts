import { fork, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lockDataDir } from '../../src/database/data-dir-lock.js';
import { createEmbeddedDataDir } from '../support/test-database.js';

type Answer = { round: number; won?: boolean; released?: boolean; reason?: string };

/**
 * Processes that contend for one embedded data directory at the same instant, hundreds
 * of times, some right after its holder was killed: never two hold it at once (two
 * PGlite processes on one directory corrupt it), and a killed holder never leaves it taken.
 */
describe('the embedded database\'s lock between processes', () => {
  const data = createEmbeddedDataDir();
  const workers: ChildProcess[] = [];
  const answers = new Map<ChildProcess, Answer[]>();

  const startWorker = async (): Promise<ChildProcess> => {
    const child = fork('test/support/lock-worker.ts', [data.dir], { execArgv: ['--import', 'tsx'], stdio: 'ignore' } as never);
    answers.set(child, []);
    await new Promise<void>((resolve) => child.once('message', () => resolve()));
    child.on('message', (message: Answer) => answers.get(child)!.push(message));
    return child;
  };
  const answerOf = async (child: ChildProcess, round: number, field: 'won' | 'released'): Promise<Answer> => {
    for (let waited = 0; waited < 10_000; waited += 2) {
      const answer = answers.get(child)!.find((a) => a.round === round && a[field] !== undefined);
      if (answer) return answer;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    throw new Error(`no answer for round ${round}`);
  };
  /** Both workers try at once; returns the winners. */
  const contend = async (round: number): Promise<ChildProcess[]> => {
    for (const worker of workers) worker.send({ op: 'try', round });
    const results = await Promise.all(workers.map((worker) => answerOf(worker, round, 'won')));
    const winners = workers.filter((_, i) => results[i]!.won);
    // Given back before anything is asserted: one failed round must not fail the next ones.
    for (const winner of winners) {
      winner.send({ op: 'release', round });
      await answerOf(winner, round, 'released');
    }
    for (const result of results) if (!result.won) expect(result.reason).toMatch(/in use by another sweep process \(pid \d+\)/);
    return winners;
  };

  beforeAll(async () => {
    workers.push(await startWorker(), await startWorker());
  }, 60_000);
  afterAll(() => {
    for (const worker of workers) worker.kill('SIGKILL');
    data.remove();
  });

  it('is held by exactly one of two processes that take it at the same instant, 300 times over', async () => {
    let wins = 0;
    for (let round = 0; round < 300; round += 1) {
      const winners = await contend(round);
      expect(winners.length).toBe(1);
      wins += winners.length;
    }
    expect(wins).toBe(300);
  }, 120_000);

  it('is free the moment its holder is killed, and then held by exactly one contender', async () => {
    for (let round = 1000; round < 1040; round += 1) {
      const holder = await startWorker();
      holder.send({ op: 'try', round });
      expect((await answerOf(holder, round, 'won')).won).toBe(true);
      // While the holder lives, neither contender gets it; once it is killed (no chance to
      // release anything), exactly one does.
      await expect(lockDataDir(data.dir)).rejects.toThrow(new RegExp(`pid ${holder.pid}`));
      const killed = new Promise((resolve) => holder.once('exit', resolve));
      holder.kill('SIGKILL');
      await killed;
      expect((await contend(round)).length).toBe(1);
    }
  }, 120_000);
});
