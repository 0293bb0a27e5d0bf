import type { GenericAbortSignal } from 'axios';

/**
 * Every request in flight listens to the run's stop signal. An EventTarget listener per
 * request costs Node about 7 µs to add and remove; here each signal gets one listener,
 * which calls the requests registered with it.
 */
const abortWatchers = new WeakMap<GenericAbortSignal, Set<() => void>>();

export function watchAbort(signal: GenericAbortSignal, onAbort: () => void): void {
  let watchers = abortWatchers.get(signal);
  if (!watchers) {
    const registered = new Set<() => void>();
    watchers = registered;
    abortWatchers.set(signal, registered);
    signal.addEventListener?.('abort', () => {
      for (const watcher of [...registered]) watcher();
      registered.clear();
    }, { once: true });
  }
  watchers.add(onAbort);
}

export function unwatchAbort(signal: GenericAbortSignal, onAbort: () => void): void {
  abortWatchers.get(signal)?.delete(onAbort);
}
