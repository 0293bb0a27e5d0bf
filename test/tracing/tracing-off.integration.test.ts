import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver.js';
import { SWEEP_FROM_SOURCES } from '../support/sweep-process.js';
import { useTestDatabase } from '../support/testbed.js';

/** Runs `sweep runs` as a process and returns how many modules of OpenTelemetry's SDK it loaded. */
async function otelModulesLoaded(env: Record<string, string>): Promise<{ exitCode: number; loaded: number }> {
  const [tsx, loader, main] = SWEEP_FROM_SOURCES as [string, string, string];
  const child = spawn(process.execPath, [tsx, loader, '--import', './test/support/report-loaded-otel.mjs', main, 'runs'], {
    env: { PATH: process.env.PATH ?? '', LOG_FORMAT: 'json', ...env }, stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  const exitCode = await new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? -1)));
  const report = /\{"otelModulesLoaded":(\d+)\}/.exec(stderr);
  if (!report) throw new Error(`no report from the process: ${stderr}`);
  return { exitCode, loaded: Number(report[1]) };
}

// A process of its own on the test database: the server lane (the embedded one would need a data directory per process).
describe.runIf(inject('testDatabase').kind === 'postgres')('tracing, off by default', () => {
  const holder = useTestDatabase([]);
  let receiver: OtlpReceiver;
  beforeAll(async () => { receiver = await startOtlpReceiver(); });
  afterAll(async () => { await receiver?.close(); });

  it('loads nothing of the OpenTelemetry SDK without an OTEL_* setting, and loads it once one asks for traces', async () => {
    const off = await otelModulesLoaded(holder.database.env);
    expect(off).toEqual({ exitCode: 0, loaded: 0 });

    const on = await otelModulesLoaded({ ...holder.database.env, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
    expect(on.exitCode).toBe(0);
    expect(on.loaded).toBeGreaterThan(20);
    // `sweep runs` is a run too: its trace arrived, with its statements.
    expect(receiver.spans.some((span) => span.name === 'run runs')).toBe(true);
  });
});
