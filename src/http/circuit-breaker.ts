export interface CircuitBreakerOptions {
  /** Trip after this many transient failures in a row (default 20). */
  consecutiveFailures?: number;
  /** Or when at least `failureRatio` of the last `window` requests failed (defaults 50 and 0.9). */
  window?: number;
  failureRatio?: number;
}

export interface CircuitBreaker {
  /** Records one request's result; returns true once the breaker has tripped. */
  record(succeeded: boolean): boolean;
  readonly tripped: boolean;
  /** Why it tripped, for the log. */
  readonly reason: string | undefined;
}

/**
 * Tells when the downstream looks down, so a run stops sending instead of hammering
 * it with retries that spend every item's attempts. Once tripped it stays tripped:
 * the next scheduled run is the retry.
 */
export function createCircuitBreaker(options: CircuitBreakerOptions = {}): CircuitBreaker {
  const consecutiveLimit = options.consecutiveFailures ?? 20;
  const window = options.window ?? 50;
  const failureRatio = options.failureRatio ?? 0.9;
  if (!(consecutiveLimit >= 1 && window >= 1 && failureRatio > 0 && failureRatio <= 1)) {
    throw new RangeError('circuit breaker: consecutiveFailures and window must be at least 1, failureRatio in (0, 1]');
  }
  const recent: boolean[] = [];
  let failuresInWindow = 0;
  let consecutive = 0;
  let reason: string | undefined;
  return {
    record(succeeded) {
      if (reason) return true;
      consecutive = succeeded ? 0 : consecutive + 1;
      recent.push(succeeded);
      if (!succeeded) failuresInWindow += 1;
      if (recent.length > window && recent.shift() === false) failuresInWindow -= 1;
      if (consecutive >= consecutiveLimit) {
        reason = `${consecutive} requests in a row failed`;
      } else if (recent.length >= window && failuresInWindow / recent.length >= failureRatio) {
        reason = `${failuresInWindow} of the last ${recent.length} requests failed`;
      }
      return reason !== undefined;
    },
    get tripped() {
      return reason !== undefined;
    },
    get reason() {
      return reason;
    },
  };
}
