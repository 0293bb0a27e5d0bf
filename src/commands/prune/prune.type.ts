import type { ChangeStamps } from '../../ledger/change-window.js';

export interface PruneOptions {
  /** `<n>d` or `<n>h`, normalised by parseOlderThan. */
  olderThan: string;
  /** Also delete `failed` and `dead` deliveries older than the cutoff. */
  includeFailed: boolean;
  /** Also delete deliveries whose item is still there: the next run of their job sends it again. */
  allowResend: boolean;
  dryRun: boolean;
  /** Rows per DELETE statement. */
  batchSize: number;
}

/** A job whose items prune can check: its name, and SQL over a delivery `d` that is true once its item is gone. */
export interface JobItems {
  name: string;
  itemGone: string;
  /** SQL over `d`: whether prune can look its item up at all; a delivery it cannot is kept and reported. */
  itemWellFormed?: string;
  /**
   * For a job that resumes: SQL over `d`, its item's position in the job's scan (settled
   * once at or before the job's position), and whether a run still reads its item again
   * as changed.
   */
  resume?: { positionOfDelivery: string; deliveryItemChanged(changedSince: (stamps: ChangeStamps) => string): string };
}

/**
 * Which deliveries go: these statuses, last changed before the cutoff, and, unless
 * `itemGoneFor` is undefined (--allow-resend), only that job's deliveries whose item is gone.
 */
export interface DeliveryRule {
  statuses: string[];
  cutoff: Date;
  itemGoneFor?: JobItems;
}
