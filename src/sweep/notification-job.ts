import type { Option } from 'commander';
import type { Knex } from 'knex';
import type { ChangeStamps, ChangeWindow } from '../ledger/change-window.js';
import type { SurveyCounts } from '../ledger/undelivered.js';
import type { FallsDue, RunZones } from './local-due-times.js';

/**
 * Terms, as the engine uses them:
 * - notification job: a job that sends one notification per item, once (a delayed
 *   todo, a todo due tomorrow, a workspace's digest for a day).
 * - item: one unit of a job's work, as its reader returns it. The engine never looks
 *   inside one: it asks the job for the item's notification.
 * - notification: key, workspace, message, and what the key is made of (item id and
 *   date), which the ledger keeps until it is settled.
 * - scan: a run's pages of items that have no delivery yet, in the job's stable order.
 * - due again: a delivery the ledger owes (a retry past its backoff, a re-armed one, a
 *   claim whose run died), sent by the job's next run whatever its scan covers, once the
 *   job has said its item still stands.
 * - stands: an owed delivery's item is still what it was when the delivery was first
 *   meant (a todo still delayed under the same due date). One that no longer stands is
 *   superseded: settled unsent, with the reason.
 */

/** The options every notification job has, declared once in shared-options.ts. */
export interface SweepOptions {
  /** A backfill of this local day in every zone, YYYY-MM-DD, whatever the hour. */
  date?: string;
  /** The instant the run is as of (ISO-8601); default the database's clock. Not with `date`. */
  at?: string;
  /** The job's local send time, HH:MM, for a job that declares one (`localTime`). */
  localTime?: string;
  /** Notification requests in flight at most (default 16). */
  concurrency: number;
  /** Items read per page (default 500). */
  pageSize: number;
  /** List what would be sent; send and record nothing. */
  dryRun: boolean;
  /** How long a claim holds without renewal (default 120 s). */
  leaseSeconds: number;
  /** Runs that may try one notification before it is dead (default 5). */
  maxAttempts: number;
  /** Wait before a later run retries a transient failure: doubles per attempt (default 60 s). */
  retryBackoffSeconds: number;
  /** Notification requests per second at most (unset: no limit). */
  maxRate?: number;
  /** After SIGTERM or SIGINT, how long requests in flight may take to finish (default 20 s). */
  graceSeconds: number;
  /** Accept a --date after today (UTC, by the database's clock); refused by default (exit 64). */
  allowFutureDate: boolean;
  /** Hold when the run would send more than this many times usual (default 10). */
  holdFactor: number;
  /** Never hold at or below this count (default 1000). */
  holdMin: number;
  /** false with --no-hold: the run neither counts first nor holds. */
  hold: boolean;
}

/**
 * What a job's functions are given: every option, the run date (`--date`, or the UTC
 * date of the run's instant, for logs) and each zone's due dates as of the run (`zones`:
 * what decides what is due; local-due-times.ts).
 */
export type SweepRun<Own = object> = SweepOptions & Own & { runDate: string; zones: RunZones };

/** One item's notification: what the engine sends and the ledger keeps. */
export interface Notification {
  /** The Idempotency-Key, as the notify contract defines it for the job. */
  key: string;
  /** Whose token the request carries. */
  workspaceId: string;
  itemId: string;
  /** YYYY-MM-DD or null: with itemId, what the key is made of; the backlog is measured from it. */
  itemDate: string | null;
  message: string;
}

/** What the ledger keeps of an item, from which a job names it in a log line. */
export interface ItemRef {
  itemId: string;
  itemDate: string | null;
}

/** A delivery the ledger owes, as it was first meant: what a job checks against its item now. */
export type OwedDelivery = Pick<Notification, 'key' | 'workspaceId' | 'itemId' | 'itemDate'>;

/**
 * How an owed delivery's item stands now: its notification as the job would make it
 * today (same key; its workspace may have changed), or why it no longer stands
 * ("the todo is gone", "its due date moved to 2022-06-10"), or why it stands but is not
 * true yet as of the run's date (a todo not delayed as of it): then it stays owed, for a
 * run whose date it is true for, neither sent nor superseded, so it is never forgotten.
 */
export type Standing = { notification: Notification } | { reason: string } | { notYet: string };

/**
 * A notification job declares only what is its own; claims, leases, sending, retries,
 * recording, the summary and the metrics are the engine's (sweep-notifications.ts).
 */
