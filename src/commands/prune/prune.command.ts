import { Option } from 'commander';
import { defineJob } from '../../runner/job.type.js';
import { integerBetween } from '../../runner/option-parsers.js';
import { parseOlderThan } from './older-than.js';
import { pruneHistory } from './prune.js';
import type { JobItems, PruneOptions } from './prune.type.js';

/**
 * Retention for job_runs and the delivery ledger. The ledger is also what keeps a job
 * from sending twice: a deleted `sent` delivery whose item is still in scope (a todo
 * still delayed) would be notified again by the next run. So by default only deliveries
 * whose item is gone go, as each job defines it; --allow-resend accepts the second
 * notification.
 */
export const pruneCommand = (jobs: JobItems[]) => defineJob<PruneOptions>({
  name: 'prune',
  description: 'Deletes runs and sent deliveries older than --older-than; by default only deliveries whose item is gone, so nothing is sent twice.',
  options: () => [
    new Option('--older-than <age>', 'delete what finished or last changed before now minus this age: <n>d or <n>h, e.g. 90d')
      .argParser(parseOlderThan).makeOptionMandatory(),
    new Option('--include-failed', 'also delete failed and dead deliveries older than the cutoff (never pending or retry: live work)')
      .default(false),
    new Option('--allow-resend', 'also delete deliveries whose item is still there (a todo still delayed, with the same due '
      + 'date): the next run of its job notifies it AGAIN (sent) or tries it again (failed, dead)').default(false),
    new Option('--dry-run', 'count what would be deleted; delete nothing, record no run').default(false),
    new Option('--batch-size <n>', 'rows deleted per statement, so no table is locked long')
      .argParser(integerBetween(1, 100_000)).default(5000),
  ],
  database: 'schema',
  recordsRun: (options) => !options.dryRun,
  run: (context, options) => pruneHistory(context, options, jobs),
});
