import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ConsoleRole, ConsoleToken } from './console-config.js';

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
}

export interface AuthOptions {
  /** How long a session lasts from sign-in (default 12 hours). */
  sessionMs?: number;
  /** Sessions kept at most; the oldest go first (default 10,000). */
  maxSessions?: number;
  /** Failed sign-ins one client may make per window before it must wait (default 10 per 5 minutes). */
  maxFailures?: number;
  failureWindowMs?: number;
  now?: () => number;
}

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/**
 * The console's one source of identity: tokens checked in constant time (every known
 * token's hash compared with the presented one's, whatever matches), sessions held in
 * memory by random id, and a per-client limit on failed attempts.
 */
export function createAuthenticator(tokens: ConsoleToken[], options: AuthOptions = {}) {
  const now = options.now ?? Date.now;
  const sessionMs = options.sessionMs ?? 12 * 3_600_000;
  const maxSessions = options.maxSessions ?? 10_000;
  const maxFailures = options.maxFailures ?? 10;
  const windowMs = options.failureWindowMs ?? 5 * 60_000;
  const known = tokens.map((token) => ({ name: token.name, role: token.role, hash: digest(token.token) }));
  const sessions = new Map<string, ConsoleSession>();
  const failures = new Map<string, { count: number; since: number }>();

  return {
    /** The principal a token belongs to, or undefined. */
    authenticate(presented: string): Principal | undefined {
      const hash = digest(presented);
      let found: Principal | undefined;
      for (const entry of known) {
        if (timingSafeEqual(hash, entry.hash) && !found) found = { name: entry.name, role: entry.role };
      }
      return found;
    },
    /** Seconds `client` must wait before trying again, or 0. */
    retryAfterSeconds(client: string): number {
      const entry = failures.get(client);
      if (!entry || entry.count < maxFailures) return 0;
      const wait = entry.since + windowMs - now();
      if (wait <= 0) {
        failures.delete(client);
        return 0;
      }
      return Math.ceil(wait / 1000);
    },
    recordFailure(client: string): void {
      const entry = failures.get(client);
      if (!entry || entry.since + windowMs <= now()) failures.set(client, { count: 1, since: now() });
      else entry.count += 1;
      // A flood of clients must not grow the map without bound: forget the oldest.
      if (failures.size > 100_000) failures.delete(failures.keys().next().value as string);
    },
    startSession(principal: Principal): ConsoleSession {
      const session = { ...principal, id: randomBytes(32).toString('base64url'), csrf: randomBytes(32).toString('base64url'),
        expiresAt: now() + sessionMs };
      sessions.set(session.id, session);
      if (sessions.size > maxSessions) sessions.delete(sessions.keys().next().value as string);
      return session;
    },
    getSession(id: string | undefined): ConsoleSession | undefined {
      if (!id) return undefined;
      const session = sessions.get(id);
      if (session && session.expiresAt <= now()) {
        sessions.delete(id);
        return undefined;
      }
      return session;
    },
    endSession(id: string | undefined): void {
      if (id) sessions.delete(id);
    },
  };
}

export type Authenticator = ReturnType<typeof createAuthenticator>;

/** Compares two strings in constant time for their length (a CSRF token against the session's). */
export function sameSecret(presented: unknown, expected: string): boolean {
  return typeof presented === 'string' && timingSafeEqual(digest(presented), digest(expected));
}
