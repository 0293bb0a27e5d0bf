import { ExitCode, type ExitCodeValue } from './exit-codes.js';

/**
 * The few errors the runner knows how to report. Each carries its exit code and the
 * context an operator needs; anything else is a bug and exits ABORTED.
 */
export class SweepError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue,
    readonly context: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A bad flag or argument: the run never started. */
export class UsageError extends SweepError {
  constructor(message: string) {
    super(message, ExitCode.USAGE);
  }
}

/** One or more bad environment variables, all named at once. */
export class ConfigError extends SweepError {
  constructor(readonly problems: string[]) {
    super(`invalid configuration: ${problems.join('; ')}`, ExitCode.USAGE);
  }
}

/** The run cannot go on: reported as one line with its context, exit 1. */
export class AbortRunError extends SweepError {
  constructor(message: string, context: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, ExitCode.ABORTED, context, options);
  }
}
