import { InvalidArgumentError } from 'commander';

/**
 * Parsers for command-line values. Each returns a valid value or throws commander's
 * InvalidArgumentError with a message that completes "option '--x' argument 'y' is invalid."
 */

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A calendar date as YYYY-MM-DD; 2022-02-30 is refused, not rolled over to March. */
export function parseIsoDate(raw: string): string {
  const match = ISO_DATE.exec(raw.trim());
  if (!match) throw new InvalidArgumentError('Expected a date as YYYY-MM-DD, e.g. 2022-06-03.');
  const [, y, m, d] = match.map(Number) as [number, number, number, number];
  const date = new Date(Date.UTC(y, m - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d || y < 1) {
    throw new InvalidArgumentError(`${raw.trim()} is not a calendar date.`);
  }
  return raw.trim();
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$/i;

/**
 * An instant as ISO-8601 with its offset (2026-03-08T07:00:00Z, 2026-03-08T03:00-04:00),
 * returned in UTC: a time without an offset would be read in the host's zone.
 */
export function parseIsoInstant(raw: string): string {
  const trimmed = raw.trim();
  const time = Date.parse(trimmed);
  if (!ISO_INSTANT.test(trimmed) || Number.isNaN(time)) {
    throw new InvalidArgumentError('Expected an instant as ISO-8601 with its offset, e.g. 2026-03-08T07:00:00Z.');
  }
  return new Date(time).toISOString();
}

/**
 * A local time of day as HH:MM, 00:00 to 23:45: runs come every 15 minutes, so a digest
 * due later than 23:45 could fall due after the last run of its day, and never be sent.
 */
export function parseLocalTime(raw: string): string {
  const match = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(raw.trim());
  if (!match || raw.trim() > '23:45') {
    throw new InvalidArgumentError('Expected a local time as HH:MM from 00:00 to 23:45, e.g. 09:00 (runs come every 15 minutes: '
      + 'a later one could miss its day).');
  }
  return raw.trim();
}

/** Today's date in UTC as YYYY-MM-DD: a run's date must not depend on the host's time zone. */
export function todayUtc(now: Date = new Date()): string {
  return now.toISOString().slice(0, 10);
}

/** A parser for whole numbers within [min, max]. */
export function integerBetween(min: number, max: number): (raw: string) => number {
  return (raw: string) => {
    const trimmed = raw.trim();
    if (!/^[+]?\d+$/.test(trimmed)) throw new InvalidArgumentError(`Expected a whole number from ${min} to ${max}.`);
    const value = Number(trimmed);
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      throw new InvalidArgumentError(`Expected a whole number from ${min} to ${max}.`);
    }
    return value;
  };
}

/** A parser for numbers (decimals allowed) within [min, max]. */
export function numberBetween(min: number, max: number): (raw: string) => number {
  return (raw: string) => {
    const trimmed = raw.trim();
    const value = Number(trimmed);
    if (!/^[+]?(\d+(\.\d*)?|\.\d+)$/.test(trimmed) || value < min || value > max) {
      throw new InvalidArgumentError(`Expected a number from ${min} to ${max}.`);
    }
    return value;
  };
}
