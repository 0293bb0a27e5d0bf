import { spawn, type ChildProcess } from 'node:child_process';
import { parseLogLines, type LogLine } from './run-sweep.js';

export interface SweepProcess {
  child: ChildProcess;
  /** Log lines so far. */
  logs(): LogLine[];
  /** Resolves with the exit code (or 128 + signal number when killed). */
  exited: Promise<number>;
}

/**
 * The sweep from its TypeScript sources, as `npm run command` runs it. Not bin/sweep.js:
 * that runs dist/ whenever there is one, and a dist/ left by `npm run bench` or `npm run
 * build` would have the tests check yesterday's code. (test/build.integration.test.ts
 * checks bin/sweep.js with a fresh build.)
 */
export const SWEEP_FROM_SOURCES = ['--import', 'tsx', 'src/main.ts'];

const SIGNAL_NUMBERS: Record<string, number> = { SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

/** Starts `sweep <args>` as a real process, as a scheduler would. */
export function startSweepProcess(args: string[], env: Record<string, string>): SweepProcess {
  const child = spawn(process.execPath, [...SWEEP_FROM_SOURCES, ...args], {
    env: { PATH: process.env.PATH ?? '', LOG_FORMAT: 'json', LOG_LEVEL: 'debug', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  child.stderr!.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  const exited = new Promise<number>((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? 128 + (SIGNAL_NUMBERS[signal ?? ''] ?? 0)));
  });
  return { child, logs: () => parseLogLines(output), exited };
}

/** Polls until `condition` holds, or fails after `timeoutMs`. */
export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 20_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
