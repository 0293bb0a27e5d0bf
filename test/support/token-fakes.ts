import { createTokenCache, type IssuedToken, type TokenCacheOptions } from '../../src/http/token-cache.js';

export interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A manual clock: time moves only when the test says so. */
export function createClock(start = Date.parse('2022-06-03T10:00:00Z')) {
  let time = start;
  return {
    now: () => time,
    advance: (ms: number) => {
      time += ms;
    },
  };
}

/**
 * A fake token endpoint: answers `ws-<workspace>-<n>` for the n-th fetch of a workspace,
 * with the lifetime given per workspace (default 300 s), and records every call.
 */
export function createFakeTokens(lifetimes: Record<string, number> = {}) {
  const calls: string[] = [];
  const fetchToken = async (workspaceId: string): Promise<IssuedToken> => {
    calls.push(workspaceId);
    const n = calls.filter((id) => id === workspaceId).length;
    return { accessToken: `${workspaceId}-${n}`, expiresInMs: lifetimes[workspaceId] ?? 300_000 };
  };
  return { calls, fetchToken };
}

export function cacheWith(overrides: Partial<TokenCacheOptions> & Pick<TokenCacheOptions, 'fetchToken'>) {
  return createTokenCache({ now: createClock().now, ...overrides });
}
