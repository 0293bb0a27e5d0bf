import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import type { Knex } from 'knex';
import { describe, expect, it } from 'vitest';
import { latestFallDue, readRunZones } from '../../src/sweep/local-due-times.js';
import { clockAt, dateOf, dayOf, dueInstant, segmentsOf, wallOf, type Segment } from '../support/zone-reference.js';
import { useTestDatabase } from '../support/testbed.js';

const FROM = Date.parse('2026-01-01T00:00:00Z');
const TO = Date.parse('2028-01-01T00:00:00Z');
const MINUTE = 60_000;

/** The zones the issue names, both ends of the offsets, and a seeded sample of the rest of Intl's list. */
const NAMED = ['UTC', 'America/New_York', 'Europe/Berlin', 'Australia/Lord_Howe', 'Asia/Kolkata', 'Asia/Kathmandu', 'Pacific/Kiritimati',
  'Pacific/Pago_Pago', 'Pacific/Chatham', 'America/St_Johns', 'America/Los_Angeles', 'Asia/Tokyo', 'Etc/GMT+12', 'America/Santiago',
  'Asia/Tehran', 'Europe/London', 'Australia/Adelaide'];
const SAMPLE = fc.sample(fc.constantFrom(...Intl.supportedValuesOf('timeZone')), { numRuns: 30, seed: 29 });
const ZONES = [...new Set([...NAMED, ...SAMPLE])];

/** Instants at and around each change of offset (a minute, half an hour, two hours either side), and noon on a plain day. */
function instantsAround(segments: Segment[]): number[] {
  const changes = segments.slice(1).map((segment) => segment.start).filter((start) => start < TO);
  return [Date.parse('2026-07-15T12:00:00Z'), ...changes.flatMap((change) => [-120, -30, -1, 0, 1, 30, 120]
    .map((minutes) => change + minutes * MINUTE))];
}

