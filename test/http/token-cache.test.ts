import { describe, expect, it } from 'vitest';
import { ServiceError } from '../../src/http/service-error.js';
import { createTokenCache, type IssuedToken } from '../../src/http/token-cache.js';
import { cacheWith, createClock, createFakeTokens, deferred } from '../support/token-fakes.js';

const TOKEN_ENDPOINT = 'POST /auth/token';

const transient = () => new ServiceError(`${TOKEN_ENDPOINT} answered 503`, 'transient', { endpoint: TOKEN_ENDPOINT, status: 503 });
const permanent = () => new ServiceError(`${TOKEN_ENDPOINT} answered 400`, 'permanent', { endpoint: TOKEN_ENDPOINT, status: 400 });

describe('createTokenCache', () => {
  it('fetches once for concurrent callers of one workspace and gives them all the token', async () => {
    const answer = deferred<IssuedToken>();
    let calls = 0;
    const cache = cacheWith({
      fetchToken: () => {
        calls += 1;
        return answer.promise;
      },
    });

    const pending = [cache.get('ws-a'), cache.get('ws-a'), cache.get('ws-a')];
    answer.resolve({ accessToken: 'tok-a', expiresInMs: 300_000 });

    expect(await Promise.all(pending)).toEqual(['tok-a', 'tok-a', 'tok-a']);
    expect(calls).toBe(1);
    expect(cache.fetches).toBe(1);
  });

  it('fetches separately for different workspaces and never hands one workspace the token of another', async () => {
    const fake = createFakeTokens();
    const cache = cacheWith({ fetchToken: fake.fetchToken });

    const [a, b, a2] = await Promise.all([cache.get('ws-a'), cache.get('ws-b'), cache.get('ws-a')]);

    expect([a, b, a2]).toEqual(['ws-a-1', 'ws-b-1', 'ws-a-1']);
    expect(fake.calls.sort()).toEqual(['ws-a', 'ws-b']);
    expect(cache.fetches).toBe(2);
    expect(cache.size).toBe(2);
  });

  it('reuses a token until refreshBeforeMs before its expiry, then fetches a new one', async () => {
    const clock = createClock();
    const fake = createFakeTokens({ 'ws-a': 300_000 });
    const cache = createTokenCache({ fetchToken: fake.fetchToken, now: clock.now, refreshBeforeMs: 20_000 });

    expect(await cache.get('ws-a')).toBe('ws-a-1');
    clock.advance(279_999);
    expect(await cache.get('ws-a')).toBe('ws-a-1');
    clock.advance(1);
    expect(await cache.get('ws-a')).toBe('ws-a-2');
    expect(cache.fetches).toBe(2);
  });

  it('refreshes 30 s before expiry by default', async () => {
    const clock = createClock();
    const fake = createFakeTokens({ 'ws-a': 3_600_000 });
    const cache = createTokenCache({ fetchToken: fake.fetchToken, now: clock.now });

    await cache.get('ws-a');
    clock.advance(3_570_000 - 1);
    expect(await cache.get('ws-a')).toBe('ws-a-1');
    clock.advance(1);
    expect(await cache.get('ws-a')).toBe('ws-a-2');
  });

  it('refreshes a short-lived token a tenth of its lifetime before expiry', async () => {
    const clock = createClock();
    const fake = createFakeTokens({ 'ws-a': 60_000 });
    const cache = createTokenCache({ fetchToken: fake.fetchToken, now: clock.now, refreshBeforeMs: 30_000 });

    await cache.get('ws-a');
    clock.advance(53_999);
    expect(await cache.get('ws-a')).toBe('ws-a-1');
    clock.advance(1);
    expect(await cache.get('ws-a')).toBe('ws-a-2');
  });

  it('drops a refused token once, so concurrent invalidations of the same old token cause one refetch', async () => {
    const fake = createFakeTokens();
    const cache = cacheWith({ fetchToken: fake.fetchToken });
    const old = await cache.get('ws-a');

    // Two sends got 401 with the same token: each invalidates, then asks again.
    cache.invalidate('ws-a', old);
    const first = cache.get('ws-a');
    cache.invalidate('ws-a', old);
    const second = cache.get('ws-a');

    expect(await Promise.all([first, second])).toEqual(['ws-a-2', 'ws-a-2']);
    expect(cache.fetches).toBe(2);
  });

  it('ignores an invalidation with a token that is no longer cached', async () => {
    const fake = createFakeTokens();
    const cache = cacheWith({ fetchToken: fake.fetchToken });
    const old = await cache.get('ws-a');
    cache.invalidate('ws-a', old);
    expect(await cache.get('ws-a')).toBe('ws-a-2');

    cache.invalidate('ws-a', old);

    expect(await cache.get('ws-a')).toBe('ws-a-2');
    expect(cache.fetches).toBe(2);
  });

  it('ignores an invalidation for another workspace', async () => {
    const fake = createFakeTokens();
    const cache = cacheWith({ fetchToken: fake.fetchToken });
    const a = await cache.get('ws-a');
    await cache.get('ws-b');

    cache.invalidate('ws-b', a);

    expect(await cache.get('ws-b')).toBe('ws-b-1');
    expect(cache.fetches).toBe(2);
  });

  it('forgets a transient failure, so the next get fetches again', async () => {
    const error = transient();
    let calls = 0;
    const cache = cacheWith({
      fetchToken: async () => {
        calls += 1;
        if (calls === 1) throw error;
        return { accessToken: 'tok-a', expiresInMs: 300_000 };
      },
    });

    await expect(cache.get('ws-a')).rejects.toBe(error);
    expect(await cache.get('ws-a')).toBe('tok-a');
    expect(calls).toBe(2);
    expect(cache.fetches).toBe(2);
  });

  it('shares one transient failure among concurrent callers', async () => {
    const answer = deferred<IssuedToken>();
    const cache = cacheWith({ fetchToken: () => answer.promise });
    const pending = [cache.get('ws-a'), cache.get('ws-a')];

    answer.reject(transient());

    const results = await Promise.allSettled(pending);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(cache.fetches).toBe(1);
  });

  it('forgets an error that is not a ServiceError, so the next get fetches again', async () => {
    let calls = 0;
    const cache = cacheWith({
      fetchToken: async () => {
        calls += 1;
        if (calls === 1) throw new TypeError('boom');
        return { accessToken: 'tok-a', expiresInMs: 300_000 };
      },
    });

    await expect(cache.get('ws-a')).rejects.toThrow('boom');
    expect(await cache.get('ws-a')).toBe('tok-a');
  });

  it('keeps a permanent refusal, so later gets fail without a second fetch', async () => {
    const error = permanent();
    let calls = 0;
    const clock = createClock();
    const cache = createTokenCache({
      now: clock.now,
      fetchToken: async () => {
        calls += 1;
        throw error;
      },
    });

    await expect(cache.get('ws-a')).rejects.toBe(error);
    clock.advance(24 * 3_600_000);
    await expect(cache.get('ws-a')).rejects.toBe(error);
    expect(calls).toBe(1);
    expect(cache.fetches).toBe(1);
  });

  it('evicts the least recently used workspace beyond maxEntries', async () => {
    const fake = createFakeTokens();
    const cache = cacheWith({ fetchToken: fake.fetchToken, maxEntries: 2 });

    await cache.get('ws-a');
    await cache.get('ws-b');
    await cache.get('ws-a'); // a is now more recent than b
    await cache.get('ws-c'); // evicts b

    expect(cache.size).toBe(2);
    expect(await cache.get('ws-a')).toBe('ws-a-1');
    expect(await cache.get('ws-c')).toBe('ws-c-1');
    expect(cache.fetches).toBe(3);
    expect(await cache.get('ws-b')).toBe('ws-b-2');
    expect(cache.fetches).toBe(4);
  });

  // Bug: a refresh after expiry calls entries.set() on a key that is still in the Map,
  // which keeps its old place in the LRU order, so the just-used workspace is evicted.
  it('counts a refresh after expiry as a use when choosing whom to evict', async () => {
    const clock = createClock();
    const fake = createFakeTokens({ 'ws-a': 100_000, 'ws-b': 1_000_000 });
    const cache = createTokenCache({ fetchToken: fake.fetchToken, now: clock.now, maxEntries: 2 });
    await cache.get('ws-a');
    await cache.get('ws-b');

    clock.advance(95_000);
    await cache.get('ws-b');
    expect(await cache.get('ws-a')).toBe('ws-a-2'); // expired: refreshed, and the most recent use
    await cache.get('ws-c'); // should evict b, the least recently used

    expect(await cache.get('ws-a')).toBe('ws-a-2');
    expect(fake.calls.filter((id) => id === 'ws-a')).toHaveLength(2);
  });

  it('counts every fetch it starts', async () => {
    const fake = createFakeTokens();
    const cache = cacheWith({ fetchToken: fake.fetchToken });
    expect(cache.fetches).toBe(0);

    await cache.get('ws-a');
    await cache.get('ws-a');
    await cache.get('ws-b');

    expect(cache.fetches).toBe(2);
    expect(cache.fetches).toBe(fake.calls.length);
  });
});
