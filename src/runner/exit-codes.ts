/**
 * What a scheduler reads from a run. The numbers follow sysexits.h where one fits,
 * and the shell's 128+signal convention for runs stopped by a signal.
 */
export const ExitCode = {
  /** Done: every item found was sent, was already sent, or failed permanently and was recorded. */
  OK: 0,
  /** Aborted: the run could not go on (database unreachable, todos unreadable, a bug). */
  ABORTED: 1,
  /** Usage or configuration error: nothing was touched. (EX_USAGE) */
  USAGE: 64,
  /**
   * Held: the run would have sent far more than usual, so it sent nothing and asks an
   * operator first (sweep approve). The data may be wrong: a retry would hold again. (EX_DATAERR)
   */
  HELD: 65,
  /** Finished, but some items failed transiently; the next run retries them. (EX_TEMPFAIL) */
  TEMPFAIL: 75,
  /** Stopped by SIGINT (Ctrl-C). */
  INTERRUPTED: 130,
  /** Stopped by SIGTERM (e.g. Kubernetes ending the pod). */
  TERMINATED: 143,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];
