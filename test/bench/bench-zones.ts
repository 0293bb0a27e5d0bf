import type { Knex } from 'knex';

/**
 * The zones of --zones, in the order they are dealt to workspaces: the first Z of them.
 * Every offset from UTC-11 to UTC+14, the half and quarter hours, DST on both sides of the
 * equator and Lord Howe's 30-minute DST, so that the run's zone table holds every kind of
 * row a real deployment's does.
 */
export const BENCH_ZONES: readonly string[] = [
  'America/Los_Angeles', 'Europe/Berlin', 'Asia/Tokyo', 'America/New_York', 'Asia/Kolkata', 'Australia/Sydney',
  'Pacific/Kiritimati', 'Pacific/Pago_Pago', 'Asia/Kathmandu', 'Australia/Lord_Howe', 'America/Sao_Paulo', 'Europe/London',
  'Africa/Lagos', 'Asia/Shanghai', 'America/Chicago', 'America/Denver', 'America/Phoenix', 'America/Anchorage',
  'Pacific/Honolulu', 'America/St_Johns', 'America/Halifax', 'America/Mexico_City', 'America/Bogota', 'America/Santiago',
  'Atlantic/Azores', 'Europe/Helsinki', 'Europe/Moscow', 'Asia/Tehran', 'Asia/Dubai', 'Asia/Kabul', 'Asia/Karachi',
  'Asia/Dhaka', 'Asia/Yangon', 'Asia/Bangkok', 'Australia/Eucla', 'Australia/Adelaide', 'Australia/Brisbane',
  'Pacific/Chatham', 'Pacific/Auckland', 'Pacific/Tongatapu',
];

export const MAX_BENCH_ZONES = BENCH_ZONES.length;

/**
 * Gives the bench's `workspaces` (the ids the loads deal todos to, round-robin) the first
 * `zones` of BENCH_ZONES, round-robin; 0: no workspace row at all, every workspace in the
 * default zone (UTC), as a deployment that adds none. Then ANALYZE, as autovacuum would
 * after a change of that size.
 */
export async function placeWorkspaces(db: Knex, counts: { workspaces: number; zones: number }): Promise<void> {
  await db.raw('delete from workspaces');
  if (counts.zones > 0) {
    await db.raw(
      `insert into workspaces (id, time_zone)
       select md5('sweep-bench-workspace-' || g)::uuid, (?::text[])[1 + g % ?] from generate_series(0, ? - 1) as g`,
      [BENCH_ZONES.slice(0, counts.zones) as unknown as Knex.RawBinding, counts.zones, counts.workspaces],
    );
  }
  await db.raw('analyze workspaces');
}
