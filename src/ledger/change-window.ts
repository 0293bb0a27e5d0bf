import type { Knex } from 'knex';

/**
 * Which writes a run must read because an earlier run could not see them: those of the
 * transactions not visible in the snapshot the earlier run started with. A transaction
 * is invisible to a snapshot while it is in progress when the snapshot is taken (its id
 * in `inProgress`) or begins after (its id at or past `xmax`); every other transaction
 * had ended, so what it wrote was there for every statement of that run to read.
 * Transaction ids are PostgreSQL's 64-bit ones (xid8), never reused.
 */
export interface ChangeSnapshot {
  /** As PostgreSQL writes a pg_snapshot: `xmin:xmax:xip,...`. */
  text: string;
  xmax: string;
  inProgress: string[];
  /** The database's clock when it was taken, where known: what the release before snapshots reads. */
  takenAt?: Date;
}

/**
 * Where the changes a run reads begin: after a snapshot, or, for a position saved by the
 * release before snapshots, the time-stamped window that release read (its start less
 * LEGACY_CHANGE_LAG_MS), plus every write stamped since the upgrade.
 */
export type ChangeWindow = { snapshot: ChangeSnapshot } | { legacySince: Date };

/** The window as a log line names it. */
export function describeChangeWindow(window: ChangeWindow): Record<string, string> {
  return 'snapshot' in window ? { changesAfter: window.snapshot.text } : { changesSince: window.legacySince.toISOString() };
}

/** The lag the release before snapshots read changes with; only for a position it saved. */
export const LEGACY_CHANGE_LAG_MS = 10 * 60 * 1000;

const SNAPSHOT = /^(\d+):(\d+):((?:\d+(?:,\d+)*)?)$/;

/** Parses PostgreSQL's text form of a pg_snapshot; throws on anything else. */
export function parseSnapshot(text: string): ChangeSnapshot {
  const match = SNAPSHOT.exec(text);
  if (!match) throw new Error(`not a pg_snapshot: ${JSON.stringify(text)}`);
  return { text, xmax: match[2]!, inProgress: match[3] ? match[3].split(',') : [] };
}

/** The snapshot of a run's start: take it before the run reads anything it will remember. */
export async function currentSnapshot(db: Knex): Promise<ChangeSnapshot> {
  const result = await db.raw<{ rows: Array<{ snapshot: string; now: Date }> }>(
    'select pg_current_snapshot()::text as snapshot, now() as now');
  return { ...parseSnapshot(result.rows[0]!.snapshot), takenAt: new Date(result.rows[0]!.now) };
}

/** The columns a job's items carry their last change in: the writer's transaction id and time. */
export interface ChangeStamps {
  xid: string;
  time: string;
}

/**
 * The items written by transactions the window's snapshot could not see, as a WHERE
 * clause over `stamps`, in a form an index on the xid column answers: a range from xmax
 * and a lookup of each transaction then in progress (a handful), never a walk from the
 * oldest one in progress, however long it has been open.
 */
export function changedSince(window: ChangeWindow, stamps: ChangeStamps): [string, Knex.RawBinding[]] {
  if ('snapshot' in window) {
    const { xmax, inProgress } = window.snapshot;
    return [`(${stamps.xid} >= ?::xid8 or ${stamps.xid} = any(?::xid8[]))`, [xmax, inProgress as unknown as Knex.RawBinding]];
  }
  return [`(${stamps.xid} is not null or ${stamps.time} >= ?::timestamptz)`,
    [new Date(window.legacySince.getTime() - LEGACY_CHANGE_LAG_MS).toISOString()]];
}

/**
 * The same question asked of one item from SQL where the job's remembered position is a
 * row `p` of job_positions (prune): whether the job's next run reads the item again as
 * changed. An item with no stamp at all was written before changes were tracked.
 */
export function changedSinceRemembered(stamps: ChangeStamps): string {
  return `(case when p.changes_snapshot is not null
      then ${stamps.xid} is not null and not pg_visible_in_snapshot(${stamps.xid}, p.changes_snapshot)
      else ${stamps.xid} is not null
        or ${stamps.time} >= coalesce(p.changes_since, '-infinity'::timestamptz) - interval '${LEGACY_CHANGE_LAG_MS / 1000} seconds' end)`;
}
