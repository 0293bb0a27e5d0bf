import type { Knex } from 'knex';

/**
 * Where local time becomes dates a run can compare, and the only place: every workspace's
 * zone is turned, once at the run's start, into the local dates that decide what is due
 * (`ZoneClock`), by PostgreSQL and its tz database (sweep_zone_start, migration
 * 20261207100000_workspaces), never by Node's. A due date, a digest's day, a key's date
 * stay local dates (YYYY-MM-DD text); the run's instant stays an instant.
 */

/** What a run is as of: an instant (`--at`, or the database's clock), or a backfill of a local day everywhere (`--date`). */
export type AsOf = { at?: string } | { date: string };

/** One zone as of the run's instant, every date YYYY-MM-DD and local to the zone. */
export interface ZoneClock {
  zone: string;
  /** The local date at the run's instant. */
  localDate: string;
  /** The last local date that has ended: todos due on or before it are delayed. */
  lastEnded: string;
  /** The latest due date whose reminder has fallen due (its day before, at the local send time). */
  remindUpTo: string;
  /**
   * The due dates a scan for reminders starts after: the last ended date; for a backfill
   * of D, D itself, since it scopes the reminders of the day after D only.
   */
  remindAfter: string;
  /** The latest local date whose digest has fallen due (at the local send time on that date). */
  digestFrom: string;
}

export interface RunZones {
  /** The instant the run is as of (ISO), or undefined for a backfill of `date`. */
  at: string | undefined;
  date: string | undefined;
  defaultZone: string;
  /** Every zone in use (the workspaces' and the default), that PostgreSQL knows, by name. */
  clocks: ReadonlyMap<string, ZoneClock>;
  /** The zones in use that PostgreSQL does not know: their workspaces are skipped and owed. */
  unknown: string[];
  /** The last date that has ended in every zone on earth: a scan that resumes never settles past it. */
  endedEverywhere: string;
}

/** The zone a workspace is in: its row's, or the default for no row or a null zone. */
export const zoneOf = (zones: RunZones, timeZone: string | null | undefined): string => timeZone ?? zones.defaultZone;

/**
 * The due dates of `zone` as of the run, or undefined for one it cannot judge: unknown to
 * PostgreSQL, or given to a workspace after the run started (the next run judges it).
 */
export const clockOf = (zones: RunZones, zone: string): ZoneClock | undefined => zones.clocks.get(zone);

/**
 * The last date that has ended everywhere by the database's clock now, as SQL: the local
 * date in UTC-12 (the zone furthest behind; Etc/GMT+12 is UTC-12) less a day. For prune,
 * which must not forget what a zone still running that day may still send.
 */
export const ENDED_EVERYWHERE_SQL = `((now() at time zone 'Etc/GMT+12')::date - 1)`;

type ClockRow = { zone: string; known: boolean; local_date: string | null; last_ended: string | null;
  remind_up_to: string | null; remind_after: string | null; digest_from: string | null };

/**
 * Reads the zones in use (the workspaces' distinct zones and the default) and, for each
 * PostgreSQL knows (pg_timezone_names: IANA names, spelled as the tz database spells
 * them), its dates as of the run. One statement per run: about 0.1 s for the zone list,
 * whatever the number of todos. `localTime` is the job's send time (HH:MM).
 */
export async function readRunZones(db: Knex, query: { asOf: AsOf; defaultZone: string; localTime: string }): Promise<RunZones> {
  const date = 'date' in query.asOf ? query.asOf.date : null;
  const at = 'at' in query.asOf ? query.asOf.at ?? null : null;
  const result = await db.raw<{ rows: Array<ClockRow & { at: string; ended_everywhere: string }> }>(
    `with run as (select coalesce(?::timestamptz, now()) as at, ?::date as date, ?::time as send_at),
     zones as (
       select distinct zone from (select time_zone as zone from workspaces where time_zone is not null
                                  union all select ?::text) as used),
     checked as materialized (select z.zone, z.zone in (select name from pg_timezone_names) as known from zones z),
     local as (
       select c.zone, c.known, run.date, run.send_at, run.at,
              case when c.known then (run.at at time zone c.zone)::date end as today
         from checked c, run),
     clocks as (
       select l.*,
              sweep_zone_start((l.today + 1)::timestamp, case when l.known then l.zone end) <= l.at as tomorrow_came,
              sweep_zone_start(l.today + l.send_at, case when l.known then l.zone end) <= l.at as send_time_came
         from local l)
     select c.zone, c.known,
            to_char(coalesce(c.date, c.today), 'YYYY-MM-DD') as local_date,
            to_char(case when c.date is not null then c.date - 1
                         when c.tomorrow_came then c.today else c.today - 1 end, 'YYYY-MM-DD') as last_ended,
            to_char(case when c.date is not null then c.date + 1
                         when c.send_time_came then c.today + 1 else c.today end, 'YYYY-MM-DD') as remind_up_to,
            to_char(case when c.date is not null then c.date
                         when c.tomorrow_came then c.today else c.today - 1 end, 'YYYY-MM-DD') as remind_after,
            to_char(case when c.date is not null then c.date
                         when c.send_time_came then c.today else c.today - 1 end, 'YYYY-MM-DD') as digest_from,
            to_char(c.at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as at,
            to_char(coalesce(c.date - 1, (c.at at time zone 'Etc/GMT+12')::date - 1), 'YYYY-MM-DD') as ended_everywhere
       from clocks c order by c.zone`,
    [at, date, query.localTime, query.defaultZone],
  );
  const rows = result.rows;
  const clocks = new Map<string, ZoneClock>();
  for (const row of rows) {
    if (!row.known) continue;
    clocks.set(row.zone, { zone: row.zone, localDate: row.local_date!, lastEnded: row.last_ended!,
      remindUpTo: row.remind_up_to!, remindAfter: row.remind_after!, digestFrom: row.digest_from! });
  }
  const lastEnded = [...clocks.values()].map((clock) => clock.lastEnded).sort();
  const everywhere = [rows[0]!.ended_everywhere, ...lastEnded.slice(0, 1)].sort()[0]!;
  return {
    at: date === null ? rows[0]!.at : undefined,
    date: date ?? undefined,
    defaultZone: query.defaultZone,
    clocks,
    unknown: rows.filter((row) => !row.known).map((row) => row.zone),
    endedEverywhere: everywhere,
  };
}

