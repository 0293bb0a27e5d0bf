import type { JobContext, JobResult } from '../../runner/job.type.js';
import {
  countOldDeliveries, countOldRuns, deleteOldDeliveriesBatch, deleteOldRunsBatch, getCutoff, getMalformedDeliveries, type BatchResult,
} from './prune.dao.js';
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

  const candidates = await countOldDeliveries(db, { statuses, cutoff });
  for (const rule of rules) await reportMalformed({ db, logger }, rule);
  let runsDeleted = 0;
  let deliveriesDeleted = 0;
  if (options.dryRun) {
    runsDeleted = await countOldRuns(db, cutoff);
    for (const rule of rules) deliveriesDeleted += await countOldDeliveries(db, rule);
  } else {
    const stopped = () => signal.aborted;
    runsDeleted = await deleteInBatches('job_runs', options.batchSize, stopped, logger,
      (after, limit) => deleteOldRunsBatch(db, cutoff, after, limit));
    for (const rule of rules) {
      if (stopped()) break;
      deliveriesDeleted += await deleteInBatches('deliveries', options.batchSize, stopped, logger,
        (after, limit) => deleteOldDeliveriesBatch(db, rule, after, limit), rule.itemGoneFor?.name);
    }
  }

  const deliveriesKept = Math.max(0, candidates - deliveriesDeleted);
  if (deliveriesKept > 0 && !signal.aborted) {
    logger.info({ deliveriesKept }, `kept ${deliveriesKept} ${statuses.join('/')} delivery(ies) older than the cutoff: their item `
      + `is still there (or is not an item of ${jobs.map((job) => job.name).join(', ')}, which prune cannot check), and deleting one would `
      + 'make the next run of its job send it again (--allow-resend deletes them)');
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

/** Logs the old deliveries prune keeps because it cannot look up their item. */
async function reportMalformed({ db, logger }: Pick<JobContext, 'db' | 'logger'>, rule: DeliveryRule): Promise<void> {
  const { count, keys } = await getMalformedDeliveries(db, rule, LISTED_KEYS);
  if (count === 0) return;
  logger.warn({ deliveriesOf: rule.itemGoneFor?.name, count, keys },
    `kept ${count} old delivery(ies) whose item_id is not a todo id, so prune cannot tell whether their todo is gone `
    + `(${keys.length < count ? `the first ${keys.length} keys listed; ` : ''}see sweep deliveries --key <key>)`);
}

/**
 * Walks the table in key order a batch at a time, one short statement each, so no lock
 * is held long and no row is looked at twice; stops early when the run is asked to stop.
 */
async function deleteInBatches(
  table: string, batchSize: number, stopped: () => boolean, logger: JobContext['logger'],
  deleteBatch: (after: string | null, limit: number) => Promise<BatchResult>, job?: string,
): Promise<number> {
  let total = 0;
  let after: string | null = null;
  for (let batch = 1; ; batch += 1) {
    if (stopped()) {
      logger.warn({ table, deleted: total }, `stopping: ${table} pruning interrupted after ${total} row(s); the next prune goes on`);
      return total;
    }
    const { examined, deleted, lastKey } = await deleteBatch(after, batchSize);
    total += deleted;
    if (examined > 0) {
      logger.info({ table, ...(job ? { deliveriesOf: job } : {}), batch, examined, deleted, total },
        `${table}: batch ${batch} deleted ${deleted} of ${examined} old row(s), ${total} so far`);
    }
    if (examined < batchSize) return total;
    after = lastKey;
  }
}
