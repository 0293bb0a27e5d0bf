import { pino, type Logger, type DestinationStream } from 'pino';
import { createRequire } from 'node:module';
import type { LogFormat, LogLevel } from '../configuration/config.js';
import { traceLogFields } from '../tracing/tracing.js';
import { redactSecrets } from './secret-registry.js';

export type { Logger } from 'pino';

/**
 * Paths that may hold a credential. Our own code never logs them; redaction is the
 * net under that promise, for a context object built in a hurry or an error that
 * carries a request.
 */
const REDACTED_PATHS = [
  'authorization', '*.authorization', '*.Authorization', '*.headers.authorization', '*.headers.Authorization',
  'token', '*.token', 'accessToken', '*.accessToken', 'access_token', '*.access_token',
  'clientSecret', '*.clientSecret', 'password', '*.password',
  'err.config', 'err.request', 'err.response', 'error.config', 'error.request', 'error.response',
];

export interface LoggerOptions {
  level: LogLevel;
  format: LogFormat;
  /** Where log lines go; stdout unless a test captures them. */
  destination?: DestinationStream | NodeJS.WritableStream;
  /** Colours in pretty output; on by default when stdout is a terminal. */
  colorize?: boolean;
  /** Traces are exported: each line carries the trace_id and span_id of the span it was written in. */
  traced?: boolean;
}

/** The root logger: one JSON event a line, or pino-pretty for a person at a terminal. */
export function createLogger(options: LoggerOptions): Logger {
  const base = {
    level: options.level,
    base: { pid: process.pid },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    // The net under the net: whatever field or message a registered secret hides in.
    hooks: { streamWrite: redactSecrets },
    // Standard keys keep the lines searchable by one query across jobs.
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    // Only when traced: untraced, a line costs not even the call.
    ...(options.traced ? { mixin: traceLogFields } : {}),
  };
  if (options.format === 'pretty') {
    // Loaded for a person at a terminal only: the JSON lines a scheduled run writes never need it.
    const { prettyFactory } = createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty');
    const prettify = prettyFactory({
      colorize: options.colorize ?? Boolean(process.stdout.isTTY),
      translateTime: 'SYS:HH:MM:ss.l',
      // A person at a terminal reads the run id once, in the first lines; the table replaces the summary fields.
      ignore: 'pid,hostname,runId,summary',
      singleLine: true,
    });
    // Each line formatted and written as it comes, rather than through pino-pretty's own
    // stream: that one pipes into its destination and never lets go of it, so every run
    // in one process (the demo, the tests) left listeners on stdout.
    const destination = options.destination ?? pino.destination({ dest: 1, sync: true });
    return pino(base, { write: (line: string) => { destination.write(prettify(line)); } });
  }
  // Synchronous writes: a batch job exits right after its last line, and a line lost
  // at exit is the one an operator needed.
  return pino(base, (options.destination as DestinationStream | undefined) ?? pino.destination({ dest: 1, sync: true }));
}
