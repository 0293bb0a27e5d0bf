/**
 * A reference for local due times, from Node's tz data (Intl) and written apart from the
 * SQL: a zone's offsets over a span as segments, and a local time's due instant as the
 * definition says it, the first instant whose wall clock reads it or later. Tests hold
 * PostgreSQL's answers (sweep_zone_start, readRunZones) to it, and the reference's own
 * runs to the contract's promises.
 */

const MINUTE = 60_000;
const DAY = 86_400_000;

/** [start, end) in UTC ms, with the zone's offset there in ms. */
export interface Segment { start: number; end: number; offset: number }

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The zone's offset at an instant, in ms, from Intl. */
export function offsetAt(zone: string, instant: number): number {
  let format = formatters.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit',
      hour: '2-digit', minute: '2-digit', second: '2-digit' });
    formatters.set(zone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(new Date(instant)).map((part) => [part.type, part.value]));
  const wall = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute),
    Number(parts.second));
  return wall - Math.floor(instant / 1000) * 1000;
}

/**
 * The zone's offsets from `from` to `to` as segments: sampled every 12 hours (no zone
 * changes twice within that), each change found to the minute by halving.
 */
export function segmentsOf(zone: string, from: number, to: number): Segment[] {
  const step = 12 * 3_600_000;
  const segments: Segment[] = [];
  let start = from;
  let offset = offsetAt(zone, from);
  for (let t = from + step; t < to + step; t += step) {
    const next = offsetAt(zone, Math.min(t, to));
    if (next === offset) continue;
    let lo = t - step;
    let hi = Math.min(t, to);
    while (hi - lo > MINUTE) {
      const mid = lo + Math.floor((hi - lo) / 2 / MINUTE) * MINUTE;
      if (offsetAt(zone, mid) === offset) lo = mid; else hi = mid;
    }
    segments.push({ start, end: hi, offset });
    start = hi;
    offset = next;
  }
  segments.push({ start, end: Number.POSITIVE_INFINITY, offset });
  return segments;
}

/** A local day as a number (days since 1970-01-01 on the wall clock), and back to YYYY-MM-DD. */
export const dayOf = (date: string) => Date.parse(`${date}T00:00:00Z`) / DAY;
export const dateOf = (day: number) => new Date(day * DAY).toISOString().slice(0, 10);
/** HH:MM as minutes. */
export const minutesOf = (time: string) => Number(time.slice(0, 2)) * 60 + Number(time.slice(3, 5));
/** A local day and minute of it as ms on the wall clock (UTC-based), for comparisons of wall times. */
export const wallOf = (day: number, minutes = 0) => day * DAY + minutes * MINUTE;

/** The segment an instant falls in. */
function segmentAt(segments: Segment[], instant: number): Segment {
  for (const segment of segments) if (instant < segment.end) return segment;
  return segments.at(-1)!;
}

/** The local day an instant falls on. */
export const localDayAt = (segments: Segment[], instant: number) => Math.floor((instant + segmentAt(segments, instant).offset) / DAY);

/** The definition: the first instant whose wall clock reads `wall` or later. */
export function dueInstant(segments: Segment[], wall: number): number {
  for (const segment of segments) {
    if (segment.end + segment.offset > wall) return Math.max(segment.start, wall - segment.offset);
  }
  throw new Error('beyond the segments');
}

/** What the run's zone table holds for a zone at an instant (local-due-times.ts), by the reference, as day numbers. */
export function clockAt(segments: Segment[], instant: number, sendMinutes: number) {
  const today = localDayAt(segments, instant);
  const tomorrowCame = dueInstant(segments, wallOf(today + 1)) <= instant;
  const sendTimeCame = dueInstant(segments, wallOf(today, sendMinutes)) <= instant;
  return {
    localDate: today,
    lastEnded: tomorrowCame ? today : today - 1,
    remindUpTo: sendTimeCame ? today + 1 : today,
    remindAfter: tomorrowCame ? today : today - 1,
    digestFrom: sendTimeCame ? today : today - 1,
  };
}
