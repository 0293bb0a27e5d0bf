import { randomBytes } from 'node:crypto';
import { AcceptedKeys } from './accepted-keys.js';
import { defaultMockSettings } from './mock-settings.js';
import { mulberry32 } from './mulberry32.js';
import type { JournalEntry, MockEndpoint, MockRule, MockSettings, MockStats } from './mock-server.type.js';

export interface IssuedToken {
  workspaceId: string;
  /** Epoch milliseconds from which the token is refused. */
  expiresAt: number;
}

/** What rules can match a request on. */
export interface RequestFacts {
  key?: string | undefined;
  todoId?: string | undefined;
  workspaceId?: string | undefined;
}

export type RandomFault =
  | { kind: 'drop' }
  | { kind: 'error5xx'; status: 500 | 502 | 503 }
  | { kind: 'rateLimit' }
  | { kind: 'slow' };

export type JournalRecord = Omit<JournalEntry, 'seq' | 'at'>;

/** Server-side lifetime of a token answered without expires_in: what the contract tells clients to assume. */
const ttlWhenUnstatedSeconds = 60;

const error5xxStatuses = [500, 502, 503] as const;

const emptyStats = (): MockStats => ({
  tokenRequests: 0,
  tokensIssued: 0,
  notificationRequests: 0,
  accepted: 0,
  duplicates: 0,
  rejected: 0,
  injectedFaults: 0,
  dropped: 0,
  maxInFlight: 0,
});

/**
 * Everything the mock remembers between requests. Every per-request method is O(1) in the
 * number of requests seen (rules are few), so that long benchmarks stay fast.
 */
export class MockState {
  settings: MockSettings;
  readonly acceptedKeys = new AcceptedKeys();
  private readonly initialSettings: MockSettings;
  private readonly tokens = new Map<string, IssuedToken>();
  private random: () => number;
  /** Parallel to settings.rules; Infinity for a rule without `times`. */
  private ruleUsesLeft: number[];
  private entries: JournalEntry[] = [];
  private seq = 0;
  private counters = emptyStats();
  private inFlight = 0;

  /** `initial` must come from parseSettingsPatch. */
  constructor(initial: Partial<MockSettings>) {
    this.initialSettings = { ...structuredClone(defaultMockSettings), ...initial };
    this.settings = structuredClone(this.initialSettings);
    this.random = mulberry32(this.settings.seed);
    this.ruleUsesLeft = usesOf(this.settings.rules);
  }

  /** `patch` must come from parseSettingsPatch. */
  configure(patch: Partial<MockSettings>): void {
    this.settings = { ...this.settings, ...patch };
    if (patch.seed !== undefined) this.random = mulberry32(patch.seed);
    if (patch.rules !== undefined) this.ruleUsesLeft = usesOf(patch.rules);
  }

  reset(): void {
    this.settings = structuredClone(this.initialSettings);
    this.random = mulberry32(this.settings.seed);
    this.ruleUsesLeft = usesOf(this.settings.rules);
    this.tokens.clear();
    this.acceptedKeys.clear();
    this.entries = [];
    this.seq = 0;
    this.counters = emptyStats();
    // Requests still being handled will finish and count down; the bound must cover them.
    this.counters.maxInFlight = this.inFlight;
  }

  stats(): MockStats {
    return { ...this.counters };
  }

  journal(endpoint?: MockEndpoint): JournalEntry[] {
    return endpoint === undefined ? this.entries.slice() : this.entries.filter((entry) => entry.endpoint === endpoint);
  }

  countTokenRequest(): void {
    this.counters.tokenRequests += 1;
  }

  notificationStarted(): void {
    this.counters.notificationRequests += 1;
    this.inFlight += 1;
    if (this.inFlight > this.counters.maxInFlight) this.counters.maxInFlight = this.inFlight;
  }

  notificationFinished(): void {
    this.inFlight -= 1;
  }

  /** Counts the decided answer and, unless the journal is off, appends it. */
  record(entry: JournalRecord): void {
    const counters = this.counters;
    switch (entry.outcome) {
      case 'accepted': counters.accepted += 1; break;
      case 'duplicate': counters.duplicates += 1; break;
      case 'issued': counters.tokensIssued += 1; break;
      case 'injected': counters.injectedFaults += 1; break;
      case 'dropped': counters.dropped += 1; break;
      case 'rejected':
      case 'unauthorized': counters.rejected += 1; break;
    }
    if (!this.settings.journal) return;
    const journalled: JournalEntry = { seq: ++this.seq, at: new Date().toISOString(), ...entry };
    for (const field of Object.keys(journalled) as (keyof JournalEntry)[]) {
      if (journalled[field] === undefined) delete journalled[field];
    }
    this.entries.push(journalled);
  }

  issueToken(workspaceId: string): string {
    const token = `mock_${randomBytes(16).toString('hex')}`;
    const ttlSeconds = this.settings.tokenTtlSeconds ?? ttlWhenUnstatedSeconds;
    this.tokens.set(token, { workspaceId, expiresAt: Date.now() + ttlSeconds * 1000 });
    return token;
  }

  /** The token if it is known and not expired. */
  findToken(token: string): IssuedToken | undefined {
    const issued = this.tokens.get(token);
    if (issued === undefined) return undefined;
    if (Date.now() >= issued.expiresAt) {
      this.tokens.delete(token);
      return undefined;
    }
    return issued;
  }

  revokeTokens(): number {
    const count = this.tokens.size;
    this.tokens.clear();
    return count;
  }

  /** The first rule that fits the request and is not used up; using it counts one of its `times`. */
  takeRule(endpoint: MockEndpoint, facts: RequestFacts): MockRule | undefined {
    const rules = this.settings.rules;
    for (let index = 0; index < rules.length; index++) {
      const rule = rules[index];
      const usesLeft = this.ruleUsesLeft[index] ?? 0;
      if (rule === undefined || rule.endpoint !== endpoint || usesLeft <= 0 || !fits(rule, facts)) continue;
      this.ruleUsesLeft[index] = usesLeft - 1;
      return rule;
    }
    return undefined;
  }

  /**
   * One draw per notification, laid on consecutive bands (drop, 5xx, 429, slow), so each
   * rate is exact while their sum stays <= 1; beyond that, the earlier bands win.
   */
  drawFault(): RandomFault | undefined {
    const { dropRate, error5xxRate, rateLimitRate, slowRate } = this.settings;
    const draw = this.random();
    let bound = dropRate;
    if (draw < bound) return { kind: 'drop' };
    if (draw < (bound += error5xxRate)) {
      const status = error5xxStatuses[Math.floor(this.random() * error5xxStatuses.length)] ?? 500;
      return { kind: 'error5xx', status };
    }
    if (draw < (bound += rateLimitRate)) return { kind: 'rateLimit' };
    if (draw < bound + slowRate) return { kind: 'slow' };
    return undefined;
  }
}

function usesOf(rules: MockRule[]): number[] {
  return rules.map((rule) => rule.times ?? Infinity);
}

function fits(rule: MockRule, facts: RequestFacts): boolean {
  const match = rule.match;
  if (match === undefined) return true;
  return (
    (match.key === undefined || match.key === facts.key) &&
    (match.todoId === undefined || match.todoId === facts.todoId) &&
    (match.workspaceId === undefined || match.workspaceId === facts.workspaceId)
  );
}
