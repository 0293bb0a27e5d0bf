import type { HoldFigures } from '../../ledger/job-holds.js';

/** As shown: `abandoned` is a run left `running` by a process that died, once its lease has passed (ledger/job-runs.ts). */
export const RUN_STATUSES = ['running', 'succeeded', 'partial', 'failed', 'interrupted', 'paused', 'held', 'abandoned'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** The delivery statuses a run can leave behind for an operator to look at. */
export const FAILURE_STATUSES = ['failed', 'dead', 'retry'] as const;

export interface RunFilter {
  job?: string;
  statuses?: RunStatus[];
}

/** A row of job_runs as stored; `parameters` and `counts` are jsonb, read as objects. */
export interface JobRunRow {
  id: string;
  job: string;
  parameters: Record<string, unknown>;
  status: RunStatus;
  started_at: Date;
  finished_at: Date | null;
  heartbeat_at: Date | null;
  counts: Record<string, number> | null;
  /** A held run's figures (the brake): what it counted, against what usual, and where most of it goes. */
  hold?: HoldFigures | null;
  error: string | null;
  host: string | null;
  pid: number | null;
  /** The run's trace (32 hex digits) when it was traced and sampled; null otherwise. */
  trace_id?: string | null;
}

/** A delivery a run left failed, dead or waiting for a retry. */
export interface RunFailureRow {
  key: string;
  workspace_id: string;
  item_id: string;
  item_date: string | null;
  status: (typeof FAILURE_STATUSES)[number];
  attempts: number;
  last_status: number | null;
  last_error: string | null;
  next_attempt_at: Date | null;
  updated_at: Date;
  /** As `runs show` lists it: the workspace's zone and the local time the delivery fell due there. */
  time_zone?: string | null;
  fell_due_local?: string | null;
}

export interface RunsOptions {
  /** [action, id]: `list` (the default) or `show <id>`. */
  args?: Array<string | undefined>;
  job?: string;
  status?: RunStatus[];
  limit: number;
  json: boolean;
}
