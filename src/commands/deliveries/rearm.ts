import type { Knex } from 'knex';
import { recordAudit, type Actor } from '../../ledger/operator-audit.js';
import type { AnyNotificationJob, OwedDelivery } from '../../sweep/notification-job.js';
import { decideOwed } from '../../sweep/owed-check.js';
import { whereFilter } from './delivery.dao.js';
import type { DeliveryFilter } from './delivery.type.js';

/** Statuses an operator may re-arm: never `sent`, never `pending` (a live run owns it). */
const REARMABLE = ['failed', 'dead', 'retry', 'superseded'];

/** Deliveries looked at per statement: one check of their items per job and batch. */
const BATCH = 500;

export interface RearmOptions {
  /** Re-arm those whose item no longer stands too, marked so the next run sends them as first meant. */
  force: boolean;
}

/** Re-armed keys an audit row lists by name; it counts them all. */
export const AUDITED_KEYS = 100;

export interface RearmResult {
  rearmed: number;
  /** The first AUDITED_KEYS keys re-armed, in key order, for the audit. */
  rearmedKeys: string[];
  /** The jobs whose deliveries were re-armed. */
  rearmedJobs: string[];
  /** Matching deliveries whose item no longer stands, and why: left alone, or re-armed anyway with force. */
  notStanding: Array<{ key: string; job: string; reason: string }>;
}

/**
 * The re-arm an operator asked for, with its audit row, in one transaction: what the CLI's
 * `deliveries retry` and the console's re-arm both call.
 */
export async function rearmDeliveriesAudited(db: Knex, jobs: AnyNotificationJob[], request: {
  filter: DeliveryFilter; force: boolean; actor: Actor; reason?: string; details?: Record<string, unknown>;
}): Promise<RearmResult> {
  return db.transaction(async (trx) => {
    const result = await rearmDeliveries(trx, jobs, request.filter, { force: request.force });
    const { keys, ...filter } = request.filter;
    // The job, so that the audit of a job lists it: the filter's, or the one job all the re-armed keys belong to.
    const job = request.filter.job ?? (result.rearmedJobs.length === 1 ? result.rearmedJobs[0] : undefined);
    await recordAudit(trx, {
      actor: request.actor, action: 'rearm', job, reason: request.reason, deliveriesTouched: result.rearmed,
      details: {
        filter, ...(keys ? { keysAsked: keys.length } : {}), force: request.force, jobs: result.rearmedJobs,
        keys: result.rearmedKeys, ...(result.rearmed > result.rearmedKeys.length ? { keysNotListed: result.rearmed - result.rearmedKeys.length } : {}),
        notStanding: result.notStanding.length, ...request.details,
      },
    });
    return result;
  });
}

/**
 * The keys a re-arm with `filter` would look at now, in key order, at most `cap` of them;
 * `more` says the filter matches more. A console shows them, and its re-arm then applies
 * to exactly these keys, whatever matches the filter by then.
 */
export async function previewRearm(db: Knex, filter: DeliveryFilter, cap: number):
Promise<{ keys: Array<{ key: string; job: string; status: string }>; more: boolean }> {
  const rows: Array<{ key: string; job: string; status: string }> = await db('deliveries')
    .select('key', 'job', 'status')
    .modify((builder) => whereFilter(builder, filter))
    .whereIn('status', REARMABLE)
    .orderBy('key')
    .limit(cap + 1);
  return { keys: rows.slice(0, cap), more: rows.length > cap };
}

type Row = { key: string; job: string; workspace_id: string; item_id: string; item_date: string | null };

/**
 * Makes the matching failed, dead, superseded or waiting deliveries due again with a
 * fresh count of attempts; the next run of their job sends them. The one re-arm, for
 * the CLI and any console. Before it re-arms, each delivery's job says whether its item
 * still stands as it did (its `stillStands`, without a run date: the run that sends it
 * checks that): one that does not (its todo deleted, its due date moved) would notify
 * about what is no longer true, and is left as it is unless `force`, which re-arms it
 * marked forced: its next run sends it as first meant. A job the registry does not know
 * cannot be asked, and its deliveries are re-armed as they are.
 */
export async function rearmDeliveries(db: Knex, jobs: AnyNotificationJob[], filter: DeliveryFilter, options: RearmOptions):
Promise<RearmResult> {
  const byName = new Map(jobs.map((job) => [job.name, job]));
  const result: RearmResult = { rearmed: 0, rearmedKeys: [], rearmedJobs: [], notStanding: [] };
  const rearmedJobs = new Set<string>();
  let afterKey = '';
  for (;;) {
    const rows: Row[] = await db('deliveries')
      .select('key', 'job', 'workspace_id', 'item_id', 'item_date')
      .modify((builder) => whereFilter(builder, filter))
      .whereIn('status', REARMABLE)
      .where('key', '>', afterKey)
      .orderBy('key')
      .limit(BATCH);
    if (rows.length === 0) return { ...result, rearmedJobs: [...rearmedJobs].sort() };
    const notStanding = await whichNoLongerStand(db, byName, rows);
    result.notStanding.push(...notStanding);
    const refused = new Set(options.force ? [] : notStanding.map((row) => row.key));
    const keys = rows.map((row) => row.key).filter((key) => !refused.has(key));
    if (keys.length > 0) {
      const rearmed: Array<{ key: string; job: string }> = await db('deliveries')
        .whereRaw('key = any(?::text[])', [keys as unknown as Knex.RawBinding])
        .whereIn('status', REARMABLE)
        .update({
          status: 'retry', attempts: 0, next_attempt_at: null, lease_expires_at: null, updated_at: db.fn.now(),
          ...(options.force ? { forced: true } : {}),
        }, ['key', 'job']);
      result.rearmed += rearmed.length;
      rearmed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      for (const row of rearmed) {
        rearmedJobs.add(row.job);
        if (result.rearmedKeys.length < AUDITED_KEYS) result.rearmedKeys.push(row.key);
      }
    }
    if (rows.length < BATCH) return { ...result, rearmedJobs: [...rearmedJobs].sort() };
    afterKey = rows[rows.length - 1]!.key;
  }
}

/** The rows whose item no longer stands, by their job's check: one statement per job in the batch. */
async function whichNoLongerStand(db: Knex, jobs: Map<string, AnyNotificationJob>, rows: Row[]): Promise<RearmResult['notStanding']> {
  const notStanding: RearmResult['notStanding'] = [];
  for (const [name, ofJob] of groupBy(rows, (row) => row.job)) {
    const job = jobs.get(name);
    if (!job) continue;
    const owed: OwedDelivery[] = ofJob.map((row) => ({ key: row.key, workspaceId: row.workspace_id, itemId: row.item_id, itemDate: row.item_date }));
    const standings = await job.stillStands(db, owed, {});
    for (const delivery of owed) {
      const decision = decideOwed({ ...delivery, message: '' }, standings.get(delivery.key), false);
      if ('supersede' in decision) notStanding.push({ key: delivery.key, job: name, reason: decision.supersede });
    }
  }
  return notStanding;
}

function groupBy<T>(items: T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}
