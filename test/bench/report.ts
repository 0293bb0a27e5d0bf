import { writeFileSync } from 'node:fs';
import type { BenchContext, Measurement } from './measurement.type.js';

type Cell = string | number | null | undefined;

interface Column {
  title: string;
  value: (m: Measurement) => Cell;
  /** Left-aligned (text) rather than right-aligned (numbers). */
  left?: boolean;
}

const fixed = (digits: number) => (value: number | null) => (value === null || !Number.isFinite(value) ? '-' : value.toFixed(digits));

/** A runner that did not finish its work has no rate worth reading. */
const ifMeasured = (m: Measurement, cell: string) => (m.runnersDetail?.some((runner) => runner.exitCode !== 0) ? '-' : cell);

const COLUMNS: Column[] = [
  { title: 'kind', value: (m) => m.kind, left: true },
  { title: 'C', value: (m) => m.concurrency },
  { title: 'K', value: (m) => m.runners },
  { title: 'N', value: (m) => m.todos },
  { title: 'rate/s', value: (m) => ifMeasured(m, fixed(0)(m.ratePerSecond)) },
  { title: 'x ceiling', value: (m) => ifMeasured(m, fixed(2)(m.ratioToCeiling)) },
  { title: 'x K*C/L', value: (m) => ifMeasured(m, fixed(2)(m.ratioToIdeal)) },
  { title: 'job/s', value: (m) => ifMeasured(m, fixed(0)(m.jobRatePerSecond)) },
  { title: 'wall s', value: (m) => fixed(2)(m.wallSeconds) },
  { title: 'RSS MB', value: (m) => fixed(0)(m.peakRssMb) },
  { title: 'RT/1k', value: (m) => fixed(1)(m.roundTripsPer1000) },
  { title: 'PG CPU %', value: (m) => fixed(0)(m.pgCpuPercentOfSweep) },
  { title: 'tokens', value: (m) => m.tokenFetches },
  { title: 'mock req/acc/dup', value: (m) => `${m.mock.notificationRequests}/${m.mock.accepted}/${m.mock.duplicates}` },
  { title: 'limit/s', value: (m) => (m.kind === 'sweep' ? m.maxRate ?? '-' : '-') },
  { title: 'verdict', value: (m) => m.verdict, left: true },
];

/** One row per measurement, columns padded to their widest cell. */
export function formatTable(measurements: Measurement[]): string {
  const cells = [COLUMNS.map((c) => c.title), ...measurements.map((m) => COLUMNS.map((c) => String(c.value(m) ?? '-')))];
  const widths = COLUMNS.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? '').length)));
  const line = (row: string[]) => row.map((cell, i) => (COLUMNS[i]?.left ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
    .join('  ').trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(cells[0] ?? []), rule, ...cells.slice(1).map(line)].join('\n');
}

/** What the columns mean, printed under the table. */
export function describeColumns(ideal: { latencyMs: number }): string {
  return [
    `rate/s: todos / wall time (sweep: spawn to last exit, node start-up included). x K*C/L: against the latency-bound`,
    `ideal, runners x concurrency / ${ideal.latencyMs} ms. ceiling: the same HTTP work in the bench process with no database,`,
    `C x K in flight. RSS MB: highest runner peak (VmHWM, polled every 50 ms). RT/1k: transactions in the bench database`,
    `per 1,000 todos (pg_stat_database xact_commit + xact_rollback; every autocommitted statement is one: a proxy for`,
    `round trips). PG CPU %: CPU of all postgres processes on this machine / CPU of the runners. tokens: the runners'`,
    `tokenFetches. mock req/acc/dup: notification requests, accepted keys, 409 duplicates counted by the mockserver.`,
    `job/s: todos / the longest runner's own durationMs (start-up excluded). limit/s: --max-rate x K; a sweep over it FAILS.`,
  ].join('\n');
}

/** results.jsonl: one JSON object per measurement, with the run's context on each. */
export function writeResults(path: string, context: BenchContext, measurements: Measurement[]): void {
  writeFileSync(path, measurements.map((m) => JSON.stringify({ ...context, ...round(m) })).join('\n') + '\n');
}

/** Three decimals are plenty, and keep the lines readable. */
function round<T>(value: T): T {
  return JSON.parse(JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' && !Number.isInteger(v) ? Math.round(v * 1000) / 1000 : v))) as T;
}
