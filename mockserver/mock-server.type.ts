/**
 * The mockserver plays two services of another team (contract: docs/services-contract.md):
 * the token service (POST /auth/token) and the notify service (POST /notify/notifications).
 *
 * Terminology
 * - token: an access token from POST /auth/token. It is valid for exactly one workspace
 *   (the requested scope) until it expires or is revoked.
 * - key: the Idempotency-Key of a notification. Once a key is accepted, the same key is
 *   answered 409 for as long as the server runs (or until reset).
 * - fault: an answer the real services give only when in trouble: 5xx, 429, an answer
 *   too slow to wait for, a dropped connection. Rules inject faults deterministically;
 *   the *Rate settings inject them at random, from a seeded generator.
 * - journal: the requests to the two service endpoints, in the order their answers were
 *   decided. The control endpoints (/_mock/*, /health) are not journalled.
 */

export type MockEndpoint = 'token' | 'notify';

/**
 * A deterministic fault, checked before the random ones. The first rule whose endpoint
 * and match fit the request (and whose `times` is not used up) applies; the others wait.
 */
export interface MockRule {
  endpoint: MockEndpoint;
  /**
   * Every given field must equal the request's; an omitted field matches anything.
   * notify: `workspaceId` is the presented token's workspace. token: only `workspaceId`
   * (the requested scope) can match, a rule naming `key` or `todoId` never does.
   */
  match?: { key?: string; todoId?: string; workspaceId?: string };
  /** Answer this status instead of processing the request. */
  status?: number;
  /** Body of the `status` answer. Default `{ error: 'injected' }`; a string is sent as text/plain. */
  body?: unknown;
  /** Extra headers of the `status` answer, e.g. `{ 'Retry-After': '2' }`. */
  headers?: Record<string, string>;
  /** Destroy the connection without answering. */
  drop?: boolean;
  /** Wait this long first. Alone (no status, no drop), the request is then processed normally. */
  delayMs?: number;
  /** How many matching requests the rule applies to. Default: unlimited. */
  times?: number;
}

export interface MockSettings {
  /** Default 'sweep-local'. */
  clientId: string;
  /** Default 'sweep-local-secret'. */
  clientSecret: string;
  /** `expires_in` of issued tokens. Default 300; null omits `expires_in` and the token lives 60 s. */
  tokenTtlSeconds: number | null;
  /** Delay before answering each token request. Default 0. */
  tokenLatencyMs: number;
  /** Delay before answering each notification. Default 0. */
  latencyMs: number;
  /** Share (0..1) of notifications answered 500, 502 or 503 without Retry-After. Default 0. */
  error5xxRate: number;
  /** Share (0..1) of notifications answered 429 with Retry-After. Default 0. */
  rateLimitRate: number;
  /** Value of Retry-After on random 429 answers. Default 1. */
  retryAfterSeconds: number;
  /** Share (0..1) of notifications whose connection is destroyed without an answer. Default 0. */
  dropRate: number;
  /** Share (0..1) of notifications answered 504 only after `slowMs`, so that the client times out. Default 0. */
  slowRate: number;
  /** Default 30000. */
  slowMs: number;
  /** Seed of the generator behind the random faults. Setting it restarts the sequence. Default 1. */
  seed: number;
  /** Deterministic faults. Default none. Setting them restarts their `times` counts. */
  rules: MockRule[];
  /** Keep a journal entry per request. Default true; false keeps only stats and accepted keys. */
  journal: boolean;
  /**
   * todoId -> workspaceId. A delay notification or due-soon reminder of a listed todo with
   * another workspace's token gets 403. (A digest names its workspace itself.) Default {}.
   */
  todoWorkspaces: Record<string, string>;
}

/**
 * The notifications of the contract's table, in the order of their jobs:
 * send-delay-notifications, send-due-soon-reminders, send-workspace-digests.
 */
export type NotificationKind = 'delay' | 'due-soon' | 'digest';

export type JournalOutcome =
  | 'accepted'
  | 'duplicate'
  | 'issued'
  | 'rejected'
  | 'injected'
  | 'dropped'
  | 'unauthorized';

export interface JournalEntry {
  seq: number;
  /** ISO time at which the answer was decided. */
  at: string;
  endpoint: MockEndpoint;
  status: number | 'dropped';
  /** token: the requested scope's workspace; notify: the presented token's workspace, if the token is known. */
  workspaceId?: string;
  /** token: the issued access_token; notify: the bearer presented. */
  token?: string;
  /** The raw Authorization header as received. */
  authorization?: string;
  /** The W3C traceparent header, when the client sent one (a traced run). */
  traceparent?: string;
  key?: string;
  message?: string;
  /**
   * notify: which notification the message is, by its form: 'delay' `Todo <todoId> is delayed`,
   * 'due-soon' `Todo <todoId> is due on <dueDate>`, 'digest' `Workspace <workspaceId> has <n>
   * delayed todos`. Absent for a message of any other form, and then so are the fields below.
   */
  kind?: NotificationKind;
  /** notify, 'delay' and 'due-soon': the todo the message names. */
  todoId?: string;
  /** notify, 'due-soon': the due date the message names (YYYY-MM-DD). */
  dueDate?: string;
  /** notify, 'digest': the workspace the message names; not to be confused with `workspaceId`, the token's. */
  digestWorkspaceId?: string;
  /** notify, 'digest': the message's n, the workspace's count of delayed todos. */
  delayedCount?: number;
  outcome: JournalOutcome;
}

export interface MockStats {
  tokenRequests: number;
  tokensIssued: number;
  notificationRequests: number;
  accepted: number;
  duplicates: number;
  /** Answers 400, 401, 403, 413, 415, 422 of either endpoint. */
  rejected: number;
  /** Answers decided by a rule's status or a random fault (5xx, 429, slow 504). */
  injectedFaults: number;
  /** Connections destroyed without an answer, by a rule or at random. */
  dropped: number;
  /** Highest number of notification requests handled at the same time. */
  maxInFlight: number;
}

export interface MockServer {
  /** e.g. http://127.0.0.1:40123 */
  url: string;
  port: number;
  journal(): JournalEntry[];
  stats(): MockStats;
  /** The settings in force. */
  settings(): MockSettings;
  /** Changes some settings; throws MockSettingsError naming every bad one. */
  configure(patch: Partial<MockSettings>): void;
  /** Clears journal, accepted keys, tokens and stats, and restores the settings given at start. */
  reset(): void;
  /** Every token issued so far is answered 401 from now on. */
  revokeTokens(): void;
  /** Stops listening and destroys open connections, keep-alive ones included. */
  close(): Promise<void>;
}

export type MockServerOptions = Partial<MockSettings> & {
  /** Default 0: a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
};
