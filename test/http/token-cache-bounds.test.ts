import { describe, expect, it } from 'vitest';
import { createTokenCache, type IssuedToken } from '../../src/http/token-cache.js';
import { cacheWith, createClock, createFakeTokens, deferred } from '../support/token-fakes.js';

/** What bounds a workspace's token fetches: who may cancel one, and how often one may happen. */
describe('createTokenCache bounds', () => {
  describe('callers that stop waiting', () => {
    /** A fetch that never answers by itself, and tells how it was asked to stop. */
    function hangingFetch() {
      const signals: AbortSignal[] = [];
      const fetchToken = (_: string, signal: AbortSignal) => {
        signals.push(signal);
        return new Promise<IssuedToken>((_resolve, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));
      };
      return { signals, fetchToken };
    }

    it('lets one caller give up without cancelling the fetch another caller still waits for', async () => {
      const answer = deferred<IssuedToken>();
      const seen: AbortSignal[] = [];
      const cache = cacheWith({ fetchToken: (_, signal) => { seen.push(signal); return answer.promise; } });
      const leaving = new AbortController();

      const first = cache.get('ws-a', leaving.signal);
      const second = cache.get('ws-a', new AbortController().signal);
      leaving.abort('SIGTERM');

      await expect(first).rejects.toMatchObject({ name: 'AbortError' });
      expect(seen[0]!.aborted).toBe(false);
      answer.resolve({ accessToken: 'tok-a', expiresInMs: 300_000 });
      expect(await second).toBe('tok-a');
      expect(cache.fetches).toBe(1);
    });

    it('cancels the fetch once no caller waits for it any more, and the next get fetches anew', async () => {
      const fake = hangingFetch();
      const cache = cacheWith({ fetchToken: fake.fetchToken });
      const stop = new AbortController();

      const waiting = [cache.get('ws-a', stop.signal), cache.get('ws-a', stop.signal)];
      stop.abort('SIGTERM');

      for (const caller of waiting) await expect(caller).rejects.toMatchObject({ name: 'AbortError' });
      expect(fake.signals[0]!.aborted).toBe(true);
      void cache.get('ws-a').catch(() => undefined);
      expect(cache.fetches).toBe(2);
      expect(fake.signals[1]!.aborted).toBe(false);
    });

    it('refuses a caller whose signal has already aborted, without starting a fetch', async () => {
      const fake = hangingFetch();
      const cache = cacheWith({ fetchToken: fake.fetchToken });
      const stop = new AbortController();
      stop.abort('SIGTERM');

      await expect(cache.get('ws-a', stop.signal)).rejects.toMatchObject({ name: 'AbortError' });
      expect(cache.fetches).toBe(0);
    });

    it('never cancels a fetch that a caller without a signal waits for', async () => {
      const answer = deferred<IssuedToken>();
      const seen: AbortSignal[] = [];
      const cache = cacheWith({ fetchToken: (_, signal) => { seen.push(signal); return answer.promise; } });
      const stop = new AbortController();

      const patient = cache.get('ws-a');
      const leaving = cache.get('ws-a', stop.signal);
      stop.abort('SIGTERM');

      await expect(leaving).rejects.toMatchObject({ name: 'AbortError' });
      expect(seen[0]!.aborted).toBe(false);
      answer.resolve({ accessToken: 'tok-a', expiresInMs: 300_000 });
      expect(await patient).toBe('tok-a');
    });
  });

  describe('a floor under every lifetime', () => {
    it('keeps a token issued already expired for minLifetimeMs (less a tenth), then fetches a new one', async () => {
      const clock = createClock();
      const fake = createFakeTokens({ 'ws-a': 0 });
      const cache = createTokenCache({ fetchToken: fake.fetchToken, now: clock.now, minLifetimeMs: 20_000 });

      expect(await cache.get('ws-a')).toBe('ws-a-1');
      expect(await cache.get('ws-a')).toBe('ws-a-1');
      clock.advance(17_999);
      expect(await cache.get('ws-a')).toBe('ws-a-1');
      clock.advance(1);
      expect(await cache.get('ws-a')).toBe('ws-a-2');
      expect(cache.fetches).toBe(2);
    });

    it('has a floor of 20 s by default', async () => {
      const clock = createClock();
      const fake = createFakeTokens({ 'ws-a': 1 });
      const cache = createTokenCache({ fetchToken: fake.fetchToken, now: clock.now });

      await cache.get('ws-a');
      clock.advance(17_999);
      expect(await cache.get('ws-a')).toBe('ws-a-1');
      clock.advance(1);
      expect(await cache.get('ws-a')).toBe('ws-a-2');
    });

    it('refreshes a refused token once, but keeps its replacement when that is refused too within the floor', async () => {
      const clock = createClock();
      const fake = createFakeTokens();
      const cache = createTokenCache({ fetchToken: fake.fetchToken, now: clock.now, minLifetimeMs: 20_000 });
      const first = await cache.get('ws-a');

      cache.invalidate('ws-a', first);
      const second = await cache.get('ws-a');
      cache.invalidate('ws-a', second);

      expect(second).toBe('ws-a-2');
      expect(await cache.get('ws-a')).toBe('ws-a-2');
      clock.advance(20_000);
      cache.invalidate('ws-a', second);
      expect(await cache.get('ws-a')).toBe('ws-a-3');
      expect(cache.fetches).toBe(3);
    });

    it('refreshes a refused token that was not itself a replacement, however young', async () => {
      const clock = createClock();
      const fake = createFakeTokens();
      const cache = createTokenCache({ fetchToken: fake.fetchToken, now: clock.now, minLifetimeMs: 20_000 });
      const first = await cache.get('ws-a');
      clock.advance(1_000);
      cache.invalidate('ws-a', await cache.get('ws-a'));
      const second = await cache.get('ws-a');
      clock.advance(25_000);
      expect(await cache.get('ws-a')).toBe(second);
      cache.invalidate('ws-a', second);

      expect(first).toBe('ws-a-1');
      expect(await cache.get('ws-a')).toBe('ws-a-3');
    });
  });
});
