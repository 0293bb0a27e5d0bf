import { Argument, InvalidArgumentError, Option } from 'commander';
import { AbortRunError, UsageError } from '../../runner/errors.js';
import { defineJob, type JobContext, type JobResult } from '../../runner/job.type.js';
import { integerBetween } from '../../runner/option-parsers.js';
import { countRunFailures, getJobRun, getJobRuns, getRunFailures } from './job-run.dao.js';
import { traceLink } from '../../tracing/trace-link.js';
import { formatHolds, formatPauses, formatRunDetail, formatRunList } from './job-run.format.js';
import { getHolds } from '../../ledger/job-holds.js';
import { describePause, getPauses } from '../../ledger/job-pauses.js';
import { RUN_STATUSES, type RunsOptions, type RunStatus } from './job-run.type.js';
import { describeDeliveriesFallDue } from '../deliveries/fall-due.js';
import type { AnyNotificationJob } from '../../sweep/notification-job.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** `runs show` lists at most this many failures; the count says how many there are. */
const SHOWN_FAILURES = 1000;

function parseStatuses(raw: string): RunStatus[] {
  const statuses = raw.split(',').map((status) => status.trim());
  if (statuses.some((status) => !(RUN_STATUSES as readonly string[]).includes(status))) {
    throw new InvalidArgumentError(`Expected one or more of ${RUN_STATUSES.join(', ')}, comma-separated.`);
  }
  return statuses as RunStatus[];
}

function parseRunId(raw: string): string {
  if (!UUID.test(raw.trim())) throw new InvalidArgumentError('Expected a run id (a UUID, as `sweep runs` lists them).');
  return raw.trim().toLowerCase();
}

/**
 * The run history: recent runs with their counts, and one run in full with the deliveries
 * it left failing, each with its workspace's zone and the local time it fell due (`jobs`'
 * rules say when).
 */
export const runsCommand = (jobs: readonly AnyNotificationJob[]) => defineJob<RunsOptions>({
  name: 'runs',
  description: 'Lists recent runs from job_runs with their counts; `runs show <id>` shows one run and its failures.',
  arguments: () => [
    new Argument('[action]', 'list, or show: one run in full with its failed, dead and retrying deliveries')
      .choices(['list', 'show']).default('list'),
    new Argument('[id]', 'the run to show').argParser(parseRunId),
  ],
  options: () => [
    new Option('--job <name>', 'only this job\'s runs'),
    new Option('--status <statuses>', `comma-separated: ${RUN_STATUSES.join(', ')}`).argParser(parseStatuses),
    new Option('--limit <n>', 'list at most this many runs, newest first').argParser(integerBetween(1, 100_000)).default(20),
    new Option('--json', 'one JSON object a line (show: one object {run, failures}) instead of a table').default(false),
  ],
  database: 'schema',
  writesData: true,
  recordsRun: () => false,
  async run(context, options): Promise<JobResult> {
    const [action = 'list', id] = options.args ?? [];
    if (action === 'show') {
      if (!id) throw new UsageError('runs show needs a run id: sweep runs show <id> (`sweep runs` lists the ids)');
      return showRun(context, jobs, id, options.json);
    }
    if (id) throw new UsageError(`an id goes with show: sweep runs show ${id}`);
    const runs = await getJobRuns(context.db, { job: options.job, statuses: options.status }, options.limit);
    const pauses = (await getPauses(context.db)).filter((pause) => !options.job || pause.job === options.job);
    for (const pause of pauses) {
      context.logger.warn({ pausedJob: pause.job, pausedBy: pause.pausedBy, pausedAt: pause.pausedAt.toISOString(), reason: pause.reason },
        `${pause.job} is ${describePause(pause)}`);
    }
    if (options.json) {
      for (const run of runs) context.output.write(`${JSON.stringify(run)}\n`);
    } else {
      context.output.write(formatRunList(runs));
      if (pauses.length > 0) context.output.write(`\n${formatPauses(pauses)}`);
      const held = formatHolds((await getHolds(context.db)).filter((hold) => !options.job || hold.job === options.job));
      if (held) context.output.write(`\n${held}`);
    }
    return { outcome: 'done', counts: { listed: runs.length } };
  },
});

async function showRun({ db, output, logger, config }: JobContext, jobs: readonly AnyNotificationJob[], id: string, json: boolean):
Promise<JobResult> {
  const run = await getJobRun(db, id);
  // A well-formed id that is not there is not a usage error: the run may have been
  // pruned, or recorded in another database. Exit 1, like any lookup that failed.
  if (!run) throw new AbortRunError(`no run with id ${id} in this database (never recorded here, or pruned)`, { id });
  const failures = await getRunFailures(db, id, SHOWN_FAILURES);
  const failureCount = failures.length < SHOWN_FAILURES ? failures.length : await countRunFailures(db, id);
  if (failureCount > failures.length) {
    logger.warn({ id, failureCount, shown: failures.length }, `the run left ${failureCount} failures; showing the first ${failures.length}`);
  }
  const local = await describeDeliveriesFallDue(db, jobs, config.defaultTimeZone, failures, run.job);
  const shown = failures.map((failure) => ({ ...failure, time_zone: local.get(failure.key)?.timeZone ?? null,
    fell_due_local: local.get(failure.key)?.fellDueLocal ?? null }));
  const traceUrl = traceLink(config.traceUrl, run.trace_id) ?? null;
  output.write(json ? `${JSON.stringify({ run, traceUrl, failures: shown })}\n` : formatRunDetail(run, shown, failureCount, config.traceUrl));
  return { outcome: 'done', counts: { failures: failureCount } };
}
