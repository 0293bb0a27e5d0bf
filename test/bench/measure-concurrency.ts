import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { MockStats } from '../../mockserver/mock-server.type.js';
import type { BenchDatabase } from './bench-database.js';
import type { BenchOptions } from './bench-options.js';
import type { CeilingResult } from './ceiling.js';
import { childEnv, PROJECT_ROOT, spawnTracked } from './child-processes.js';
import type { Measurement } from './measurement.type.js';
import { postgresCpuTicks, readCpuTicks, readMemoryKb } from './measure-process.js';
import type { MockProcess } from './mock-process.js';
import { runSweeps, type SweepRunResult } from './sweep-runs.js';

export interface BenchSetup {
  options: BenchOptions;
  database: BenchDatabase;
  mock: MockProcess;
  runDate: string;
  /** The runs go as of the database's clock (no --date), as scheduled: the zones mode. */
  asOfNow?: boolean;
  logDir: string;
  ticksPerSecond: number;
}

/**
 * The limiter spaces requests 1/R apart from the first, so n requests take (n - 1) / R
 * seconds and the achieved rate sits just above R over short runs: 1% covers it.
 */
const RATE_TOLERANCE = 1.01;

/** A rerun over todos that are all sent should take less than this. */
export const RERUN_TARGET_SECONDS = 2;

/**
 * One concurrency: the ceiling, then a sweep over a fresh ledger, then a rerun. The mock
 * is reset before each, so its counts are that measurement's alone. With --tracing, the
 * traced sweep goes after the untraced one in odd repeats and before it in even ones: the
 * second of two identical sweeps here costs about 5% more CPU than the first (measured
 * with both untraced), a bias that alternating cancels.
 */
export async function measureConcurrency(setup: BenchSetup, concurrency: number, repeat = 1): Promise<Measurement[]> {
  const { options, mock } = setup;
  const n = options.todos;
  const ideal = options.latencyMs > 0 ? (options.runners * concurrency) / (options.latencyMs / 1000) : null;
  const base = {
    concurrency, runners: options.runners, todos: n, workspaces: options.workspaces, latencyMs: options.latencyMs,
    pageSize: options.pageSize, idealRatePerSecond: ideal, maxRate: options.maxRate === undefined ? null : options.maxRate * options.runners,
  };

  await mock.reset();
  const mockCpu = mockCpuMeter(mock, setup.ticksPerSecond);
  // K runners of C each keep K x C requests in flight: the ceiling gets the same.
  const ceilingRun = await runCeiling(setup, concurrency * options.runners);
  const ceilingStats = await mock.stats();
  const ceilingMockCpu = mockCpu.lap();
  const ceilingRate = n / ceilingRun.seconds;
  const ceiling: Measurement = {
    ...base, kind: 'ceiling', ratePerSecond: ceilingRate, ratioToCeiling: 1, ratioToIdeal: ratio(ceilingRate, ideal),
    wallSeconds: ceilingRun.seconds, jobRatePerSecond: null, peakRssMb: null, roundTrips: null, roundTripsPer1000: null,
    clientCpuSeconds: ceilingRun.cpuSeconds, mockCpuSeconds: ceilingMockCpu, pgCpuSeconds: null, pgCpuPercentOfSweep: null, pgBackendCpuSeconds: null, tokenFetches: ceilingRun.tokenFetches,
    mock: ceilingStats, mockRssMb: mockRssMb(mock),
    verdict: verdictOf([
      ...mockProblems(ceilingStats, n),
      ...(ceilingRun.failures > 0 ? [`${ceilingRun.failures} sends failed`] : []),
    ]),
  };

  const tracedFirst = options.tracing && repeat % 2 === 0 ? await runTracedSweep(setup, concurrency) : undefined;

  await mock.reset();
  await setup.database.resetLedger();
  mockCpu.lap();
  const sweepRun = await measureSweepRun(setup, concurrency);
  const sweepMockCpu = mockCpu.lap();
  const ledger = await setup.database.use(async (db) => {
    const rows = await db('deliveries').select('status').count<Array<{ status: string; count: string }>>('* as count').groupBy('status');
    return Object.fromEntries(rows.map((row) => [row.status, Number(row.count)]));
  });
  const sweepRate = n / sweepRun.run.wallSeconds;
  const jobRate = jobRateOf(sweepRun.run, n);
  const sweep: Measurement = {
    ...base, ...describeRun(sweepRun, n, setup.ticksPerSecond), kind: 'sweep', ratePerSecond: sweepRate,
    ratioToCeiling: sweepRate / ceilingRate, ratioToIdeal: ratio(sweepRate, ideal), jobRatePerSecond: jobRate, mock: sweepRun.mock,
    mockCpuSeconds: sweepMockCpu, mockRssMb: mockRssMb(mock),
    verdict: verdictOf([
      ...exitProblems(sweepRun.run),
      ...mockProblems(sweepRun.mock, n),
      ...(sumOf(sweepRun.run, 'sent') === n ? [] : [`runners report ${sumOf(sweepRun.run, 'sent')} sent`]),
      ...((ledger.sent ?? 0) === n ? [] : [`ledger has ${ledger.sent ?? 0} sent of ${n} (${JSON.stringify(ledger)})`]),
      ...(base.maxRate !== null && jobRate !== null && jobRate > base.maxRate * RATE_TOLERANCE
        ? [`${jobRate.toFixed(1)}/s is over --max-rate ${base.maxRate}/s`] : []),
    ]),
  };

  const traced = options.tracing ? [compareTraced(setup, tracedFirst ?? await runTracedSweep(setup, concurrency), sweep)] : [];

  await mock.reset();
  mockCpu.lap();
  const rerunRun = await measureSweepRun(setup, concurrency);
  const rerunMockCpu = mockCpu.lap();
  const found = sumOf(rerunRun.run, 'found');
  const rerun: Measurement = {
    ...base, ...describeRun(rerunRun, n, setup.ticksPerSecond), kind: 'rerun', ratePerSecond: null, ratioToCeiling: null,
    ratioToIdeal: null, jobRatePerSecond: null, mock: rerunRun.mock, mockCpuSeconds: rerunMockCpu, mockRssMb: mockRssMb(mock),
    verdict: verdictOf([
      ...exitProblems(rerunRun.run),
      ...(rerunRun.mock.notificationRequests > 0 ? [`${rerunRun.mock.notificationRequests} notifications sent again`] : []),
      ...(found > 0 ? [`found ${found} todos to notify`] : []),
    ], rerunRun.run.wallSeconds > RERUN_TARGET_SECONDS ? `SLOW: over the ${RERUN_TARGET_SECONDS} s target` : 'ok'),
  };
  return [ceiling, sweep, ...traced, rerun];
}

