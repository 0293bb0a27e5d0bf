import { isIP } from 'node:net';
import type { DatabaseConfig } from '../configuration/config.js';
import { parseInteger } from '../configuration/config.js';
import { ConfigError } from '../runner/errors.js';

/** viewer: sees everything, changes nothing. operator: may also pause, resume and re-arm. */
export const CONSOLE_ROLES = ['viewer', 'operator'] as const;
export type ConsoleRole = (typeof CONSOLE_ROLES)[number];

export interface ConsoleToken {
  name: string;
  role: ConsoleRole;
  token: string;
}

export interface ConsoleConfig {
  host: string;
  port: number;
  tokens: ConsoleToken[];
  /**
   * No SWEEP_CONSOLE_TOKENS on the embedded database: the console makes one operator token
   * for this process, prints a sign-in link with it, and listens on 127.0.0.1 only.
   */
  oneTimeToken: boolean;
  /**
   * Which peers' X-Forwarded-For to believe (SWEEP_CONSOLE_TRUST_PROXY): false, the peer is
   * the client; a hop count; or addresses and CIDRs of the ingress. Behind an ingress
   * without it, every client shares the ingress's address, and the sign-in throttle with it.
   */
  trustProxy: false | number | string[];
}

export const DEFAULT_CONSOLE_HOST = '127.0.0.1';
export const DEFAULT_CONSOLE_PORT = 8080;
export const MIN_TOKEN_LENGTH = 24;
const NAME = /^[A-Za-z0-9._@-]{1,64}$/;

/**
 * The console's settings: flag, then environment (SWEEP_CONSOLE_PORT, SWEEP_CONSOLE_TOKENS),
 * then default. Every problem is named at once; a token is never shown, only whose it is.
 */
export function getConsoleConfig(env: Record<string, string | undefined>, flags: { host?: string; port?: string },
  database: DatabaseConfig): ConsoleConfig {
  const problems: string[] = [];
  const host = flags.host?.trim() || DEFAULT_CONSOLE_HOST;
  const rawPort = flags.port ?? env.SWEEP_CONSOLE_PORT;
  let port = DEFAULT_CONSOLE_PORT;
  if (rawPort !== undefined && rawPort.trim() !== '') {
    try {
      port = parseInteger(rawPort.trim(), 0, 65_535);
    } catch (error) {
      problems.push(`${flags.port === undefined ? 'SWEEP_CONSOLE_PORT' : '--port'} ${(error as Error).message}`);
    }
  }
  const rawTokens = env.SWEEP_CONSOLE_TOKENS?.trim() ?? '';
  let tokens: ConsoleToken[] = [];
  let oneTimeToken = false;
  if (rawTokens === '') {
    if (database.kind !== 'embedded') {
      problems.push('SWEEP_CONSOLE_TOKENS is not set: the console lets nobody in anonymously; '
        + 'set it to name:role:token entries, comma-separated (role viewer or operator, tokens of at least 24 characters)');
    } else if (host !== DEFAULT_CONSOLE_HOST) {
      problems.push(`--host ${host} needs SWEEP_CONSOLE_TOKENS: without it the console makes a one-time token `
        + `and listens on ${DEFAULT_CONSOLE_HOST} only`);
    } else {
      oneTimeToken = true;
    }
  } else {
    tokens = parseTokens(rawTokens, problems);
  }
  const trustProxy = parseTrustProxy(env.SWEEP_CONSOLE_TRUST_PROXY, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return { host, port, tokens, oneTimeToken, trustProxy };
}

/** proxy-addr's names for address ranges (fastify's trustProxy), beside addresses and CIDRs. */
const RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

function parseTrustProxy(raw: string | undefined, problems: string[]): ConsoleConfig['trustProxy'] {
  const value = raw?.trim() ?? '';
  if (value === '' || value === 'false') return false;
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    if (hops >= 1 && hops <= 10) return hops;
    problems.push(`SWEEP_CONSOLE_TRUST_PROXY ${value}: a hop count is 1 to 10`);
    return false;
  }
  const entries = value.split(',').map((entry) => entry.trim());
  const bad = entries.find((entry) => !RANGE_NAMES.has(entry) && !isAddressOrCidr(entry));
  if (bad !== undefined) {
    problems.push(`SWEEP_CONSOLE_TRUST_PROXY: '${bad.slice(0, 60)}' is not an address, a CIDR (10.0.0.0/8), loopback, linklocal `
      + 'or uniquelocal; or give a hop count (1 for one ingress)');
    return false;
  }
  return entries;
}

function isAddressOrCidr(entry: string): boolean {
  const [address = '', prefix, extra] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

function parseTokens(raw: string, problems: string[]): ConsoleToken[] {
  const tokens: ConsoleToken[] = [];
  raw.split(',').map((entry) => entry.trim()).forEach((entry, index) => {
    const where = `SWEEP_CONSOLE_TOKENS entry ${index + 1}`;
    const first = entry.indexOf(':');
    const second = first < 0 ? -1 : entry.indexOf(':', first + 1);
    if (second < 0) {
      problems.push(`${where} is not name:role:token`);
      return;
    }
    const name = entry.slice(0, first).trim();
    const role = entry.slice(first + 1, second).trim();
    const token = entry.slice(second + 1).trim();
    const who = NAME.test(name) ? `${where} (${name})` : where;
    if (!NAME.test(name)) problems.push(`${where}: the name must be 1 to 64 letters, digits or ._@-`);
    if (!(CONSOLE_ROLES as readonly string[]).includes(role)) {
      problems.push(`${who}: unknown role '${role.slice(0, 20)}', expected viewer or operator`);
    }
    if (token.length < MIN_TOKEN_LENGTH) {
      problems.push(`${who}: the token is ${token.length} characters, at least ${MIN_TOKEN_LENGTH} are needed `
        + '(e.g. openssl rand -base64 32)');
    }
    if (tokens.some((other) => other.name === name)) problems.push(`${who}: the name is used twice`);
    if (tokens.some((other) => other.token === token)) problems.push(`${who}: the token is also another entry's`);
    tokens.push({ name, role: role as ConsoleRole, token });
  });
  return tokens;
}