export interface NotificationJob<Item, Own = object, Survey extends SurveyCounts = SurveyCounts> {
  name: string;
  /** One line, shown by `sweep --help`. */
  description: string;
  /** What the run date (--date) means for this job, for its --help. */
  runDate: string;
  /** Its items, plural, as the summary names them: "delayed todos". */
  items: string;
  /**
   * How many days before its item date a notification is owed (a reminder: the day
   * before its due date); the backlog counts from then. Default 0.
   */
  owedDaysBefore?: number;
  /** When its notification of an item date falls due, for the backlog's age; default: at the midnight starting it. */
  fallsDue?: FallsDue;
  /**
   * Its default local send time (HH:MM), for a job whose notifications fall due at a time
   * of day in each workspace's zone: the engine gives it `--local-time`.
   */
  localTime?: string;
  /** Options of its own, beyond the shared ones. */
  options?: () => Option[];
  /**
   * How its items stand before the run, read once at its start (inScope, alreadySent,
   * previouslyFailed). Only for a job whose scope is small (a day): a count of all of
   * history would make every run cost its history. Without it those counts are not kept.
   */
  survey?(db: Knex, run: SweepRun<Own>): Promise<Survey>;
  /**
   * A page of at most `limit` items that have no delivery yet (`withoutDelivery`), in a
   * stable order: after `after` (the last item of the previous page), else after `from`
   * (the position the job's earlier runs settled, with `resume`), else from the start.
   */
  readPage(db: Knex, page: { run: SweepRun<Own>; survey: Survey | undefined; after: Item | undefined; from: string[] | undefined;
    limit: number }): Promise<Item[]>;
  /**
   * For a job whose scope grows with history (every todo ever delayed): how a run starts
   * where the last ones stopped. The engine remembers the position its scans have
   * settled, and each run reads what appeared behind it since (`readChanged`), then the
   * items after it; so a run costs its new work.
   */
  resume?: ResumableScan<Item, Own>;
  notificationOf(item: Item, run: SweepRun<Own>): Notification;
  /** The log fields that name an item (todoId, dueDate), beside workspaceId and key. */
  describe(item: ItemRef): Record<string, unknown>;
  /**
   * Whether the items of owed deliveries still stand as they did when they were first
   * meant, asked before a run sends them (and by `deliveries retry` before it re-arms):
   * for each key, the item's notification now, or why it no longer stands. One statement
   * for the whole page, reading only its items (by primary key or index). `zones`, when
   * given, are the run's: an item must also have fallen due in its workspace's zone as of
   * the run (else `notYet`) and not have stopped standing there; an operator's re-arm
   * leaves it out.
   */
  stillStands(db: Knex, owed: OwedDelivery[], asOf: { zones?: RunZones }): Promise<Map<string, Standing>>;
  /**
   * For `prune`: SQL over a delivery aliased `d`, true once its item can never be due
   * again, so forgetting the delivery cannot make the job send it twice.
   */
  itemGone: string;
  /** For `prune`: SQL over `d`, whether its item can be looked up at all (ITEM_ID_IS_UUID); one that cannot is kept and reported. */
  itemWellFormed?: string;
}

export interface ResumableScan<Item, Own = object> {
  /**
   * An item's place in the reader's order, as text that sorts as the order does:
   * [dueDate, id]. Undefined for an item whose place text cannot sort (a date in 4713 BC):
   * the position then stays where it was, and the next run reads from there again.
   */
  positionOf(item: Item): string[] | undefined;
  /** The position of the last item in scope now: how far a scan that completes has settled. */
  lastPosition(db: Knex, run: SweepRun<Own>): Promise<string[] | undefined>;
  /**
   * How far a scan may settle as of the run, read at its start: no position is
   * remembered past it (items after it may not be due yet in every zone, or be skipped).
   */
  positionCap?(db: Knex, run: SweepRun<Own>): Promise<string[]>;
  /**
   * A page of items in scope with no delivery yet that changed (created, or moved) in a
   * transaction `since` says the last run could not see (changedSince() in
   * ledger/change-window.ts writes the condition over the item's stamps), and sit at or
   * before `upTo`, where no scan from the remembered position would meet them; in a
   * stable order after `after`.
   */
  readChanged(db: Knex, page: { run: SweepRun<Own>; since: ChangeWindow; upTo: string[]; after: Item | undefined; limit: number }): Promise<Item[]>;
  /**
   * SQL over a delivery `d`: its item's position, as positionOf writes it. Once that is
   * at or before the job's position, no scan reads the item again, so `prune` may forget
   * a sent delivery there without a resend, unless a run reads it again as changed
   * (`deliveryItemChanged`).
   */
  positionOfDelivery: string;
  /**
   * SQL over a delivery `d`: whether its item, as it is now, was written by a transaction
   * `changedSince` (which the engine writes over the item's stamps) says a run still
   * reads as changed. The same stamps readChanged reads.
   */
  deliveryItemChanged(changedSince: (stamps: ChangeStamps) => string): string;
}

/** A notification job whatever its item type, as the registry and the operator commands hold them. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyNotificationJob = NotificationJob<any, any, any>;

/** Keeps a job's item, options and survey typed where it is declared. */
export function defineNotificationJob<Item, Own = object, Survey extends SurveyCounts = SurveyCounts>(
  job: NotificationJob<Item, Own, Survey>,
): NotificationJob<Item, Own, Survey> {
  return job;
}
