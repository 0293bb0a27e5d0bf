import { ServiceError } from './service-error.js';

export interface IssuedToken {
  accessToken: string;
  /** Lifetime from the moment it was issued. */
  expiresInMs: number;
}

export interface TokenCacheOptions {
  /** Fetches a workspace's token; `signal` aborts once no caller waits for it any more. */
  fetchToken: (workspaceId: string, signal: AbortSignal) => Promise<IssuedToken>;
  /** Refresh this long before expiry, at most; a tenth of a short lifetime otherwise (default 30 s). */
  refreshBeforeMs?: number;
  /**
   * A token is used at least this long (less a tenth), whatever lifetime it came with, and
   * a token that replaced a refused one is not replaced again sooner (default 20 s): a
   * service that issues tokens already expired, or refuses every token it issues, costs
   * a few fetches a minute per workspace, not one per notification.
   */
  minLifetimeMs?: number;
  /** Workspaces kept at most; the least recently used is dropped first (default 10,000). */
  maxEntries?: number;
  now?: () => number;
}

export interface TokenCache {
  /**
   * The workspace's token: cached, or fetched once for all concurrent callers. A caller
   * whose `signal` aborts stops waiting at once (an AbortError); the fetch goes on for
   * the others, and is cancelled when none is left.
   */
  get(workspaceId: string, signal?: AbortSignal): Promise<string>;
  /** Drops the workspace's token if it is still `refusedToken`, after a 401. */
  invalidate(workspaceId: string, refusedToken: string): void;
  /** How many fetches were started: one per workspace and lifetime is the goal. */
  readonly fetches: number;
  readonly size: number;
}

interface Entry {
  promise: Promise<string>;
  token?: string;
  /** Set once the fetch settled: the moment to stop using the token. */
  refreshAt?: number;
  /** Until the fetch settles: cancels it. */
  controller: AbortController;
  /** Callers waiting for the fetch with a signal; Infinity once one waits without. */
  waiting: number;
  /** When the fetch settled. */
  settledAt?: number;
  /** Refused (401) and due for one refresh. */
  refused?: boolean;
  /** Fetched to replace a refused token. */
  replacesRefused: boolean;
}

/**
 * One OAuth token per workspace. The in-flight promise is cached before it is awaited,
 * so a page of 500 todos of one workspace costs one token request. A permanent refusal
 * stays cached too: the workspace is out for this run, and hammering /auth/token once
 * per todo would not change that. A transient failure is forgotten, so the next
 * caller tries again.
 */
export function createTokenCache(options: TokenCacheOptions): TokenCache {
  const now = options.now ?? Date.now;
  const refreshBeforeMs = options.refreshBeforeMs ?? 30_000;
  const minLifetimeMs = options.minLifetimeMs ?? 20_000;
  const maxEntries = options.maxEntries ?? 10_000;
  const entries = new Map<string, Entry>();
  let fetches = 0;

  const fetchFresh = (workspaceId: string): Entry => {
    fetches += 1;
    const entry: Entry = {
      promise: Promise.resolve(''), controller: new AbortController(), waiting: 0,
      replacesRefused: entries.get(workspaceId)?.refused === true,
    };
    entry.promise = options.fetchToken(workspaceId, entry.controller.signal).then(
      (issued) => {
        const lifetime = Math.max(issued.expiresInMs, minLifetimeMs);
        entry.token = issued.accessToken;
        entry.settledAt = now();
        entry.refreshAt = entry.settledAt + lifetime - Math.min(refreshBeforeMs, lifetime / 10);
        return issued.accessToken;
      },
      (error: unknown) => {
        const permanent = error instanceof ServiceError && error.kind !== 'transient';
        if (permanent) entry.refreshAt = Number.POSITIVE_INFINITY;
        else if (entries.get(workspaceId) === entry) entries.delete(workspaceId);
        throw error;
      },
    );
    // Callers that never await (an invalidated entry) must not crash the process.
    entry.promise.catch(() => undefined);
    // Delete first: a refreshed workspace moves to the back of the eviction order.
    entries.delete(workspaceId);
    entries.set(workspaceId, entry);
    if (entries.size > maxEntries) entries.delete(entries.keys().next().value as string);
    return entry;
  };

  /**
   * A caller's wait for a fetch in flight. The fetch is shared, so no single caller's
   * signal may cancel it: it is cancelled when the last waiting caller has given up (at
   * SIGTERM's grace, every caller holds the run's signal, so all of them give up
   * together), and forgotten at once, so a later caller starts afresh.
   */
  const wait = (workspaceId: string, entry: Entry, signal: AbortSignal | undefined): Promise<string> => {
    if (entry.refreshAt !== undefined) return entry.promise;
    if (!signal) {
      entry.waiting = Number.POSITIVE_INFINITY;
      return entry.promise;
    }
    if (signal.aborted) return Promise.reject(abortError(signal));
    entry.waiting += 1;
    return new Promise<string>((resolve, reject) => {
      const onAbort = () => {
        entry.waiting -= 1;
        if (entry.waiting === 0 && entry.refreshAt === undefined) {
          if (entries.get(workspaceId) === entry) entries.delete(workspaceId);
          entry.controller.abort(new Error('no caller waits for this token any more'));
        }
        reject(abortError(signal));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      entry.promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  };

  return {
    get(workspaceId, signal) {
      const entry = entries.get(workspaceId);
      if (entry && (entry.refreshAt === undefined || now() < entry.refreshAt)) {
        // Move to the back: the map's order is the LRU order.
        entries.delete(workspaceId);
        entries.set(workspaceId, entry);
        return wait(workspaceId, entry, signal);
      }
      if (signal?.aborted) return Promise.reject(abortError(signal));
      return wait(workspaceId, fetchFresh(workspaceId), signal);
    },
    invalidate(workspaceId, refusedToken) {
      const entry = entries.get(workspaceId);
      // Concurrent 401s for the same old token cause one refresh, not one each.
      if (!entry || entry.token !== refusedToken || entry.refused) return;
      // A fresh replacement refused again: a third token would fare no better, soon.
      if (entry.replacesRefused && now() - (entry.settledAt ?? 0) < minLifetimeMs) return;
      entry.refused = true;
      entry.refreshAt = 0;
    },
    get fetches() {
      return fetches;
    },
    get size() {
      return entries.size;
    },
  };
}

function abortError(signal: AbortSignal): Error {
  return Object.assign(new Error(`stopped waiting for the token: ${String(signal.reason)}`), { name: 'AbortError', cause: signal.reason });
}
