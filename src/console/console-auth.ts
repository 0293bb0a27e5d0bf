import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ConsoleRole, ConsoleToken } from './console-config.js';
import { createFailureThrottle } from './failure-throttle.js';

/** Who a request acts for: a token's name and role, never the token. */
export interface Principal {
  name: string;
  role: ConsoleRole;
}

export interface ConsoleSession extends Principal {
  id: string;
  /** Sent back in every form of the session's pages (session-bound CSRF token). */
  csrf: string;
  expiresAt: number;
  lastSeenAt: number;
}

export interface AuthOptions {
  /** How long a session lasts from sign-in (default 12 hours). */
  sessionMs?: number;
  /** How long a session lasts unused (default 1 hour). */
  idleMs?: number;
  /**
   * Sessions one token may hold; its own oldest goes first (default 20). Per token, so one
   * token holder signing in again and again never signs anyone else out.
   */
  maxSessionsPerToken?: number;
  /** Failed attempts one client may make per window before its failures answer 429 (default 10 per 5 minutes). */
  maxFailures?: number;
  failureWindowMs?: number;
  /**
   * The embedded demo's sign-in link (no SWEEP_CONSOLE_TOKENS): it signs in once, through
   * GET /login?token= only; it is no Bearer token and no token for the sign-in form.
   */
  oneTimeLink?: ConsoleToken;
  now?: () => number;
}

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/**
 * The console's one source of identity: tokens checked in constant time (every known
 * token's hash compared with the presented one's, whatever matches), sessions held in
 * memory by random id, bounded per token and ended when idle, and a count of failed
 * attempts per client that never stands in a correct token's way.
 */
export function createAuthenticator(tokens: ConsoleToken[], options: AuthOptions = {}) {
  const now = options.now ?? Date.now;
  const sessionMs = options.sessionMs ?? 12 * 3_600_000;
  const idleMs = options.idleMs ?? 3_600_000;
  const perToken = options.maxSessionsPerToken ?? 20;
  const known = tokens.map((token) => ({ name: token.name, role: token.role, hash: digest(token.token) }));
  let link = options.oneTimeLink && { name: options.oneTimeLink.name, role: options.oneTimeLink.role, hash: digest(options.oneTimeLink.token) };
  const sessions = new Map<string, ConsoleSession>();
  /** Each principal's session ids, oldest first. */
  const byName = new Map<string, string[]>();
  const throttle = createFailureThrottle({ maxFailures: options.maxFailures, windowMs: options.failureWindowMs, now });

  const drop = (session: ConsoleSession) => {
    sessions.delete(session.id);
    const ids = byName.get(session.name)?.filter((id) => id !== session.id) ?? [];
    if (ids.length === 0) byName.delete(session.name);
    else byName.set(session.name, ids);
  };

  return {
    /** The principal a configured token belongs to, or undefined (the one-time link is none of them). */
    authenticate(presented: string): Principal | undefined {
      const hash = digest(presented);
      let found: Principal | undefined;
      for (const entry of known) {
        if (timingSafeEqual(hash, entry.hash) && !found) found = { name: entry.name, role: entry.role };
      }
      return found;
    },
    /** The one-time link's principal, once: the link is spent by the first sign-in with it. */
    redeemOneTimeLink(presented: string): Principal | undefined {
      if (!link || !timingSafeEqual(digest(presented), link.hash)) return undefined;
      const principal = { name: link.name, role: link.role };
      link = undefined;
      return principal;
    },
    ...throttle,
    startSession(principal: Principal): ConsoleSession {
      const at = now();
      const session = { ...principal, id: randomBytes(32).toString('base64url'), csrf: randomBytes(32).toString('base64url'),
        expiresAt: at + sessionMs, lastSeenAt: at };
      sessions.set(session.id, session);
      const ids = [...(byName.get(principal.name) ?? []), session.id];
      while (ids.length > perToken) sessions.delete(ids.shift()!);
      byName.set(principal.name, ids);
      return session;
    },
    getSession(id: string | undefined): ConsoleSession | undefined {
      if (!id) return undefined;
      const session = sessions.get(id);
      if (!session) return undefined;
      const at = now();
      if (session.expiresAt <= at || session.lastSeenAt + idleMs <= at) {
        drop(session);
        return undefined;
      }
      session.lastSeenAt = at;
      return session;
    },
    endSession(id: string | undefined): void {
      const session = id ? sessions.get(id) : undefined;
      if (session) drop(session);
    },
    /** Sessions held now, for the tests of the bounds. */
    sessionCount(): number {
      return sessions.size;
    },
  };
}

export type Authenticator = ReturnType<typeof createAuthenticator>;

/** Compares two strings in constant time for their length (a CSRF token against the session's). */
export function sameSecret(presented: unknown, expected: string): boolean {
  return typeof presented === 'string' && timingSafeEqual(digest(presented), digest(expected));
}
