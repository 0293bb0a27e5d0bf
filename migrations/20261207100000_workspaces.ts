import type { Knex } from 'knex';

/**
 * The todo service's workspaces and their time zones: every notification falls due at a
 * local time of its workspace's zone (docs/running-jobs.md, "When each notification falls
 * due"). The todo service owns the table and may have it already, with more columns:
 * then it is left as it is, and only the two columns sweep reads are checked, so that a
 * deployment whose table lacks one fails here, by name, rather than at its first run.
 *
 * sweep_zone_start(local, zone) is the one place a local time becomes an instant: the
 * first instant at which the zone's wall clock reads `local` or later. PostgreSQL's own
 * `timestamp at time zone` reads a time a DST change skips with the offset before the
 * change (02:30 in New York's spring gap is 03:30 EDT, not the 03:00 the contract says)
 * and a repeated time as its second occurrence (the contract: the first), so the
 * function asks PostgreSQL only for offsets at instants, which are never ambiguous.
 */
const ZONE_START = `create or replace function sweep_zone_start(local timestamp, zone text) returns timestamptz
  language plpgsql stable strict as $$
  declare
    -- The wall clock read as if it were UTC: every instant at which the zone reads 'local'
    -- lies within a day of it (offsets are under 16 hours).
    u timestamptz := local at time zone 'UTC';
    offsets interval[];
    o interval;
    candidate timestamptz;
    best timestamptz;
    lo bigint;
    hi bigint;
    mid bigint;
  begin
    -- The offsets in effect around it: before, at and after, so that a change on either
    -- side is seen.
    select array_agg(distinct (i at time zone zone) - (i at time zone 'UTC'))
      into offsets
      from unnest(array[u - interval '16 hours', u, u + interval '16 hours']) as i;
    foreach o in array offsets loop
      candidate := u - o;
      if candidate at time zone zone = local and (best is null or candidate < best) then
        best := candidate;
      end if;
    end loop;
    if best is not null then
      return best;
    end if;
    -- In a gap: the wall clock jumps over 'local' between u - (the larger offset), where
    -- it reads earlier, and u - (the smaller), where it reads later; the change is at a
    -- whole second in between, found by halving.
    lo := floor(extract(epoch from u - (select max(x) from unnest(offsets) as x)));
    hi := ceil(extract(epoch from u - (select min(x) from unnest(offsets) as x)));
    while hi - lo > 1 loop
      mid := lo + (hi - lo) / 2;
      if to_timestamp(mid) at time zone zone >= local then hi := mid; else lo := mid; end if;
    end loop;
    return to_timestamp(hi);
  end $$`;

export async function up(knex: Knex): Promise<void> {
  await knex.raw('create table if not exists workspaces (id uuid primary key, time_zone text)');
  const columns = await knex.raw<{ rows: Array<{ column_name: string; data_type: string }> }>(
    `select column_name, data_type from information_schema.columns
      where table_schema = current_schema() and table_name = 'workspaces' and column_name in ('id', 'time_zone')`);
  const types = new Map(columns.rows.map((row) => [row.column_name, row.data_type]));
  const wrong = [['id', 'uuid'], ['time_zone', 'text']].filter(([name, type]) => types.get(name!) !== type);
  if (wrong.length > 0) {
    throw new Error(`the existing workspaces table lacks ${wrong.map(([name, type]) => `${name} ${type}`).join(' and ')} `
      + `(it has ${[...types].map(([name, type]) => `${name} ${type}`).join(', ') || 'neither'}): sweep reads `
      + 'workspaces (id uuid primary key, time_zone text); add or fix the column, then migrate again');
  }
  await knex.raw(ZONE_START);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop function if exists sweep_zone_start(timestamp, text)');
  // The table is the todo service's once it holds rows: only an empty one is sweep's to drop.
  const rows = await knex.raw<{ rows: Array<{ any: boolean }> }>('select exists (select 1 from workspaces) as any');
  if (!rows.rows[0]!.any) await knex.raw('drop table workspaces');
}
