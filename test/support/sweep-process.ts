import { spawn, type ChildProcess } from 'node:child_process';
import { parseLogLines, type LogLine } from './run-sweep.js';

export interface SweepProcess {
  child: ChildProcess;
  /** Log lines so far. */
  logs(): LogLine[];
  /** Resolves with the exit code (or 128 + signal number when killed). */
  exited: Promise<number>;
}

const SIGNAL_NUMBERS: Record<string, number> = { SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

/** Starts `sweep <args>` as a real process (bin/sweep.js), as a scheduler would. */
export function startSweepProcess(args: string[], env: Record<string, string>): SweepProcess {
  const child = spawn(process.execPath, ['bin/sweep.js', ...args], {
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
