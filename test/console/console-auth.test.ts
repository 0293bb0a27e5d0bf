import { describe, expect, it } from 'vitest';
import { createAuthenticator } from '../../src/console/console-auth.js';
import type { ConsoleToken } from '../../src/console/console-config.js';

const OPERATOR: ConsoleToken = { name: 'olivia', role: 'operator', token: 'operator-token-0123456789abcdef' };
const VIEWER: ConsoleToken = { name: 'victor', role: 'viewer', token: 'viewer-token-0123456789abcdefgh' };
const LINK: ConsoleToken = { name: 'local-operator', role: 'operator', token: 'one-time-link-0123456789abcdef' };

describe('the console\'s sessions', () => {
  it('bound the sessions per token: 10,001 sign-ins with one token sign nobody else out', () => {
    const auth = createAuthenticator([OPERATOR, VIEWER]);
    const operator = auth.startSession(auth.authenticate(OPERATOR.token)!);
    const first = auth.startSession(auth.authenticate(VIEWER.token)!);
    let last = first;
    for (let i = 0; i < 10_000; i += 1) last = auth.startSession({ name: 'victor', role: 'viewer' });

    expect(auth.getSession(operator.id)).toMatchObject({ name: 'olivia' });
    expect(auth.getSession(last.id)).toMatchObject({ name: 'victor' });
    expect(auth.getSession(first.id)).toBeUndefined();
    expect(auth.sessionCount()).toBe(21);
  });

  it('end a session left unused for the idle timeout, and any session after its lifetime, however used', () => {
    let now = 0;
    const auth = createAuthenticator([OPERATOR], { idleMs: 60_000, sessionMs: 300_000, now: () => now });
    const idle = auth.startSession({ name: 'olivia', role: 'operator' });
    const busy = auth.startSession({ name: 'olivia', role: 'operator' });
    for (now = 50_000; now < 300_000; now += 50_000) expect(auth.getSession(busy.id)).toBeDefined();
    expect(auth.getSession(idle.id)).toBeUndefined();
    now = 300_000;
    expect(auth.getSession(busy.id)).toBeUndefined();
    expect(auth.sessionCount()).toBe(0);
  });
});

describe('the one-time link', () => {
  it('signs in once, and is no token of the form or of a Bearer header', () => {
    const auth = createAuthenticator([], { oneTimeLink: LINK });
    expect(auth.authenticate(LINK.token)).toBeUndefined();
    expect(auth.redeemOneTimeLink('not-the-link-0123456789abcdefgh')).toBeUndefined();
    expect(auth.redeemOneTimeLink(LINK.token)).toEqual({ name: 'local-operator', role: 'operator' });
    expect(auth.redeemOneTimeLink(LINK.token)).toBeUndefined();
  });

  it('is not a configured token: a configured token is no link', () => {
    const auth = createAuthenticator([OPERATOR]);
    expect(auth.redeemOneTimeLink(OPERATOR.token)).toBeUndefined();
  });
});

describe('failed attempts', () => {
  it('answer 429 once a client has failed too often, for as long as the window, counted by each of its addresses', () => {
    let now = 0;
    const auth = createAuthenticator([OPERATOR], { maxFailures: 3, failureWindowMs: 60_000, now: () => now });
    for (let i = 0; i < 3; i += 1) {
      expect(auth.retryAfterSeconds(['10.0.0.1', `198.51.100.${i}`])).toBe(0);
      auth.recordFailure(['10.0.0.1', `198.51.100.${i}`]);
    }
    // A new forwarded address on the same peer: the peer's count holds it.
    expect(auth.retryAfterSeconds(['10.0.0.1', '198.51.100.99'])).toBe(60);
    expect(auth.retryAfterSeconds(['10.0.0.2', '198.51.100.0'])).toBe(0);
    now = 60_000;
    expect(auth.retryAfterSeconds(['10.0.0.1'])).toBe(0);
  });
});
