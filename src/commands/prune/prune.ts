import type { JobContext, JobResult } from '../../runner/job.type.js';
import { getCutoff, otherJobsDeliveriesBatch, pruneOldDeliveriesBatch, pruneOldRunsBatch, type BatchResult } from './prune.dao.js';
import { hoursOf } from './older-than.js';
import type { DeliveryRule, JobItems, PruneOptions } from './prune.type.js';

const TABLE: Array<[string, string]> = [
  ['runs deleted', 'runsDeleted'],
  ['deliveries deleted', 'deliveriesDeleted'],
  ['old deliveries kept: their item is still there', 'deliveriesKept'],
];
const DRY_RUN_TABLE: Array<[string, string]> = [
  ['runs that would be deleted', 'runsDeleted'],
  ['deliveries that would be deleted', 'deliveriesDeleted'],
  ['old deliveries kept: their item is still there', 'deliveriesKept'],
];

/**
 * Retention of the run history and the ledger: deletes finished runs and settled
 * deliveries last changed before the cutoff, a batch per statement. Never a `running`
 * run, never a `pending` or `retry` delivery (live work), `failed`/`dead` ones only
 * with --include-failed, and, unless --allow-resend, only deliveries whose item is gone:
 * prune never changes what the next run of a job sends.
 */
export async function pruneHistory({ db, logger, signal }: JobContext, options: PruneOptions, jobs: JobItems[]): Promise<JobResult> {
  const cutoff = await getCutoff(db, hoursOf(options.olderThan));
  // A superseded delivery was never sent and, should its item stand again, does not stop a
  // run from sending it: it goes like a sent one.
  const statuses = options.includeFailed ? ['sent', 'superseded', 'failed', 'dead'] : ['sent', 'superseded'];
  const rules: DeliveryRule[] = options.allowResend ? [{ statuses, cutoff }]
    : jobs.map((job) => ({ statuses, cutoff, itemGoneFor: job }));
  logger.info({ cutoff: cutoff.toISOString(), olderThan: options.olderThan, deliveryStatuses: statuses,
    allowResend: options.allowResend, dryRun: options.dryRun },
  `${options.dryRun ? 'dry run: counting' : 'deleting'} finished runs and ${statuses.join('/')} deliveries older than ${cutoff.toISOString()}`);

  const stopped = () => signal.aborted;
  const verb = options.dryRun ? 'would delete' : 'deleted';
  const walk = { batchSize: options.batchSize, stopped, logger, verb };
  const runs = await walkInBatches('job_runs', walk, (after, limit) => pruneOldRunsBatch(db, cutoff, after, limit, options.dryRun));
  let deliveriesDeleted = 0;
  let deliveriesKept = 0;
  for (const rule of rules) {
    if (stopped()) break;
    const walked = await walkInBatches('deliveries', walk,
      (after, limit) => pruneOldDeliveriesBatch(db, rule, after, limit, { dryRun: options.dryRun, listedKeys: LISTED_KEYS }), rule.itemGoneFor?.name);
    deliveriesDeleted += walked.deleted;
    deliveriesKept += walked.examined - walked.deleted;
    reportMalformed(logger, rule, walked);
  }
  if (!options.allowResend && !stopped()) {
    const names = jobs.map((job) => job.name);
    deliveriesKept += (await walkInBatches('deliveries of other jobs (kept)', walk,
      (after, limit) => otherJobsDeliveriesBatch(db, { statuses, cutoff }, names, after, limit))).examined;
  }
  const runsDeleted = runs.deleted;

  if (deliveriesKept > 0 && !signal.aborted) {
    logger.info({ deliveriesKept }, `kept ${deliveriesKept} ${statuses.join('/')} delivery(ies) older than the cutoff: their item `
      + `is still there (or cannot be looked up, or is not an item of ${jobs.map((job) => job.name).join(', ')}, which prune cannot check), `
      + 'and deleting one would make the next run of its job send it again (--allow-resend deletes them)');
  }
  logger.info({ runsDeleted, deliveriesDeleted, dryRun: options.dryRun },
    options.dryRun ? `dry run: would delete ${runsDeleted} run(s) and ${deliveriesDeleted} delivery(ies); deleted nothing`
      : `deleted ${runsDeleted} run(s) and ${deliveriesDeleted} delivery(ies)`);
  return {
    outcome: 'done',
    counts: { runsDeleted, deliveriesDeleted, deliveriesKept },
    details: { cutoff: cutoff.toISOString(), dryRun: options.dryRun },
    table: options.dryRun ? DRY_RUN_TABLE : TABLE,
  };
}

/** How many keys of malformed deliveries a log line lists. */
const LISTED_KEYS = 20;

interface Walked {
  examined: number;
  deleted: number;
  malformed: number;
  malformedKeys: string[];
}

/** Logs the old deliveries prune keeps because it cannot look up their item. */
function reportMalformed(logger: JobContext['logger'], rule: DeliveryRule, { malformed: count, malformedKeys: keys }: Walked): void {
  if (count === 0) return;
  logger.warn({ deliveriesOf: rule.itemGoneFor?.name, count, keys },
    `kept ${count} old delivery(ies) whose item_id is not a todo id, so prune cannot tell whether their todo is gone `
    + `(${keys.length < count ? `the first ${keys.length} keys listed; ` : ''}see sweep deliveries --key <key>)`);
}

/**
 * Walks the table in key order a batch at a time, one short statement each, so no lock
 * is held long, no row is looked at twice and no statement grows with the table (a dry
 * run counts by the same walk); stops early when the run is asked to stop.
 */
async function walkInBatches(
  table: string, walk: { batchSize: number; stopped: () => boolean; logger: JobContext['logger']; verb: string },
  pruneBatch: (after: string | null, limit: number) => Promise<BatchResult>, job?: string,
): Promise<Walked> {
  const total: Walked = { examined: 0, deleted: 0, malformed: 0, malformedKeys: [] };
  let after: string | null = null;
  for (let batch = 1; ; batch += 1) {
    if (walk.stopped()) {
      walk.logger.warn({ table, deleted: total.deleted }, `stopping: ${table} pruning interrupted after ${total.deleted} row(s); the next prune goes on`);
      return total;
    }
    const result = await pruneBatch(after, walk.batchSize);
    total.examined += result.examined;
    total.deleted += result.deleted;
    total.malformed += result.malformed;
    total.malformedKeys.push(...result.malformedKeys.slice(0, LISTED_KEYS - total.malformedKeys.length));
    if (result.examined > 0) {
      walk.logger.info({ table, ...(job ? { deliveriesOf: job } : {}), batch, examined: result.examined, deleted: result.deleted, total: total.deleted },
        `${table}: batch ${batch} ${walk.verb} ${result.deleted} of ${result.examined} old row(s), ${total.deleted} so far`);
    }
    if (result.examined < walk.batchSize) return total;
    after = result.lastKey;
  }
}
