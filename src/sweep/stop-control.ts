import { setMaxListeners } from 'node:events';

/**
 * How a run stops early. Two stages, because Kubernetes sends SIGTERM and only
 * kills the pod after its grace period: first no new work starts (`stopping`), and
 * after `graceMs` the work still in flight is abandoned too (`cancelled`). A run that
 * decides to stop by itself (the downstream looks down) cancels at once.
 */
export interface StopControl {
  /** Aborted when no new work may start; its reason says why. */
  readonly stopping: AbortSignal;
  /** Aborted when work in flight must be abandoned. */
  readonly cancelled: AbortSignal;
  /** Stops at once, without a grace period. */
  cancel(reason: string): void;
  /** Stops as a signal does: no new work, and what is in flight may finish within the grace period. */
  stopGracefully(reason: string): void;
  /** Clears the grace timer; call when the run is over. */
  dispose(): void;
}

export function createStopControl(external: AbortSignal, graceMs: number, onStopping?: (reason: string) => void): StopControl {
  const stopping = new AbortController();
  const cancelled = new AbortController();
  // Every request in flight listens to `cancelled`: as many as the run's concurrency.
  setMaxListeners(0, cancelled.signal);
  let graceTimer: NodeJS.Timeout | undefined;
  const stop = (reason: string, grace: number) => {
    if (!stopping.signal.aborted) {
      stopping.abort(reason);
      onStopping?.(reason);
    }
    if (grace <= 0) cancelled.abort(reason);
    else graceTimer ??= setTimeout(() => cancelled.abort(reason), grace);
  };
  // abort() without a reason leaves a DOMException there: a signal name or nothing.
  const onExternal = () => stop(typeof external.reason === 'string' ? external.reason : 'stop requested', graceMs);
  if (external.aborted) onExternal();
  else external.addEventListener('abort', onExternal, { once: true });
  return {
    stopping: stopping.signal,
    cancelled: cancelled.signal,
    cancel: (reason) => stop(reason, 0),
    stopGracefully: (reason) => stop(reason, graceMs),
    dispose() {
      if (graceTimer) clearTimeout(graceTimer);
      external.removeEventListener('abort', onExternal);
    },
  };
}
