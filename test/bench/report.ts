import { writeFileSync } from 'node:fs';
import type { BenchContext, HistorySetup, Measurement } from './measurement.type.js';

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
  { title: 'CPU us/n', value: (m) => ifMeasured(m, fixed(0)(cpuMicrosPerNotification(m))) },
  { title: 'RT/1k', value: (m) => fixed(1)(m.roundTripsPer1000) },
  { title: 'PG CPU %', value: (m) => fixed(0)(m.pgCpuPercentOfSweep) },
  { title: 'tokens', value: (m) => m.tokenFetches },
  { title: 'mock req/acc/dup', value: (m) => `${m.mock.notificationRequests}/${m.mock.accepted}/${m.mock.duplicates}` },
  { title: 'limit/s', value: (m) => (m.kind === 'sweep' ? m.maxRate ?? '-' : '-') },
  { title: 'verdict', value: (m) => m.verdict, left: true },
];

/** The sender's CPU per todo sent; a rerun sends nothing, so it has none. */
function cpuMicrosPerNotification(m: Measurement): number | null {
  if ((m.kind !== 'sweep' && m.kind !== 'traced' && m.kind !== 'ceiling') || m.todos <= 0) return null;
  return (m.clientCpuSeconds * 1e6) / m.todos;
}

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
    `CPU us/n: CPU microseconds per todo sent, of the runners (utime+stime of the reaped processes: node start-up, database`,
    `and logging included) or, for the ceiling, of the bench process over its HTTP work; none for a rerun.`,
    `traced (--tracing): the sweep again, every span exported (OTLP/HTTP protobuf, 100% sampled) to a sink in the bench`,
    `process; its verdict compares its rate and CPU us/n with the untraced sweep's (targets: rate -3%, CPU +10% at most).`,
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

/** One row of the history table: a history size's first run, median rerun and median sweep of the new todos. */
export interface HistoryRow {
  history: number;
  /** --zones: the variant ('40 zones', 'UTC'); '' in the plain history mode. */
  variant: string;
  setup: HistorySetup;
  /** The first run after the upgrade: the first variant's only. */
  firstRun: Measurement | undefined;
  rerun: Measurement;
  rerunAfter: Measurement;
  sweep: Measurement;
}

const seconds = (value: number | null | undefined) => (value === null || value === undefined || !Number.isFinite(value) ? '-' : value.toFixed(2));
const whole = (value: number | null | undefined) => (value === null || value === undefined || !Number.isFinite(value) ? '-' : value.toFixed(0));

/** The rates a row's new todos are compared with: the same variant's H = 0 row's, and (a zoned row) the same H's UTC row's. */
export interface HistoryBaselines {
  noHistory(row: HistoryRow): number | null;
  utcOnly(row: HistoryRow): number | null;
}

/** The baselines of a set of rows: by history size and variant. */
export function historyBaselines(rows: HistoryRow[]): HistoryBaselines {
  const rate = (history: number, variant: string) =>
    rows.find((r) => r.history === history && r.variant === variant)?.sweep.ratePerSecond ?? null;
  return {
    noHistory: (row) => rate(0, row.variant),
    utcOnly: (row) => (row.variant === '' || row.variant === 'UTC' ? null : rate(row.history, 'UTC')),
  };
}

/**
 * The issue's table, one row per history size (and zone variant): what the history and
 * the upgrade cost to set up, the first run after the upgrade, a rerun with nothing new,
 * and the new todos' rate next to the rate with no history and, for a zoned row, the
 * same history in UTC only.
 */
