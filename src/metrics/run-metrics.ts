import { Gauge, Histogram, Pushgateway, Registry } from 'prom-client';
import { redactUrl } from '../configuration/url-secrets.js';
import type { Logger } from '../logging/logger.js';

/**
 * A run's metrics, pushed once at its end to a Prometheus Pushgateway, grouped by job
 * (a batch job lives too briefly to be scraped). Names follow Prometheus' conventions:
 * base units, `_seconds`, `_total` only on counters.
 */
export interface RunMetrics {
  readonly registry: Registry;
  /** Latency of one request to another team's service, by endpoint and outcome. */
  readonly requestDuration: Histogram<'endpoint' | 'outcome'>;
  /** Sets a gauge the job owns (e.g. its backlog), creating it on first use. */
  setGauge(name: string, help: string, value: number): void;
}

/** Set by every run of a notification job from the run registry (job_runs). */
export const ABANDONED_RUNS_GAUGE = {
  name: 'sweep_abandoned_runs',
  help: 'Runs of the job started in the last day and left running by a process that died without recording its end (their lease is over).',
};

/** Set by every run of a notification job that counts before sending (the brake: sweep/run-brake.ts). */
export const HOLD_GAUGES = {
  held: { name: 'sweep_run_held', help: 'Whether the last run held, sending nothing, because it would have sent far more than usual (sweep approve): 1 held, 0 not.' },
  count: { name: 'sweep_run_to_send', help: 'What the last run counted to send before its first send (new and owed).' },
  usual: { name: 'sweep_run_usual', help: 'What is usual for the job over the time the last run covered, from its run history.' },
} as const;

/** Set by every run of a notification job, and pushed alone by `sweep pause` and `sweep resume`. */
export const JOB_PAUSED_GAUGE = {
  name: 'sweep_job_paused',
  help: 'Whether the job was paused (sweep pause) when its last run ended: 1 paused, 0 not.',
} as const;

export function createRunMetrics(): RunMetrics {
  const registry = new Registry();
  const gauges = new Map<string, Gauge>();
  const requestDuration = new Histogram({
    name: 'sweep_request_duration_seconds',
    help: 'Latency of requests to the auth and notify services.',
    labelNames: ['endpoint', 'outcome'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  return {
    registry,
    requestDuration,
    setGauge(name, help, value) {
      let gauge = gauges.get(name);
      if (!gauge) {
        gauge = new Gauge({ name, help, registers: [registry] });
        gauges.set(name, gauge);
      }
      gauge.set(value);
    },
  };
}

export interface RunOutcome {
  exitCode: number;
  durationSeconds: number;
  counts: Record<string, number>;
}

/** The gauges every run has, set from its outcome. */
export function recordRunOutcome(metrics: RunMetrics, outcome: RunOutcome, now: Date = new Date()): void {
  metrics.setGauge('sweep_run_duration_seconds', 'How long the last run took.', outcome.durationSeconds);
  metrics.setGauge('sweep_run_exit_code', 'Exit code of the last run: 0 done, 1 aborted, 64 usage, 65 held (far more than usual), 75 retry later, 130/143 signal.',
    outcome.exitCode);
  metrics.setGauge('sweep_run_last_timestamp_seconds', 'When the last run ended, successful or not.', now.getTime() / 1000);
  const items = new Gauge({
    name: 'sweep_run_items', help: 'Items of the last run, by what happened to them (found, sent, failedPermanently, dead, ...).',
    labelNames: ['count'] as const, registers: [metrics.registry],
  });
  for (const [count, value] of Object.entries(outcome.counts)) items.set({ count }, value);
  // Pushed only by a run that succeeded: a failed run must not hide an old success.
  if (outcome.exitCode === 0) {
    metrics.setGauge('sweep_last_success_timestamp_seconds', 'When a run of this job last succeeded (exit 0).', now.getTime() / 1000);
  }
}

/**
 * POSTs (pushAdd) to the job's group: metrics this push leaves out, such as the last
 * success of an earlier run, keep their old values. A failed push is logged, never
 * fatal: metrics must not fail the work they describe. The URL may carry basic-auth
 * credentials (prom-client sends them); the log shows it with its password hidden.
 */
export async function pushRunMetrics(metrics: Pick<RunMetrics, 'registry'>, deps: { url: string; job: string; logger: Logger; timeoutMs: number }): Promise<boolean> {
  const pushgateway = redactUrl(deps.url);
  try {
    // timeout is the socket's idle time; the signal bounds the whole push, answer included.
    const gateway = new Pushgateway(deps.url, { timeout: deps.timeoutMs, signal: AbortSignal.timeout(deps.timeoutMs) }, metrics.registry);
    const { resp } = await gateway.pushAdd({ jobName: deps.job });
    const status = (resp as { statusCode?: number } | undefined)?.statusCode;
    if (status !== undefined && (status < 200 || status >= 300)) throw new Error(`the Pushgateway answered ${status}`);
    deps.logger.debug({ pushgateway }, 'pushed the run\'s metrics');
    return true;
  } catch (error) {
    // prom-client puts the gateway's whole answer in its message: one short line of it.
    const reason = String((error as Error)?.message ?? error).replace(/[\s\p{Cc}]+/gu, ' ').slice(0, 200);
    deps.logger.warn({ pushgateway, reason }, 'could not push the run\'s metrics; the run is not affected');
    return false;
  }
}