/**
 * The run's zone table as a relation `z(zone, last_ended, remind_up_to, remind_after, digest_from)` to
 * join a workspace to, with `zoneColumn` the SQL of its zone (`w.time_zone`): a workspace
 * whose zone is not in it (unknown, or new since the run started) finds no row.
 */
export function zoneTable(zones: RunZones): [string, Knex.RawBinding[]] {
  const clocks = [...zones.clocks.values()];
  return [`unnest(?::text[], ?::date[], ?::date[], ?::date[], ?::date[]) as z(zone, last_ended, remind_up_to, remind_after, digest_from)`,
    [clocks.map((c) => c.zone), clocks.map((c) => c.lastEnded), clocks.map((c) => c.remindUpTo), clocks.map((c) => c.remindAfter),
      clocks.map((c) => c.digestFrom)] as
      unknown as Knex.RawBinding[]];
}

/**
 * Joins items `t` with a `workspace_id` to their workspace `w` (its `time_zone`) and its
 * zone's row `z` of the run's zone table; both left joins: a workspace with no row is in
 * the default zone, and one whose zone the table lacks (unknown, or new since the run
 * started) finds no `z`. `ordered` (a page read in an index's order, up to a limit) looks
 * both up item by item, so the rows come in the index's order and the read stops at the
 * limit (as joins, PostgreSQL may hash them and sort everything after the cursor first);
 * `hashed` (a count or a group over many items) joins them as sets.
 */
export function joinZones(zones: RunZones, mode: 'ordered' | 'hashed', items = 't'): (builder: Knex.QueryBuilder) => void {
  const [table, bindings] = zoneTable(zones);
  const zoneBindings = [...bindings, zones.defaultZone] as unknown as Knex.Value[];
  return (builder) => {
    if (mode === 'hashed') {
      builder.leftJoin('workspaces as w', 'w.id', `${items}.workspace_id`)
        .joinRaw(`left join ${table} on z.zone = coalesce(w.time_zone, ?::text)`, zoneBindings);
      return;
    }
    // offset 0 keeps each a subquery run per item (a nested loop), never pulled up into a join.
    builder.joinRaw(`left join lateral (select ws.time_zone from workspaces ws where ws.id = ${items}.workspace_id offset 0) as w on true`)
      .joinRaw(`left join lateral (select * from ${table} where z.zone = coalesce(w.time_zone, ?::text) offset 0) as z on true`, zoneBindings);
  };
}

/** The latest of a date column over every zone in use: the end of an index range that holds every zone's items. */
export function latest(zones: RunZones, column: keyof Omit<ZoneClock, 'zone'>): string {
  return [...zones.clocks.values()].map((clock) => clock[column]).sort().at(-1) ?? zones.endedEverywhere;
}

/** The earliest of a date column over every zone in use. */
export function earliest(zones: RunZones, column: keyof Omit<ZoneClock, 'zone'>): string {
  return [...zones.clocks.values()].map((clock) => clock[column]).sort()[0] ?? zones.endedEverywhere;
}

/** The workspaces whose zone PostgreSQL does not know, with it: each is named once per run. */
export async function getWorkspacesInUnknownZones(db: Knex, zones: RunZones): Promise<Array<{ workspaceId: string; zone: string }>> {
  if (zones.unknown.length === 0) return [];
  const rows: Array<{ id: string; time_zone: string }> = await db('workspaces')
    .select('id', 'time_zone').whereRaw('time_zone = any(?::text[])', [zones.unknown as unknown as Knex.RawBinding]).orderBy('id');
  return rows.map((row) => ({ workspaceId: row.id, zone: row.time_zone }));
}

