import type { MockStats } from '../../mockserver/mock-server.type.js';

/**
 * Terms of the benchmark:
 * - ceiling: the sweep's HTTP work alone, in the bench process, with no database.
 * - sweep: K real `sweep send-delay-notifications` processes over N fresh delayed todos.
 * - traced (--tracing): the sweep again, traced at 100% to an OTLP sink in the bench process.
 * - rerun: the same again once everything is sent: it must find nothing and send nothing.
 * - first-run (--history): the first run after the upgrade over H settled todos, nothing new:
 *   it finds where to start (one pass over the ledger) and remembers the job's position.
 * - ideal: the latency-bound rate, K x C / L; no client beats it against a mock of latency L.
 * - round trips: transactions of the bench database (pg_stat_database xact_commit +
 *   xact_rollback); each autocommitted statement is one, so it is a proxy for round trips.
 */
export type MeasurementKind = 'ceiling' | 'sweep' | 'traced' | 'rerun' | 'first-run';

export interface Measurement {
  kind: MeasurementKind;
  /** Which of the --repeat measurements (1-based); the table shows the median of each kind. */
  repeat?: number;
  /** traced: against the untraced sweep of the same repeat, its rate and its CPU per notification (ratios). */
  vsUntraced?: { rate: number; cpuPerNotification: number };
  /** Requests in flight per runner (the ceiling: in total, C x K). */
  concurrency: number;
  runners: number;
  todos: number;
  workspaces: number;
  latencyMs: number;
  pageSize: number;
  /** Notifications per second over the wall time; null for a rerun (nothing to send). */
  ratePerSecond: number | null;
  ratioToCeiling: number | null;
  /** Sweep only: todos over the longest runner's own durationMs (start-up excluded); what --max-rate limits. */
  jobRatePerSecond: number | null;
  /** --max-rate x K, the whole sweep's limit; null without --max-rate. */
  maxRate: number | null;
  /** K x C / (L / 1000); null when L is 0. */
  idealRatePerSecond: number | null;
  ratioToIdeal: number | null;
  wallSeconds: number;
  /** The highest peak RSS among the runners (VmHWM, polled every 50 ms). */
  peakRssMb: number | null;
  /** Transactions in the bench database during the measurement, and per 1,000 todos. */
  roundTrips: number | null;
  roundTripsPer1000: number | null;
  /** CPU of whoever sent: the runners (their cutime+cstime once reaped), or the bench process for the ceiling. */
  clientCpuSeconds: number;
  /** CPU of the mockserver during the measurement: the two services' share of this machine. */
  mockCpuSeconds: number | null;
  /** CPU of every postgres process on the machine during the measurement. */
  pgCpuSeconds: number | null;
  pgCpuPercentOfSweep: number | null;
  /** CPU of the bench database's backends only, polled (a floor): other databases' load excluded. */
  pgBackendCpuSeconds: number | null;
  /** The runners' summary `tokenFetches`, summed (the ceiling: its token cache's). */
  tokenFetches: number | null;
  mock: MockStats;
  /** The mockserver's resident set after the measurement: flat when its journal is off. */
  mockRssMb: number | null;
  /** --history, a rerun: 'rerun with nothing new' (before the new todos) or 'rerun after the new todos'. */
  rerunOf?: string;
  /** --history: the history this measurement ran over, and what it cost to set up. */
  history?: HistorySetup;
  /** --history --zones: the time zones the workspaces were spread over (0: no workspace row, UTC). */
  zones?: number;
  /** /proc/loadavg (1, 5, 15 minutes) just before and just after the measurement: someone else's load shows here. */
  loadAverage?: { before: number[]; after: number[] };
  /** 'ok', 'SLOW: ...' (a rerun over its target) or 'FAILED: ...'. */
  verdict: string;
  runnersDetail?: Array<{
    pid: number; exitCode: number; seconds: number; peakRssMb: number; logLines: number;
    sent?: unknown; found?: unknown; claimedElsewhere?: unknown; durationMs?: unknown; lastError?: string;
  }>;
}

/** One history size of --history: H settled todos and how long each step of getting there took. */
export interface HistorySetup {
  todos: number;
  /** The inserts of H todos and H deliveries. */
  loadSeconds: number;
  /** VACUUM ANALYZE todos, deliveries after the load. */
  vacuumSeconds: number;
  /** The resumable-scans migration on the loaded tables. */
  migrationSeconds: number;
  /** The migrations after it (change snapshots, superseded deliveries, ...) on the same tables. */
  laterMigrationsSeconds: number;
  /** ANALYZE todos after the migration (the new column's statistics). */
  analyzeSeconds: number;
  /** Table and index sizes after the load, MB. */
  todosMb: number;
  deliveriesMb: number;
}

/** Once per bench run, on every JSON line. */
export interface BenchContext {
  startedAt: string;
  postgres: string;
  /** The server's autovacuum: off, the ledger is never analyzed and its plans stay those of an empty table. */
  autovacuum: string;
  /** What the runners ran: the compiled dist/ (built by the bench) or the sources through tsx. */
  sweepBuild: 'dist' | 'tsx';
  /** Node's flags given to the runners (--node-flags). */
  nodeFlags: string[];
  loadSeconds: number;
  cpus: number;
}
