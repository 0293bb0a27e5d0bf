import { printable } from '../../runner/printable.js';
import { formatColumns } from '../../runner/printer.js';
import { describePause, type JobPause } from '../../ledger/job-pauses.js';
import { isPending, type HoldFigures, type JobHold } from '../../ledger/job-holds.js';
import { traceLink } from '../../tracing/trace-link.js';
import type { JobRunRow, RunFailureRow } from './job-run.type.js';

const PARAMETERS_WIDTH = 60;
/** The brake's options at their defaults say nothing in a column this narrow; changed (--no-hold: hold=false), they are shown. */
const BRAKE_DEFAULTS: Record<string, unknown> = { hold: true, holdFactor: 10, holdMin: 1000 };

/** The listing: one line per run, the counts an operator scans for. */
export function formatRunList(runs: JobRunRow[]): string {
  return formatColumns(
    ['id', 'job', 'parameters', 'status', 'started', 'duration', 'found', 'due again', 'sent', 'already sent', 'failed', 'dead',
      'superseded'],
    runs.map((run) => [
      run.id, run.job, compactParameters(run.parameters), run.status, run.started_at.toISOString().slice(0, 19),
      runDuration(run), count(run, 'found'), count(run, 'dueAgain'), count(run, 'sent'), count(run, 'alreadySent'),
      sumOf(count(run, 'failedPermanently'), count(run, 'failedTransiently')), count(run, 'dead'), count(run, 'superseded'),
    ]),
  );
}

/** The paused jobs, a line each, under the listing: why a job's runs send nothing. */
export function formatPauses(pauses: JobPause[]): string {
  return pauses.map((pause) => `paused: ${pause.job}, ${describePause(pause)} (sweep resume ${pause.job})\n`).join('');
}

/** One run in full, a `label  value` line per field and per count, then its failures. */
export function formatRunDetail(run: JobRunRow, failures: RunFailureRow[], failureCount: number, traceUrl?: string): string {
  const link = traceLink(traceUrl, run.trace_id);
  const fields: Array<[string, string | number | null]> = [
    ['id', run.id], ['job', run.job], ['status', run.status],
    ['started', run.started_at.toISOString()], ['finished', run.finished_at?.toISOString() ?? null],
    ['duration', runDuration(run)], ['heartbeat', run.heartbeat_at?.toISOString() ?? null],
    ['host', run.host], ['pid', run.pid], ['error', run.error],
    ['trace', run.trace_id ?? null], ...(link ? [['trace link', link] as [string, string]] : []),
    ['parameters', JSON.stringify(run.parameters)],
    ...Object.entries(run.counts ?? {}),
    ...(run.hold ? heldFields(run.hold) : []),
  ];
  const shown = fields.map(([label, value]): [string, string] => [printable(label), value === null ? '-' : printable(String(value))]);
  const width = Math.max(...shown.map(([label]) => label.length));
  const lines = shown.map(([label, value]) => `${label.padEnd(width)}  ${value}`);
  let text = `${lines.join('\n')}\n\n`;
  if (failureCount === 0) return `${text}failures: none\n`;
  text += `failures: ${failureCount} (deliveries this run left failed, dead or to retry, not taken over by a later run)\n`;
  text += formatColumns(['key', 'workspace', 'zone', 'fell due (local)', 'status', 'attempts', 'last status', 'last error'], failures.map((failure) => [
    failure.key, failure.workspace_id, failure.time_zone ?? null, failure.fell_due_local ?? null, failure.status, failure.attempts, failure.last_status,
    failure.last_error ? failure.last_error.slice(0, 120) : null,
  ]));
  if (failureCount > failures.length) text += `… and ${failureCount - failures.length} more, not shown\n`;
  return text;
}

/** A held run's figures, as `runs show` lists them: the count against usual, and the workspaces with the most. */
function heldFields(hold: HoldFigures): Array<[string, string | number]> {
  return [['held: to send', hold.count], ['held: usual now', hold.usual], ['held: holds above', hold.threshold],
    ...hold.topWorkspaces.map(({ workspaceId, count }, i): [string, string] => [`held: workspace #${i + 1}`, `${workspaceId} (${count})`])];
}

/** The held jobs, a line each, under the listing: what waits for an operator. */
export function formatHolds(holds: JobHold[]): string {
  return holds.filter((hold) => isPending(hold) && hold.hold).map((hold) => `held: ${hold.job}, ${hold.hold!.count} to send where `
    + `${hold.hold!.usual} are usual, since ${hold.heldAt!.toISOString()} (sweep approve ${hold.job} --reason "…", or fix the data)\n`).join('');
}

/** `key=value` pairs without the options left off, cut to fit a column; `runs show` has them all. */
export function compactParameters(parameters: Record<string, unknown>): string | null {
  const pairs = Object.entries(parameters)
    .filter(([key, value]) => key !== 'args' && (value !== false || key === 'hold') && value !== null && value !== undefined && BRAKE_DEFAULTS[key] !== value)
    .map(([key, value]) => `${key}=${typeof value === 'object' ? JSON.stringify(value) : String(value)}`);
  if (pairs.length === 0) return null;
  const text = pairs.join(' ');
  return text.length > PARAMETERS_WIDTH ? `${text.slice(0, PARAMETERS_WIDTH - 1)}…` : text;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const whole = Math.round(seconds);
  if (whole < 3600) return `${Math.floor(whole / 60)} m ${String(whole % 60).padStart(2, '0')} s`;
  return `${Math.floor(whole / 3600)} h ${String(Math.floor((whole % 3600) / 60)).padStart(2, '0')} m`;
}

/** Until it ends, a run has no duration (a run killed outright stays `running`: see its heartbeat). */
function runDuration(run: JobRunRow): string | null {
  return run.finished_at ? formatDuration(run.finished_at.getTime() - run.started_at.getTime()) : null;
}

function count(run: JobRunRow, field: string): number | null {
  const value = run.counts?.[field];
  return typeof value === 'number' ? value : null;
}

function sumOf(...values: Array<number | null>): number | null {
  const present = values.filter((value): value is number => value !== null);
  return present.length > 0 ? present.reduce((a, b) => a + b, 0) : null;
}
