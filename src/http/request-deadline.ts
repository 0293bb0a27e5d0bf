/**
 * A total deadline for one request: from the moment it is sent to the last byte of its
 * answer. axios' `timeout` is a socket idle timeout, restarted by every byte that
 * arrives, so an answer that trickles in a byte at a time would hold a request (and a
 * token fetch a whole workspace waits for) for as long as the service likes.
 */
export interface Deadline {
  /** Aborted at the deadline, or when the caller's own signal aborts. */
  readonly signal: AbortSignal;
  /** Whether the deadline, not the caller, ended the request. */
  readonly timedOut: boolean;
  /** Stops the clock and lets go of the caller's signal: call it once the request is over. */
  end(): void;
}

/**
 * One controller and one timer per request, both released by end(). (AbortSignal.any
 * would do the same, but keeps a reference from the run's long-lived signal to each of
 * the millions of requests of a big sweep until they are collected.)
 */
export function startDeadline(timeoutMs: number, callerSignal?: AbortSignal): Deadline {
  const controller = new AbortController();
  let timedOut = false;
  const onCallerAbort = () => controller.abort(callerSignal?.reason);
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new Error(`no complete answer within ${timeoutMs} ms`));
  }, timeoutMs);
  timer.unref();
  if (callerSignal?.aborted) onCallerAbort();
  else callerSignal?.addEventListener('abort', onCallerAbort, { once: true });
  return {
    signal: controller.signal,
    get timedOut() {
      return timedOut;
    },
    end() {
      clearTimeout(timer);
      callerSignal?.removeEventListener('abort', onCallerAbort);
    },
  };
}
