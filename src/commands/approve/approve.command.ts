import { Argument, Option } from 'commander';
import { defineJob, type JobDefinition } from '../../runner/job.type.js';
import { UsageError } from '../../runner/errors.js';
import { operator } from '../../runner/operator-name.js';
import { integerBetween } from '../../runner/option-parsers.js';
import { approveJobAudited, NothingToApproveError } from './approve.js';

interface ApproveOptions {
  args?: string[];
  reason: string;
  upTo?: number;
  by: string;
}

/**
 * The release of a held job, in one audited step: its next runs send what was held, up
 * to the count that was shown (or --up-to) plus what is usual; a bigger storm holds again.
 * Once its counts are usual, the approval goes by itself.
 */
export function approveCommand(jobs: string[]): JobDefinition<ApproveOptions> {
  return defineJob<ApproveOptions>({
    name: 'approve',
    description: 'Approves a held notification job (far more to send than usual): its next runs send what was held.',
    arguments: () => [new Argument('<job>', 'the notification job').choices(jobs)],
    options: () => [
      new Option('--reason <text>', 'why it is right to send them, for the audit (required)').makeOptionMandatory(),
      new Option('--up-to <n>', 'approve up to this many beyond usual (default: the count the held run showed); '
        + 'ahead of a deliberate campaign, with no run held yet').argParser(integerBetween(1, 1_000_000_000)),
      new Option('--by <name>', 'who approves, for the audit (default: user@host)').default(operator()),
    ],
    database: 'schema',
    recordsRun: () => false,
    async run({ db, logger }, options) {
      const job = options.args?.[0] as string;
      if (options.reason.trim() === '') throw new UsageError('--reason must say why: it is what the audit keeps');
      const approved = await approveJobAudited(db, { job, actor: { name: options.by, source: 'cli' }, reason: options.reason,
        upTo: options.upTo }).catch((error: unknown) => {
        throw error instanceof NothingToApproveError ? new UsageError(error.message) : error;
      });
      logger.warn({ approvedJob: job, approvedUpTo: approved.approvedUpTo, approvedBy: approved.approvedBy, reason: approved.approvalReason },
        `${job} approved up to ${approved.approvedUpTo} beyond usual by ${approved.approvedBy}: its next runs send them`);
      return { outcome: 'done', counts: { approvedUpTo: approved.approvedUpTo ?? 0 } };
    },
  });
}
