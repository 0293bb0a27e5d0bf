import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { getConfig } from '../../src/configuration/config.js';

const root = new URL('../../', import.meta.url);
const OPERATING = readFileSync(new URL('docs/operating.md', root), 'utf8');
const section = OPERATING.split('### Pointing sweep at a Collector')[1]!.split('\n### ')[0]!;
const TELEMETRY_SOURCE = readFileSync(new URL('src/tracing/telemetry-config.ts', root), 'utf8');

/** docs/operating.md's Collector set-up is one sweep accepts, and its table names only variables sweep reads. */
describe('pointing sweep at a Collector (docs/operating.md)', () => {
  it('its container env is a configuration sweep accepts, with traces on as the text says', () => {
    const yaml = /```yaml\n([\s\S]*?)```/.exec(section)![1]!;
    const entries = (parse(yaml) as { env: Array<{ name: string; value?: string }> }).env;
    // Kubernetes expands $(NAME) from the entries before it; a downward-API value stands in for the pod's name.
    const env: Record<string, string> = {};
    for (const { name, value } of entries) env[name] = (value ?? `${name.toLowerCase()}-from-the-pod`).replace(/\$\((\w+)\)/g, (_, ref: string) => env[ref] ?? '');
    const config = getConfig(env);
    expect(config.telemetry.traces).toMatchObject({ url: 'http://otel-collector.observability:4318/v1/traces',
      sampler: 'parentbased_traceidratio', ratio: 0.25 });
    expect(config.telemetry.resourceAttributes).toMatchObject({ 'k8s.pod.name': 'pod_name-from-the-pod', 'deployment.environment': 'production' });
    expect(config.telemetry.serviceName).toBe('sweep');
    expect(config.traceUrl).toBe('https://jaeger.example.com/trace/{traceId}');
  });

  it('names in its table only OTEL_ variables sweep reads', () => {
    const named = new Set([...section.matchAll(/`(OTEL_[A-Z_]+)`/g)].map((match) => match[1]!));
    expect(named.size).toBeGreaterThan(12);
    for (const name of named) {
      // Read by name, or as OTEL_EXPORTER_OTLP_<SIGNAL>_… built from the signal.
      const generic = name.replace(/^OTEL_EXPORTER_OTLP_TRACES_/, 'OTEL_EXPORTER_OTLP_${upper}_');
      expect(TELEMETRY_SOURCE.includes(`'${name}'`) || TELEMETRY_SOURCE.includes(generic), name).toBe(true);
    }
  });
});
