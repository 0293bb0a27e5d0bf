import { Argument, Option } from 'commander';
import { describePause } from '../../ledger/job-pauses.js';
import { Gauge, Registry } from 'prom-client';
import { JOB_PAUSED_GAUGE, pushRunMetrics } from '../../metrics/run-metrics.js';
import { defineJob, type JobContext, type JobDefinition } from '../../runner/job.type.js';
import { operator } from '../../runner/operator-name.js';
import { pauseJobAudited, resumeJobAudited } from './pause.js';

interface PauseOptions {
  args?: string[];
  reason?: string;
  by: string;
}

const jobArgument = (jobs: string[]) => () => [new Argument('<job>', 'the notification job').choices(jobs)];

/**
 * Tells the metrics at once, in the paused job's own group: its runs push the same gauge,
 * but a daily job's next run may be a day away, and its pause alert would go on firing.
 */
async function pushPaused({ config, logger }: JobContext, job: string, paused: boolean): Promise<void> {
  if (!config.pushgatewayUrl) return;
  // This gauge alone: a push replaces, in the job's group, the metrics it names.
  const registry = new Registry();
  new Gauge({ ...JOB_PAUSED_GAUGE, registers: [registry] }).set(paused ? 1 : 0);
  await pushRunMetrics({ registry }, { url: config.pushgatewayUrl, job, logger, timeoutMs: config.http.timeoutMs });
}

/**
 * The pause switch, for when a notification goes out wrong: every runner of the job,
 * wherever it runs, stops claiming within a second or two and finishes or releases
 * what it holds (exit 75); a run started while the job is paused sends nothing and
 * exits 0, so no CronJob fails or retries because of it. Nothing to change in the
 * CronJobs: `sweep resume <job>` and the next scheduled run goes on.
 */
export function pauseCommands(jobs: string[]): Array<JobDefinition<PauseOptions>> {
  return [
    defineJob<PauseOptions>({
      name: 'pause',
      description: 'Pauses a notification job: its live runs stop within seconds, new runs send nothing, until `sweep resume`.',
      arguments: jobArgument(jobs),
      options: () => [
        new Option('--reason <text>', 'why, for the operators who find the job paused (logged by every run of it)'),
        new Option('--by <name>', 'who paused it, for the pause and the audit (default: user@host)').default(operator()),
      ],
      database: 'schema',
      recordsRun: () => false,
      async run(context, options) {
        const { db, logger } = context;
        const job = options.args?.[0] as string;
        const pause = await pauseJobAudited(db, { job, actor: { name: options.by, source: 'cli' }, reason: options.reason });
        await pushPaused(context, job, true);
        logger.warn({ pausedJob: job, pausedBy: pause.pausedBy, reason: pause.reason },
          `${job} is ${describePause(pause)}: its live runs stop within seconds; new runs send nothing until sweep resume ${job}`);
        return { outcome: 'done', counts: { paused: 1 } };
      },
    }),
    defineJob<PauseOptions>({
      name: 'resume',
      description: 'Resumes a paused notification job: its next run sends again.',
      arguments: jobArgument(jobs),
      options: () => [
        new Option('--reason <text>', 'why, for the audit (sweep console, table console_audit)'),
        new Option('--by <name>', 'who resumed it, for the audit (default: user@host)').default(operator()),
      ],
      database: 'schema',
      recordsRun: () => false,
      async run(context, options) {
        const { db, logger } = context;
        const job = options.args?.[0] as string;
        const pause = await resumeJobAudited(db, { job, actor: { name: options.by, source: 'cli' }, reason: options.reason });
        await pushPaused(context, job, false);
        if (pause) logger.info({ resumedJob: job, wasPausedBy: pause.pausedBy, reason: pause.reason }, `${job} resumed (was ${describePause(pause)})`);
        else logger.info({ resumedJob: job }, `${job} was not paused: nothing to do`);
        return { outcome: 'done', counts: { resumed: pause ? 1 : 0 } };
      },
    }),
  ];
}
