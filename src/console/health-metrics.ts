import { Gauge, Registry } from 'prom-client';
import { HEALTH_STATES } from './job-health.js';
import type { JobOverview } from './job-overview.js';

/**
 * The jobs' health for Prometheus, the same state the jobs page and GET /api/v1/jobs give:
 * `sweep_job_health{job, state}` is 1 for the job's state and 0 for the others (alert on
 * `sweep_job_health{state=~"failing|overdue"} == 1`), beside the seconds since its last
 * success and what waits for an operator.
 */
export async function renderHealthMetrics(overviews: JobOverview[]): Promise<{ contentType: string; text: string }> {
  const registry = new Registry();
  const health = new Gauge({ name: 'sweep_job_health', help: 'The job\'s health: 1 for its state (failing, overdue, held, paused, healthy), 0 for the others',
    labelNames: ['job', 'state'], registers: [registry] });
  const sinceSuccess = new Gauge({ name: 'sweep_job_seconds_since_success', help: 'Seconds since the job\'s last successful run (absent: never)',
    labelNames: ['job'], registers: [registry] });
  const waiting = new Gauge({ name: 'sweep_job_deliveries_waiting_for_operator', help: 'Dead and failed deliveries of the job (a count that stops at 100,000)',
    labelNames: ['job'], registers: [registry] });
  for (const overview of overviews) {
    for (const state of HEALTH_STATES) health.set({ job: overview.job, state }, overview.health.state === state ? 1 : 0);
    if (overview.secondsSinceLastSuccess !== null) sinceSuccess.set({ job: overview.job }, overview.secondsSinceLastSuccess);
    waiting.set({ job: overview.job }, overview.ledger.dead + overview.ledger.failed);
  }
  return { contentType: registry.contentType, text: await registry.metrics() };
}
