import { HttpError } from './http-error.js';

/**
 * PostgreSQL cannot store or compare text holding a NUL byte (U+0000): a query with one
 * fails with "invalid byte sequence", which was a 500. Every string a request carries
 * (query, path, body) is checked before a route reads it; the 400 names the field.
 */
export function refuseNulBytes(parts: Record<string, unknown>): void {
  for (const [part, value] of Object.entries(parts)) {
    const field = nulField(value, part, 0);
    if (field !== undefined) throw new HttpError(400, `${field} holds a NUL byte (\\u0000), which no field may hold`);
  }
}

function nulField(value: unknown, path: string, depth: number): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? path : undefined;
  // The bodies are small (bodyLimit, schemas); the depth bound is for a hand-made one.
  if (value === null || typeof value !== 'object' || depth > 8) return undefined;
  for (const [name, inner] of Object.entries(value)) {
    if (name.includes('\u0000')) return `${path} (a field name)`;
    const found = nulField(inner, `${path}.${name}`, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?Z$/;

/**
 * An instant as a run cursor carries it (UTC, microseconds kept: a Date would drop them)
 * that PostgreSQL's timestamptz takes: years 1 to 9999, a day the month has.
 */
export function isCursorTimestamp(text: string): boolean {
  const match = TIMESTAMP.exec(text);
  if (!match || match[1] === '0000') return false;
  const parsed = new Date(Date.parse(`${text.slice(0, 19)}Z`));
  return !Number.isNaN(parsed.getTime()) && parsed.toISOString().slice(0, 19) === text.slice(0, 19);
}

const BIGINT_MAX = 9_223_372_036_854_775_807n;

/** A positive bigint id as text (an audit cursor's). */
export function isBigintId(text: string): boolean {
  return /^\d{1,19}$/.test(text) && BigInt(text) <= BIGINT_MAX && BigInt(text) > 0n;
}
