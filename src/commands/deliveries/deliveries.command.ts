import { Argument, InvalidArgumentError, Option } from 'commander';
import { UsageError } from '../../runner/errors.js';
import { defineJob, type JobResult } from '../../runner/job.type.js';
import { integerBetween } from '../../runner/option-parsers.js';
import { formatColumns } from '../../runner/printer.js';
import type { AnyNotificationJob } from '../../sweep/notification-job.js';
import { countDeliveriesByStatus, getDeliveries } from './delivery.dao.js';
import { DELIVERY_STATUSES, type DeliveriesOptions, type DeliveryFilter, type DeliveryStatus } from './delivery.type.js';
import { operator } from '../../runner/operator-name.js';
import { rearmDeliveriesAudited } from './rearm.js';
import { describeDeliveriesFallDue } from './fall-due.js';

/** `deliveries retry` names at most this many deliveries it did not re-arm, then how many more. */
const LISTED = 100;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function parseStatuses(raw: string): DeliveryStatus[] {
  const statuses = raw.split(',').map((status) => status.trim());
  const unknown = statuses.filter((status) => !(DELIVERY_STATUSES as readonly string[]).includes(status));
  if (unknown.length > 0) throw new InvalidArgumentError(`Expected one or more of ${DELIVERY_STATUSES.join(', ')}, comma-separated.`);
  return statuses as DeliveryStatus[];
}

function parseUuid(raw: string): string {
  if (!UUID.test(raw.trim())) throw new InvalidArgumentError('Expected a workspace id (a UUID).');
  return raw.trim();
}

/**
 * The dead-letter view: what the ledger holds, by status, job, workspace or key, with
 * attempts and last error; and `retry`, which re-arms what an operator has fixed, once
 * each delivery's job (of `jobs`) has said its item still stands.
 */
export const deliveriesCommand = (jobs: AnyNotificationJob[]) => defineJob<DeliveriesOptions>({
  name: 'deliveries',
  description: 'Lists deliveries by status, job, workspace, key or item; `deliveries retry` re-arms failed, dead and superseded ones.',
  arguments: () => [new Argument('[action]', 'list, or retry: make the matching failed/dead/superseded deliveries due again')
    .choices(['list', 'retry']).default('list')],
  options: () => [
    new Option('--status <statuses>', `comma-separated: ${DELIVERY_STATUSES.join(', ')}`).argParser(parseStatuses),
    new Option('--job <name>', 'only this job\'s deliveries'),
    new Option('--workspace <id>', 'only this workspace\'s deliveries').argParser(parseUuid),
    new Option('--key <key>', 'one delivery, by its Idempotency-Key'),
    new Option('--item <id>', 'only this item\'s deliveries (a todo\'s id; a workspace\'s for digests): was it notified?'),
    new Option('--limit <n>', 'list at most this many, most recently changed first').argParser(integerBetween(1, 100_000)).default(50),
    new Option('--json', 'one JSON object a line instead of a table').default(false),
    new Option('--force', 'retry: also re-arm those whose item no longer stands (a todo deleted, a due date moved); '
      + 'the next run sends them as first meant').default(false),
    new Option('--reason <text>', 'retry: why, for the audit (table console_audit)'),
    new Option('--by <name>', 'retry: who re-arms, for the audit (default: user@host)').default(operator()),
  ],
  database: 'schema',
  writesData: true,
  recordsRun: () => false,
  async run({ db, logger, output, config }, options): Promise<JobResult> {
    const filter: DeliveryFilter = { statuses: options.status, job: options.job, workspaceId: options.workspace, key: options.key,
      itemId: options.item };
    if (options.args?.[0] === 'retry') {
      if (!filter.statuses && !filter.job && !filter.workspaceId && !filter.key && !filter.itemId) {
        throw new UsageError('deliveries retry needs --key, --item, --status, --workspace or --job: it will not re-arm everything by accident');
      }
      const force = options.force;
      const { rearmed, notStanding } = await rearmDeliveriesAudited(db, jobs,
        { filter, force, actor: { name: options.by, source: 'cli' }, reason: options.reason });
      for (const { key, reason } of notStanding.slice(0, LISTED)) {
        output.write(force ? `re-armed anyway (--force): ${key}: ${reason}\n`
          : `not re-armed: ${key}: ${reason}, so it would not be true now (--force re-arms it anyway)\n`);
      }
      if (notStanding.length > LISTED) output.write(`… and ${notStanding.length - LISTED} more whose item no longer stands\n`);
      // forJob, not job: the logger's job is this command's, and a line must not carry two.
      logger.info({ statuses: filter.statuses, forJob: filter.job, workspaceId: filter.workspaceId, key: filter.key, itemId: filter.itemId, rearmed,
        noLongerStanding: notStanding.length, force },
      `re-armed ${rearmed} delivery(ies): the next run of their job sends them`
        + (notStanding.length === 0 ? '' : force ? `; ${notStanding.length} of them forced although their item no longer stands`
          : `; left ${notStanding.length} whose item no longer stands`));
      output.write(`re-armed ${rearmed} delivery(ies); the next run of their job sends them\n`);
      return { outcome: 'done', counts: { rearmed, ...(force ? { forced: notStanding.length } : { notRearmed: notStanding.length }) } };
    }
    const rows = await getDeliveries(db, filter, options.limit);
    const local = await describeDeliveriesFallDue(db, jobs, config.defaultTimeZone, rows);
    if (options.json) {
      for (const row of rows) {
        output.write(`${JSON.stringify({ ...row, time_zone: local.get(row.key)?.timeZone ?? null,
          fell_due_local: local.get(row.key)?.fellDueLocal ?? null })}\n`);
      }
    } else {
      const byStatus = await countDeliveriesByStatus(db, filter);
      output.write(`${DELIVERY_STATUSES.map((status) => `${status} ${byStatus[status] ?? 0}`).join(' · ')}\n\n`);
      output.write(formatColumns(['status', 'attempts', 'last', 'updated', 'workspace', 'zone', 'fell due (local)', 'key', 'last error'],
        rows.map((row) => [
          row.status, row.attempts, row.last_status, row.updated_at.toISOString().slice(0, 19), row.workspace_id,
          local.get(row.key)?.timeZone ?? null, local.get(row.key)?.fellDueLocal ?? null, row.key,
          row.last_error ? row.last_error.slice(0, 80) : null,
        ])));
    }
    return { outcome: 'done', counts: { listed: rows.length } };
  },
});
