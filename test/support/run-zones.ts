import type { Knex } from 'knex';
import { readRunZones, type RunZones, type ZoneClock } from '../../src/sweep/local-due-times.js';

const dayAfter = (date: string, days: number) => new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);

/**
 * A run's zones as a backfill of `date` computes them (every zone alike, whatever the
 * hour), for the pure standing rules: UTC and the given zones known, `unknown` not.
 */
export function zonesOn(date: string, options: { zones?: string[]; unknown?: string[]; defaultZone?: string } = {}): RunZones {
  const clock = (zone: string): ZoneClock => ({ zone, localDate: date, lastEnded: dayAfter(date, -1), remindUpTo: dayAfter(date, 1), remindAfter: date,
    digestFrom: date });
  const names = ['UTC', ...(options.zones ?? [])];
  return { at: undefined, date, defaultZone: options.defaultZone ?? 'UTC', clocks: new Map(names.map((zone) => [zone, clock(zone)])),
    unknown: options.unknown ?? [], endedEverywhere: dayAfter(date, -1) };
}

/** The zones of a run as of `asOf` on a real database, as the engine reads them. */
export const readZones = (db: Knex, asOf: { date: string } | { at: string }, options: { localTime?: string; defaultZone?: string } = {}) =>
  readRunZones(db, { asOf, defaultZone: options.defaultZone ?? 'UTC', localTime: options.localTime ?? '00:00' });