/** Traced at 100%: a rate at most 3% lower and CPU per notification at most 10% higher than untraced (issue 31). */
const TRACED_RATE_FLOOR = 0.97;
const TRACED_CPU_CEILING = 1.10;

type TracedRun = { measured: SweepMeasurement; sink: { requests: number; bytes: number } };

/**
 * The sweep again over a fresh ledger, traced: every span exported over OTLP/HTTP to a
 * sink in the bench process that reads each request and answers 200, as a Collector that
 * keeps up.
 */
async function runTracedSweep(setup: BenchSetup, concurrency: number): Promise<TracedRun> {
  const sink = await startOtlpSink();
  const { name, arg } = setup.options.traceSampler;
  try {
    await setup.mock.reset();
    await setup.database.resetLedger();
    const measured = await measureSweepRun(setup, concurrency, { OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, OTEL_TRACES_SAMPLER: name,
      ...(arg === undefined ? {} : { OTEL_TRACES_SAMPLER_ARG: arg }) });
    return { measured, sink: { requests: sink.requests, bytes: sink.bytes } };
  } finally {
    await sink.close();
  }
}

/** The traced sweep against the untraced one of the same repeat. */
function compareTraced(setup: BenchSetup, { measured, sink }: TracedRun, untraced: Measurement): Measurement {
  const n = setup.options.todos;
  const described = describeRun(measured, n, setup.ticksPerSecond);
  const rate = n / measured.run.wallSeconds;
  const rateRatio = untraced.ratePerSecond ? rate / untraced.ratePerSecond : null;
  const cpuRatio = untraced.clientCpuSeconds > 0 ? described.clientCpuSeconds / untraced.clientCpuSeconds : null;
  const compared = `rate x${rateRatio?.toFixed(3)}, CPU/n x${cpuRatio?.toFixed(3)} vs untraced; ${sink.requests} exports, `
    + `${(sink.bytes / n).toFixed(0)} B/notification`;
  const sampledAll = setup.options.traceSampler.name.endsWith('always_on');
  return {
    ...untraced, ...described, kind: 'traced',
    ...(rateRatio !== null && cpuRatio !== null ? { vsUntraced: { rate: rateRatio, cpuPerNotification: cpuRatio } } : {}), ratePerSecond: rate, ratioToCeiling: untraced.ratioToCeiling === null ? null
      : rate / (untraced.ratePerSecond! / untraced.ratioToCeiling), ratioToIdeal: null, jobRatePerSecond: jobRateOf(measured.run, n),
    mock: measured.mock, mockCpuSeconds: null,
    verdict: verdictOf([
      ...exitProblems(measured.run),
      ...mockProblems(measured.mock, n),
      ...(sampledAll && sink.bytes === 0 ? ['no span reached the sink'] : []),
    ], rateRatio !== null && cpuRatio !== null && (rateRatio < TRACED_RATE_FLOOR || cpuRatio > TRACED_CPU_CEILING)
      ? `OVER TARGET: ${compared}` : `ok: ${compared}`),
  };
}

