import { AxiosError, type CancelToken, type InternalAxiosRequestConfig } from 'axios';

/** A cancel token never settles its promise: the transport (node-transport.ts) only subscribes. */
const NEVER = new Promise<never>(() => undefined);

/**
 * A total deadline for one request: from the moment it is sent to the last byte of its
 * answer. axios' `timeout` is a socket idle timeout, restarted by every byte that
 * arrives, so an answer that trickles in a byte at a time would hold a request (and a
 * token fetch a whole workspace waits for) for as long as the service likes.
 *
 * It reaches the transport as a cancel token: node-transport.ts subscribes to it for as long as the request
 * runs, a streamed answer's body included, and unsubscribes once the request is over,
 * which stops the clock. (An AbortSignal per request would do the same, but Node 20
 * spends about 10 µs on the first listener of each new AbortSignal: 3% of what a
 * notification costs the sweep.) The caller's own signal stays `config.signal`.
 */
export function attachDeadline(config: InternalAxiosRequestConfig, timeoutMs: number): void {
  let cancel: ((reason: unknown) => void) | undefined;
  let expired: AxiosError | undefined;
  const timer = setTimeout(() => {
    expired = new AxiosError(`timeout of ${timeoutMs}ms exceeded`, AxiosError.ETIMEDOUT, config);
    cancel?.(expired);
  }, timeoutMs);
  timer.unref();
  const end = () => {
    cancel = undefined;
    clearTimeout(timer);
  };
  const token: Pick<CancelToken, 'promise' | 'reason' | 'throwIfRequested'> & Record<'subscribe' | 'unsubscribe' | 'end', unknown> = {
    promise: NEVER,
    reason: undefined,
    throwIfRequested() {
      if (expired) throw expired;
    },
    subscribe(listener: (reason: unknown) => void) {
      cancel = listener;
      if (expired) listener(expired);
    },
    unsubscribe: end,
    end,
  };
  config.cancelToken = token as unknown as CancelToken;
}

/** Stops the clock of a request that failed before the transport subscribed to its deadline. */
export function endDeadline(config: InternalAxiosRequestConfig | undefined): void {
  (config?.cancelToken as { end?: () => void } | undefined)?.end?.();
}
