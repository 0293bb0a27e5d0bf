import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clockAt, dateOf, dayOf, dueInstant, localDayAt, minutesOf, segmentsOf, wallOf, type Segment } from '../support/zone-reference.js';

const FROM = Date.parse('2026-01-01T00:00:00Z');
const TO = Date.parse('2028-01-01T00:00:00Z');
const DAY = 86_400_000;
const RUN_EVERY = 15 * 60_000;
const ZONES = ['UTC', ...Intl.supportedValuesOf('timeZone')];

/**
 * Runs every 15 minutes for two years in one zone, each deciding what is due from the
 * zone table's dates (clockAt, the logic readRunZones computes in SQL), and checks each
 * notification against its definition: first sent by the first run at or after the first
 * instant its local time is read in the zone, never before, never after its day ended.
 */
function simulate(zone: string, segments: Segment[], reminderTime: string, digestTime: string): string[] {
  const problems: string[] = [];
  const [reminderMinutes, digestMinutes] = [minutesOf(reminderTime), minutesOf(digestTime)];
  const delays = new Map<number, number>();
  const reminders = new Map<number, number>();
  const digests = new Map<number, number>();
  let delayedUpTo = Number.NEGATIVE_INFINITY;
  for (let run = FROM + 2 * DAY; run < TO - 2 * DAY; run += RUN_EVERY) {
    const reminder = clockAt(segments, run, reminderMinutes);
    const digest = clockAt(segments, run, digestMinutes);
    if (reminder.lastEnded < delayedUpTo) problems.push(`${zone}: the last ended date went back at ${new Date(run).toISOString()}`);
    for (let day = Math.max(delayedUpTo + 1, reminder.lastEnded - 1); day <= reminder.lastEnded; day += 1) {
      if (!delays.has(day)) delays.set(day, run);
    }
    delayedUpTo = Math.max(delayedUpTo, reminder.lastEnded);
    for (let day = reminder.lastEnded + 1; day <= reminder.remindUpTo; day += 1) if (!reminders.has(day)) reminders.set(day, run);
    if (digest.digestFrom > digest.lastEnded && !digests.has(digest.digestFrom)) digests.set(digest.digestFrom, run);
  }
  const firstRunFrom = (instant: number) => FROM + Math.ceil((instant - FROM) / RUN_EVERY) * RUN_EVERY;
  const check = (what: string, day: number, sentAt: number | undefined, due: number, ends: number) => {
    if (sentAt === undefined) problems.push(`${zone}: ${what} ${dateOf(day)} never sent`);
    else if (sentAt !== firstRunFrom(due)) {
      problems.push(`${zone}: ${what} ${dateOf(day)} sent at ${new Date(sentAt).toISOString()}, due at ${new Date(due).toISOString()}`);
    } else if (what !== 'delay of a todo due' && sentAt >= ends) problems.push(`${zone}: ${what} ${dateOf(day)} sent after its day ended`);
  };
  for (let day = localDayAt(segments, FROM + 4 * DAY); wallOf(day) < TO - 4 * DAY; day += 1) {
    const ends = dueInstant(segments, wallOf(day + 1));
    check('delay of a todo due', day, delays.get(day), ends, ends);
    check('reminder of a todo due', day, reminders.get(day), dueInstant(segments, wallOf(day - 1, reminderMinutes)), ends);
    check('digest of', day, digests.get(day), dueInstant(segments, wallOf(day, digestMinutes)), ends);
  }
  return problems;
}

describe('local due times, by the pure reference of the zone table', () => {
  it('in every zone Intl lists, over two years of runs every 15 minutes: each delay, reminder and digest first goes out with the '
    + 'first run after it falls due, never before, each digest once per local date', () => {
    const problems: string[] = [];
    for (const zone of ZONES) problems.push(...simulate(zone, segmentsOf(zone, FROM, TO), '09:00', '08:00'));
    expect(problems).toEqual([]);
  }, 600_000);

  it('holds for any local send time in zones that are not whole hours, change by half an hour, or sit at the ends of the offsets', () => {
    const zones = ['Australia/Lord_Howe', 'Asia/Kathmandu', 'Asia/Kolkata', 'Pacific/Chatham', 'America/St_Johns', 'Pacific/Kiritimati',
      'Pacific/Pago_Pago', 'America/New_York', 'Europe/Berlin'];
    const segments = new Map(zones.map((zone) => [zone, segmentsOf(zone, FROM, TO)]));
    // --local-time goes up to 23:45: a digest due later could fall due after its day's last run.
    const time = fc.integer({ min: 0, max: 23 * 60 + 45 })
      .map((minutes) => `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`);
    fc.assert(fc.property(fc.constantFrom(...zones), time, time, (zone, reminderTime, digestTime) => {
      expect(simulate(zone, segments.get(zone)!, reminderTime, digestTime)).toEqual([]);
    }), { numRuns: 20 });
  }, 600_000);

  it('would miss a digest due after 23:45, which --local-time therefore refuses', () => {
    expect(simulate('Australia/Lord_Howe', segmentsOf('Australia/Lord_Howe', FROM, TO), '09:00', '23:46'))
      .toContain('Australia/Lord_Howe: digest of 2026-01-05 never sent');
  }, 600_000);

  it('puts a skipped local time at the end of the gap and a repeated one at its first occurrence', () => {
    const at = (zone: string, date: string, time: string) =>
      new Date(dueInstant(segmentsOf(zone, FROM, TO), wallOf(dayOf(date), minutesOf(time)))).toISOString();
    expect(at('America/New_York', '2026-03-08', '02:30')).toBe('2026-03-08T07:00:00.000Z');
    expect(at('America/New_York', '2026-11-01', '01:30')).toBe('2026-11-01T05:30:00.000Z');
    expect(at('Europe/Berlin', '2026-03-29', '02:15')).toBe('2026-03-29T01:00:00.000Z');
    expect(at('Australia/Lord_Howe', '2026-10-04', '02:15')).toBe('2026-10-03T15:30:00.000Z');
    expect(at('Australia/Lord_Howe', '2026-04-05', '01:45')).toBe('2026-04-04T14:45:00.000Z');
  });
});