describe('local due times in PostgreSQL agree with the reference', () => {
  const testbed = useTestDatabase(['workspaces']);
  const db = () => testbed.database.db;

  it('sweep_zone_start gives the first instant each local time is read, through every DST change of 2026 and 2027', async () => {
    const cases: Array<{ zone: string; local: string; expected: string }> = [];
    for (const zone of ZONES) {
      const segments = segmentsOf(zone, FROM, TO);
      // Wall times on each side of and inside every gap and overlap, at minutes that matter there.
      for (const change of segments.slice(1).map((segment) => segment.start)) {
        const wallBefore = change + segments.find((s) => s.end === change)!.offset;
        for (const minutes of [-61, -60, -45, -30, -15, -1, 0, 1, 15, 30, 45, 59, 60, 61]) {
          const wall = wallBefore + minutes * MINUTE;
          cases.push({ zone, local: new Date(wall).toISOString().slice(0, 16).replace('T', ' '),
            expected: new Date(dueInstant(segments, wall)).toISOString() });
        }
      }
      cases.push({ zone, local: '2026-07-15 09:00', expected: new Date(dueInstant(segments, wallOf(dayOf('2026-07-15'), 540))).toISOString() });
    }
    const result = await db().raw<{ rows: Array<{ zone: string; local: string; due: string }> }>(
      `select v.zone, v.local, to_char(sweep_zone_start(v.local::timestamp, v.zone) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as due
         from unnest(?::text[], ?::text[]) as v(zone, local)`,
      [cases.map((c) => c.zone), cases.map((c) => c.local)] as unknown as Knex.RawBinding[]);
    const disagreements = result.rows.map((row, i) => ({ ...row, expected: cases[i]!.expected }))
      .filter((row) => row.due !== row.expected);
    expect(cases.length).toBeGreaterThan(500);
    expect(disagreements).toEqual([]);
  }, 120_000);

  it('readRunZones gives each zone\'s dates as of instants around its changes as the reference does, workspaces in every zone', async () => {
    await db()('workspaces').insert(ZONES.map((zone) => ({ id: randomUUID(), time_zone: zone })));
    const segments = new Map(ZONES.map((zone) => [zone, segmentsOf(zone, FROM, TO)]));
    const instants = [...new Set(['America/New_York', 'Europe/Berlin', 'Australia/Lord_Howe', 'Pacific/Chatham']
      .flatMap((zone) => instantsAround(segments.get(zone)!)))].sort();
    const disagreements: unknown[] = [];
    for (const instant of instants) {
      const zones = await readRunZones(db(), { asOf: { at: new Date(instant).toISOString() }, defaultZone: 'UTC', localTime: '09:00' });
      expect(zones.unknown).toEqual([]);
      for (const zone of ZONES) {
        const reference = clockAt(segments.get(zone)!, instant, 540);
        const expected = { zone, localDate: dateOf(reference.localDate), lastEnded: dateOf(reference.lastEnded),
          remindUpTo: dateOf(reference.remindUpTo), remindAfter: dateOf(reference.remindAfter), digestFrom: dateOf(reference.digestFrom) };
        const actual = zones.clocks.get(zone);
        if (JSON.stringify(actual) !== JSON.stringify(expected)) disagreements.push({ at: new Date(instant).toISOString(), actual, expected });
      }
    }
    expect(disagreements).toEqual([]);
  }, 300_000);

  it('knows a zone only by its tz database name, and says which zones it does not know', async () => {
    await db()('workspaces').insert([{ id: randomUUID(), time_zone: 'Mars/Olympus' }, { id: randomUUID(), time_zone: 'europe/berlin' },
      { id: randomUUID(), time_zone: null }, { id: randomUUID(), time_zone: 'Asia/Kathmandu' }]);
    const zones = await readRunZones(db(), { asOf: { at: '2026-12-07T18:15:00Z' }, defaultZone: 'UTC', localTime: '08:00' });
    expect([...zones.clocks.keys()]).toEqual(['Asia/Kathmandu', 'UTC']);
    expect(zones.unknown).toEqual(['Mars/Olympus', 'europe/berlin']);
    expect(zones.at).toBe('2026-12-07T18:15:00.000Z');
    // UTC-12 is on 2026-12-07 06:15: the 6th has ended everywhere.
    expect(zones.endedEverywhere).toBe('2026-12-06');
    expect(zones.clocks.get('Asia/Kathmandu')).toEqual({ zone: 'Asia/Kathmandu', localDate: '2026-12-08', lastEnded: '2026-12-07',
      remindUpTo: '2026-12-08', remindAfter: '2026-12-07', digestFrom: '2026-12-07' });
  });

  it('as a backfill of a day, gives every zone that day whatever the hour', async () => {
    await db()('workspaces').insert([{ id: randomUUID(), time_zone: 'Pacific/Kiritimati' }, { id: randomUUID(), time_zone: 'Pacific/Pago_Pago' }]);
    const zones = await readRunZones(db(), { asOf: { date: '2022-06-03' }, defaultZone: 'UTC', localTime: '09:00' });
    for (const zone of ['Pacific/Kiritimati', 'Pacific/Pago_Pago', 'UTC']) {
      expect(zones.clocks.get(zone)).toEqual({ zone, localDate: '2022-06-03', lastEnded: '2022-06-02', remindUpTo: '2022-06-04',
        remindAfter: '2022-06-03', digestFrom: '2022-06-03' });
    }
    expect(zones).toMatchObject({ at: undefined, date: '2022-06-03', endedEverywhere: '2022-06-02' });
  });

  it('says when a notification of a date fell due, the latest over the zones in use, for the backlog\'s age', async () => {
    await db()('workspaces').insert([{ id: randomUUID(), time_zone: 'Asia/Tokyo' }, { id: randomUUID(), time_zone: 'America/Los_Angeles' }]);
    const zones = await readRunZones(db(), { asOf: { at: '2026-06-12T00:00:00Z' }, defaultZone: 'UTC', localTime: '09:00' });
    // A delay of a todo due on the 10th: midnight ending it in Los Angeles (PDT), the last of the three zones.
    expect(await latestFallDue(db(), zones, '2026-06-10', { daysAfterItemDate: 1, atLocalTime: false }, '09:00'))
      .toEqual(new Date('2026-06-11T07:00:00Z'));
    // A reminder of a todo due on the 10th: 09:00 on the 9th in Los Angeles.
    expect(await latestFallDue(db(), zones, '2026-06-10', { daysAfterItemDate: -1, atLocalTime: true }, '09:00'))
      .toEqual(new Date('2026-06-09T16:00:00Z'));
  });
});