export function formatHistoryTable(rows: HistoryRow[], baselines: HistoryBaselines, newTodos: number): string {
  const zoned = rows.some((r) => r.variant !== '');
  const ratio = (r: HistoryRow, base: number | null) =>
    ifMeasured(r.sweep, base && r.sweep.ratePerSecond !== null ? (r.sweep.ratePerSecond / base).toFixed(2) : '-');
  const columns: Array<{ title: string; value: (row: HistoryRow) => string; left?: boolean }> = [
    { title: 'history H', value: (r) => r.history.toLocaleString('en-US') },
    ...(zoned ? [{ title: 'zones', value: (r: HistoryRow) => r.variant, left: true }] : []),
    { title: 'load s', value: (r) => (r.history === 0 ? '-' : (r.setup.loadSeconds + r.setup.vacuumSeconds).toFixed(0)) },
    { title: 'migration s', value: (r) => seconds(r.setup.migrationSeconds) },
    { title: 'first run s', value: (r) => seconds(r.firstRun?.wallSeconds) },
    { title: 'rerun s', value: (r) => seconds(r.rerun.wallSeconds) },
    { title: 'rerun after s', value: (r) => seconds(r.rerunAfter.wallSeconds) },
    { title: `${newTodos.toLocaleString('en-US')} new: rate/s`, value: (r) => ifMeasured(r.sweep, whole(r.sweep.ratePerSecond)) },
    { title: 'x H=0', value: (r) => ratio(r, baselines.noHistory(r)) },
    ...(zoned ? [{ title: 'x UTC', value: (r: HistoryRow) => ratio(r, baselines.utcOnly(r)) }] : []),
    { title: 'job/s', value: (r) => ifMeasured(r.sweep, whole(r.sweep.jobRatePerSecond)) },
    { title: 'RSS MB first/rerun/new', value: (r) => [r.firstRun, r.rerun, r.sweep].map((m) => whole(m?.peakRssMb)).join('/') },
    { title: 'PG CPU s first/rerun/after', value: (r) => [r.firstRun, r.rerun, r.rerunAfter].map((m) => seconds(m?.pgCpuSeconds)).join('/') },
    { title: 'PG CPU %', value: (r) => whole(r.sweep.pgCpuPercentOfSweep) },
    { title: 'RT/1k', value: (r) => fixed(1)(r.sweep.roundTripsPer1000) },
    { title: 'mock req/acc/dup', value: (r) => `${r.sweep.mock.notificationRequests}/${r.sweep.mock.accepted}/${r.sweep.mock.duplicates}` },
    { title: 'verdict', value: (r) => historyVerdict(r, baselines), left: true },
  ];
  const cells = [columns.map((c) => c.title), ...rows.map((row) => columns.map((c) => c.value(row)))];
  const widths = columns.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? '').length)));
  const line = (row: string[]) => row.map((cell, i) => (columns[i]?.left ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
    .join('  ').trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(cells[0] ?? []), rule, ...cells.slice(1).map(line)].join('\n');
}

/** The rate target: the new todos go out at this share of the no-history rate, and of the UTC-only rate, or better. */
export const HISTORY_RATE_TARGET = 0.95;

/** Every problem of the row's measurements, and the rate against the no-history row and the UTC-only one. */
export function historyVerdict(row: HistoryRow, baselines: HistoryBaselines): string {
  const parts = ([['first run', row.firstRun], ['rerun', row.rerun], ['new', row.sweep], ['rerun after', row.rerunAfter]] as const)
    .filter(([, m]) => m !== undefined && m.verdict !== 'ok').map(([what, m]) => `${what}: ${m?.verdict}`);
  const against = (base: number | null) => (base && row.sweep.ratePerSecond !== null ? row.sweep.ratePerSecond / base : null);
  const noHistory = against(baselines.noHistory(row));
  if (row.history > 0 && noHistory !== null && noHistory < HISTORY_RATE_TARGET) {
    parts.push(`new: SLOW: ${noHistory.toFixed(3)} of the H=0 rate (target ${HISTORY_RATE_TARGET})`);
  }
  const utcOnly = against(baselines.utcOnly(row));
  if (utcOnly !== null && utcOnly < HISTORY_RATE_TARGET) parts.push(`new: SLOW: ${utcOnly.toFixed(3)} of the UTC-only rate (target ${HISTORY_RATE_TARGET})`);
  return parts.length > 0 ? parts.join('; ') : 'ok';
}

/** What the history table's columns mean, printed under it. */
export function describeHistoryColumns(options: { newTodos: number; rerunTarget: number; zones: number }): string {
  return [
    ...(options.zones > 0 ? [
      `zones: the workspaces spread over ${options.zones} time zones, or none with a row (UTC only), measured in turn; every run as of now, as the`,
      `CronJob runs it; history due 3 to 367 days back, the new todos 2 (due in every zone at any hour). x UTC: the zoned rate`,
      `over the same history's UTC-only rate (target ${HISTORY_RATE_TARGET}). The rest as follows, each date a day further back.`,
    ] : []),
    `history H: settled todos (due 2 to 366 days before the run date) with their sent deliveries, loaded before migration`,
    `20261202000000. load s: their inserts and VACUUM ANALYZE. migration s: that migration on them. first run s: the first`,
    `run after the upgrade, nothing new (it finds where to start: one pass over the ledger). rerun s: a run with nothing new`,
    `(target ${options.rerunTarget} s); rerun after s: the same after the new todos' sweep, their changes in the window a run reads; all`,
    `wall time from spawn to exit, node start-up included. ${options.newTodos} new: rate/s: todos due the day`,
    `before the run date / wall time; x H=0: against the H = 0 row (target ${HISTORY_RATE_TARGET}); job/s: start-up excluded. RSS MB: highest`,
    `runner peak. PG CPU s: all postgres processes on this machine during the run (medians: of the rerun's wall time). PG CPU %: that over the runners' CPU,`,
    `for the new todos. RT/1k: transactions in the bench database per 1,000 new todos. verdict: any FAILED or SLOW.`,
  ].join('\n');
}
