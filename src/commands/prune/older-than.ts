import { InvalidArgumentError } from 'commander';

const AGE = /^(\d{1,7})([dh])$/;
const MAX_DAYS = 36_500;

/**
 * `--older-than`: an age as `<n>d` (days) or `<n>h` (hours), at least 1h, at most
 * 100 years. Returns it normalised (`090D` -> `90d`), as the run's parameters show it.
 */
export function parseOlderThan(raw: string): string {
  const match = AGE.exec(raw.trim().toLowerCase());
  if (!match) throw new InvalidArgumentError('Expected an age as <n>d (days) or <n>h (hours), e.g. 90d or 36h.');
  const normalised = `${Number(match[1])}${match[2]}`;
  const hours = hoursOf(normalised);
  if (hours < 1 || hours > MAX_DAYS * 24) throw new InvalidArgumentError(`Expected an age from 1h to ${MAX_DAYS}d.`);
  return normalised;
}

/** The age in hours of a value `parseOlderThan` accepted. */
export function hoursOf(olderThan: string): number {
  const amount = Number.parseInt(olderThan, 10);
  return olderThan.endsWith('d') ? amount * 24 : amount;
}
