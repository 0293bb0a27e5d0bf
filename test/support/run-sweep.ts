import { PassThrough } from 'node:stream';
import { runCli } from '../../src/cli.js';
import type { TestDatabase } from './test-database.js';

export interface LogLine {
  level: string;
  msg: string;
  [field: string]: unknown;
}

export interface SweepRun {
  exitCode: number;
  /** Everything written to stdout: the log stream. */
  output: string;
  logs: LogLine[];
  stderr: string;
  /** The run's summary log line. */
  summary: Record<string, unknown> | undefined;
}

/** Fast retries and short timeouts, so failure paths take milliseconds. */
export const FAST_HTTP_ENV = {
  HTTP_RETRY_BASE_MS: '1',
  HTTP_RETRY_MAX_MS: '50',
  HTTP_RETRIES: '2',
  HTTP_TIMEOUT_MS: '2000',
};

/** Runs `sweep <args>` in-process, as main.ts would, capturing its logs as parsed JSON lines. */
export async function runSweep(
  args: string[],
  setup: { database: TestDatabase; servicesUrl?: string; env?: Record<string, string>; stderrIsTTY?: boolean },
): Promise<SweepRun> {
  const stdout = new PassThrough();
  const stderr = Object.assign(new PassThrough(), { isTTY: setup.stderrIsTTY ?? false });
  let output = '';
  let errorOutput = '';
  stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  stderr.on('data', (chunk: Buffer) => { errorOutput += chunk.toString(); });
  const exitCode = await runCli(args, {
    env: {
      LOG_FORMAT: 'json',
      LOG_LEVEL: 'debug',
      ...FAST_HTTP_ENV,
      ...setup.database.env,
      ...(setup.servicesUrl ? { SERVICES_URL: setup.servicesUrl } : {}),
      ...setup.env,
    },
    cwd: process.cwd(),
    stdout,
    stderr,
    database: setup.database.injected,
  });
  const logs = parseLogLines(output);
  return { exitCode, output, logs, stderr: errorOutput, summary: logs.find((line) => line.summary === true) };
}

export function parseLogLines(output: string): LogLine[] {
  return output.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as LogLine);
}
