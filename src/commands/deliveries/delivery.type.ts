export const DELIVERY_STATUSES = ['pending', 'sent', 'retry', 'failed', 'dead', 'superseded'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export interface DeliveryFilter {
  statuses?: DeliveryStatus[];
  job?: string;
  workspaceId?: string;
  key?: string;
  /** The item the key is made of (a todo id, a workspace id for a digest). */
  itemId?: string;
  /** Exactly these keys: what a console re-arm preview showed. */
  keys?: string[];
}

export interface DeliveryRow {
  key: string;
  job: string;
  workspace_id: string;
  item_id: string;
  item_date: string | null;
  status: DeliveryStatus;
  attempts: number;
  last_status: number | null;
  last_error: string | null;
  next_attempt_at: Date | null;
  updated_at: Date;
  run_id: string | null;
}

export interface DeliveriesOptions {
  args?: string[];
  status?: DeliveryStatus[];
  job?: string;
  workspace?: string;
  key?: string;
  item?: string;
  limit: number;
  json: boolean;
  /** retry: re-arm those whose item no longer stands too. */
  force: boolean;
  /** retry: who re-arms, for the audit (default user@host). */
  by: string;
  /** retry: why, for the audit. */
  reason?: string;
}