/** An OTLP/HTTP endpoint that takes every export (200) and counts it: the Collector's side costs the runners nothing. */
async function startOtlpSink(): Promise<{ url: string; requests: number; bytes: number; close(): Promise<void> }> {
  const sink = { url: '', requests: 0, bytes: 0, close: async () => undefined as void };
  const server = createServer((req, res) => {
    req.on('data', (chunk: Buffer) => { sink.bytes += chunk.length; });
    req.on('end', () => {
      sink.requests += 1;
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  sink.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  sink.close = () => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
  return sink;
}

/** The ceiling in a process of its own, with the runners' node flags: as cold as they are. */
async function runCeiling(setup: BenchSetup, concurrency: number): Promise<CeilingResult> {
  let output = '';
  const flags = ceilingNodeFlags(setup.options.nodeFlags, setup.options.todos);
  const child = spawnTracked(process.execPath, [...flags, '--import', 'tsx', join(PROJECT_ROOT, 'test/bench/ceiling-process.ts')], {
    env: childEnv({ DATABASE_URL: setup.database.url, SERVICES_URL: setup.mock.url, CONCURRENCY: String(concurrency),
      PAGE_SIZE: String(setup.options.pageSize) }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.child.stdout?.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  child.child.stderr?.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  const code = await child.exited;
  const line = output.trim().split('\n').at(-1) ?? '';
  if (code !== 0 || !line.startsWith('{')) throw new Error(`the ceiling process exited ${code}: ${line.slice(0, 300)}`);
  return JSON.parse(line) as CeilingResult;
}

/**
 * The runners' flags, except that the ceiling holds all N todos in memory (the sweep
 * never does): an old-space cap gets room for them, about 500 bytes a todo.
 */
export function ceilingNodeFlags(runnerFlags: readonly string[], todos: number): string[] {
  const cap = runnerFlags.map((flag) => /^--max-old-space-size=(\d+)$/.exec(flag)).find(Boolean);
  if (!cap) return [...runnerFlags];
  const megabytes = Number(cap[1]) + Math.ceil((todos * 500) / (1024 * 1024));
  return [...runnerFlags.filter((flag) => !flag.startsWith('--max-old-space-size=')), `--max-old-space-size=${megabytes}`];
}

export interface SweepMeasurement {
  run: SweepRunResult;
  roundTrips: number;
  pgTicks: number;
  sweepTicks: number;
  mock: MockStats;
}

/** Runs the sweeps between two readings of the database's transactions and the CPU counters. */
export async function measureSweepRun(setup: BenchSetup, concurrency: number, env?: Record<string, string>): Promise<SweepMeasurement> {
  const { database, options } = setup;
  const transactionsBefore = await database.settledTransactions();
  const pgBefore = postgresCpuTicks();
  const childrenBefore = readCpuTicks('self')?.children ?? 0;
  const run = await runSweeps({
    runners: options.runners, concurrency, pageSize: options.pageSize, maxRate: options.maxRate, nodeFlags: options.nodeFlags,
    build: options.build, runDate: setup.asOfNow ? undefined : setup.runDate, env,
    databaseUrl: database.url, databaseName: database.name, servicesUrl: setup.mock.url, logDir: setup.logDir,
  });
  // The runners are reaped: their whole CPU is in our cutime+cstime now.
  const sweepTicks = (readCpuTicks('self')?.children ?? 0) - childrenBefore;
  const transactionsAfter = await database.settledTransactions();
  const pgTicks = postgresCpuTicks() - pgBefore;
  return { run, roundTrips: transactionsAfter - transactionsBefore, pgTicks, sweepTicks, mock: await setup.mock.stats() };
}

export function describeRun(measured: SweepMeasurement, n: number, ticksPerSecond: number) {
  const { run } = measured;
  const clientCpuSeconds = measured.sweepTicks / ticksPerSecond;
  const pgCpuSeconds = measured.pgTicks / ticksPerSecond;
  return {
    wallSeconds: run.wallSeconds,
    peakRssMb: Math.max(...run.processes.map((p) => p.peakRssKb)) / 1024,
    roundTrips: measured.roundTrips,
    roundTripsPer1000: (measured.roundTrips / n) * 1000,
    clientCpuSeconds,
    pgCpuSeconds,
    pgCpuPercentOfSweep: clientCpuSeconds > 0 ? (pgCpuSeconds / clientCpuSeconds) * 100 : null,
    pgBackendCpuSeconds: run.backendCpuTicks / ticksPerSecond,
    tokenFetches: sumOf(run, 'tokenFetches'),
    runnersDetail: run.processes.map((p) => ({
      pid: p.pid, exitCode: p.exitCode, seconds: p.seconds, peakRssMb: p.peakRssKb / 1024, logLines: p.logLines,
      sent: p.summary?.sent, found: p.summary?.found, claimedElsewhere: p.summary?.claimedElsewhere,
      durationMs: p.summary?.durationMs, ...(p.lastError ? { lastError: p.lastError } : {}),
    })),
  };
}

/**
 * Notifications per second over the jobs' own time, start-up excluded: todos over the
 * longest runner's summary durationMs. What --max-rate limits.
 */
export function jobRateOf(run: SweepRunResult, n: number): number | null {
  const durations = run.processes.map((p) => p.summary?.durationMs).filter((ms): ms is number => typeof ms === 'number' && ms > 0);
  return durations.length === run.processes.length ? n / (Math.max(...durations) / 1000) : null;
}

export function mockProblems(stats: MockStats, n: number): string[] {
  const problems: string[] = [];
  if (stats.accepted !== n) problems.push(`mock accepted ${stats.accepted} of ${n}`);
  if (stats.duplicates > 0) problems.push(`mock saw ${stats.duplicates} duplicates`);
  if (stats.notificationRequests !== n) problems.push(`mock got ${stats.notificationRequests} requests for ${n} todos`);
  return problems;
}

export function exitProblems(run: SweepRunResult): string[] {
  return run.processes.filter((p) => p.exitCode !== 0)
    .map((p) => `runner ${p.pid} exited ${p.exitCode}${p.lastError ? ` (${p.lastError})` : ''}`);
}

export function sumOf(run: SweepRunResult, field: string): number {
  return run.processes.reduce((total, p) => total + (typeof p.summary?.[field] === 'number' ? (p.summary[field] as number) : 0), 0);
}

export function verdictOf(problems: string[], otherwise = 'ok'): string {
  return problems.length > 0 ? `FAILED: ${problems.join('; ')}` : otherwise;
}

function ratio(rate: number, ideal: number | null): number | null {
  return ideal === null ? null : rate / ideal;
}

/** The mockserver's CPU since the last lap, in seconds. */
export function mockCpuMeter(mock: MockProcess, ticksPerSecond: number): { lap(): number | null } {
  let last = readCpuTicks(mock.pid)?.own;
  return {
    lap() {
      const now = readCpuTicks(mock.pid)?.own;
      const seconds = now === undefined || last === undefined ? null : (now - last) / ticksPerSecond;
      last = now;
      return seconds;
    },
  };
}

export function mockRssMb(mock: MockProcess): number | null {
  const memory = readMemoryKb(mock.pid);
  return memory ? memory.current / 1024 : null;
}
