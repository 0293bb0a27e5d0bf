/** A todo whose due date is before the run date, as this job reads it. */
export interface DelayedTodo {
  id: string;
  workspaceId: string;
  /** YYYY-MM-DD, as stored: never a JS Date. */
  dueDate: string;
}

/** Where the keyset scan stands: the last (due_date, id) read. */
export interface DelayedTodoCursor {
  dueDate: string;
  id: string;
}

export interface DelayedTodoTotals {
  /** Todos due before the run date. */
  delayed: number;
  /** Of those, already notified by an earlier run. */
  alreadySent: number;
  /** Of those, refused for good or dead after their attempts: see `sweep deliveries`. */
  previouslyFailed: number;
  /**
   * The due date of the oldest delayed todo still to do (no delivery, or one neither sent
   * nor refused for good), or undefined when there is none: where the scan starts.
   */
  firstToDo: string | undefined;
}

export interface SendDelayNotificationsOptions {
  /** The run date, YYYY-MM-DD; default today (UTC). */
  date?: string;
  /** Notification requests in flight at most (default 16). */
  concurrency: number;
  /** Todos read and claimed per page (default 500). */
  pageSize: number;
  /** Show what would be sent; send and record nothing. */
  dryRun: boolean;
  /** How long a claim holds without renewal (default 120 s). */
  leaseSeconds: number;
  /** Runs that may try one notification before it is dead (default 5). */
  maxAttempts: number;
  /** Wait before a later run retries a transient failure: doubles per attempt (default 60 s). */
  retryBackoffSeconds: number;
  /** Notification requests per second at most, for this run (unset: no limit). */
  maxRate?: number;
  /** After SIGTERM or SIGINT, how long requests in flight may take to finish (default 20 s). */
  graceSeconds: number;
}
