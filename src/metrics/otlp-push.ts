import type { Logger } from '../logging/logger.js';
import type { TelemetryConfig } from '../tracing/telemetry-config.js';
import type { RunMetrics } from './run-metrics.js';

/** The most a run waits for the Collector to take its metrics, at its end. */
export const OTLP_METRICS_BOUND_MS = 2000;

/**
 * Sends the run's metrics to the Collector (OTEL_METRICS_EXPORTER=otlp), as the
 * Pushgateway push does: once, at the end, never fatal and bounded in time, so metrics
 * never fail or hold up the work they describe. The SDK is loaded only here.
 */
export async function exportRunMetrics(metrics: Pick<RunMetrics, 'registry'>, deps: { telemetry: TelemetryConfig; job: string;
  logger: Logger; startedAt: Date; boundMs?: number }): Promise<boolean> {
  const target = deps.telemetry.metrics;
  if (!target) return false;
  const boundMs = Math.min(deps.boundMs ?? OTLP_METRICS_BOUND_MS, target.timeoutMs);
  let timer: NodeJS.Timeout | undefined;
  try {
    const { exportRegistry } = await import('./otlp-metrics.js');
    const bound = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${boundMs} ms`)), boundMs);
    });
    await Promise.race([exportRegistry(metrics.registry, { target, job: deps.job, serviceName: deps.telemetry.serviceName,
      resourceAttributes: deps.telemetry.resourceAttributes, startedAt: deps.startedAt }), bound]);
    deps.logger.debug({ collector: target.url }, 'exported the run\'s metrics over OTLP');
    return true;
  } catch (error) {
    const reason = String((error as Error)?.message ?? error).replace(/[\s\p{Cc}]+/gu, ' ').slice(0, 200);
    deps.logger.warn({ collector: target.url, reason }, 'could not export the run\'s metrics over OTLP; the run is not affected');
    return false;
  } finally {
    clearTimeout(timer);
  }
}
