/**
 * The address of a run's trace in the team's trace UI: SWEEP_TRACE_URL with {traceId}
 * replaced (Jaeger: https://jaeger.example/trace/{traceId}; Grafana Tempo: its explore
 * URL). Undefined without a template or a trace id.
 */
export function traceLink(template: string | undefined, traceId: string | null | undefined): string | undefined {
  if (!template || !traceId || !/^[0-9a-f]{32}$/.test(traceId)) return undefined;
  return template.replaceAll('{traceId}', traceId);
}