/** The zones of workspaces as they are now, by id (a workspace with no row is left out: it is in the default zone). */
export async function getWorkspaceZones(db: Knex, workspaceIds: string[]): Promise<Map<string, string | null>> {
  const ids = [...new Set(workspaceIds)];
  if (ids.length === 0) return new Map();
  const rows: Array<{ id: string; time_zone: string | null }> = await db('workspaces')
    .select('id', 'time_zone').whereRaw('id = any(?::uuid[])', [ids as unknown as Knex.RawBinding]);
  return new Map(rows.map((row) => [row.id, row.time_zone]));
}

/** When a job's notification for an item date falls due, relative to that date: a delay the day after, at midnight. */
export interface FallsDue {
  /** Days from the item's date to the local day it falls due on (a delay +1, a reminder -1, a digest 0). */
  daysAfterItemDate: number;
  /** At the job's --local-time that day, else at its midnight. */
  atLocalTime: boolean;
}

/**
 * The latest instant, over the zones in use, at which a notification of `itemDate` fell
 * due: for the backlog's age, which so never counts from before the notification could
 * have been sent in any of them (the oldest item's own workspace is not known by then).
 * One statement; undefined if no zone in use is known.
 */
export async function latestFallDue(db: Knex, zones: RunZones, itemDate: string, fallsDue: FallsDue, localTime: string):
Promise<Date | undefined> {
  const known = [...zones.clocks.keys()];
  if (known.length === 0) return undefined;
  const result = await db.raw<{ rows: Array<{ due: Date | null }> }>(
    `select max(sweep_zone_start((?::date + ?::int) + ?::time, z)) as due from unnest(?::text[]) as z`,
    [itemDate, fallsDue.daysAfterItemDate, fallsDue.atLocalTime ? localTime : '00:00', known as unknown as Knex.RawBinding]);
  const due = result.rows[0]?.due;
  return due ? new Date(due) : undefined;
}

/** Where and when, in its workspace's zone, a delivery fell due: for operators' listings. */
export interface LocalFallDue {
  /** The workspace's zone (its row's, or the default). */
  timeZone: string;
  /** The local time it fell due there, `YYYY-MM-DD HH:MM`; null where PostgreSQL does not know the zone. */
  fellDueLocal: string | null;
}

/**
 * For deliveries of notification jobs, each one's workspace zone and the local time it
 * fell due there (by its job's FallsDue at the job's default send time), in one
 * statement; a zone PostgreSQL does not know gets none, rather than failing the listing.
 */
export async function describeFallDue(db: Knex, defaultZone: string,
  deliveries: Array<{ key: string; workspaceId: string; itemDate: string | null; fallsDue?: FallsDue; localTime?: string }>):
Promise<Map<string, LocalFallDue>> {
  const dated = deliveries.filter((d) => d.itemDate !== null && d.fallsDue !== undefined);
  if (dated.length === 0) return new Map();
  const result = await db.raw<{ rows: Array<{ key: string; zone: string; fell_due_local: string | null }> }>(
    `with v as materialized (
       select v.*, coalesce(w.time_zone, ?::text) as zone
         from unnest(?::text[], ?::uuid[], ?::date[], ?::int[], ?::time[]) as v(key, workspace_id, item_date, days, at)
         left join workspaces w on w.id = v.workspace_id),
     k as materialized (select distinct zone, zone in (select name from pg_timezone_names) as known from v)
     select v.key, v.zone, to_char(sweep_zone_start(v.item_date + v.days + v.at, case when k.known then v.zone end)
              at time zone (case when k.known then v.zone else 'UTC' end), 'YYYY-MM-DD HH24:MI') as fell_due_local
       from v join k using (zone)`,
    [defaultZone, dated.map((d) => d.key), dated.map((d) => d.workspaceId), dated.map((d) => d.itemDate),
      dated.map((d) => d.fallsDue!.daysAfterItemDate), dated.map((d) => (d.fallsDue!.atLocalTime ? d.localTime ?? '00:00' : '00:00'))] as
      unknown as Knex.RawBinding[]);
  return new Map(result.rows.map((row) => [row.key, { timeZone: row.zone, fellDueLocal: row.fell_due_local }]));
}

/**
 * The latest instant at which a notification of `itemDate` fell due in the zones in use
 * now (the workspaces' and the default, those PostgreSQL knows), read afresh: for a
 * backlog's age outside a run (the console), as a run computes it (`latestFallDue`).
 */
export async function latestFallDueNow(db: Knex, defaultZone: string, itemDate: string, fallsDue: FallsDue, localTime: string):
Promise<Date | undefined> {
  const result = await db.raw<{ rows: Array<{ due: Date | null }> }>(
    `with zones as (select distinct zone from (select time_zone as zone from workspaces where time_zone is not null
                                                union all select ?::text) as used)
     select max(sweep_zone_start((?::date + ?::int) + ?::time, zone)) as due
       from zones where zone in (select name from pg_timezone_names)`,
    [defaultZone, itemDate, fallsDue.daysAfterItemDate, fallsDue.atLocalTime ? localTime : '00:00']);
  const due = result.rows[0]?.due;
  return due ? new Date(due) : undefined;
}
