import type { Knex } from 'knex';
import { describeFallDue, type LocalFallDue } from '../../sweep/local-due-times.js';
import type { AnyNotificationJob } from '../../sweep/notification-job.js';

/**
 * Each listed delivery's workspace zone and the local time it fell due there, by its
 * job's rule at the job's default send time; a delivery of no notification job, or
 * without a date, gets none.
 */
export function describeDeliveriesFallDue(db: Knex, jobs: readonly AnyNotificationJob[], defaultZone: string,
  rows: ReadonlyArray<{ key: string; job?: string; workspace_id: string; item_date: string | null }>, job?: string):
  Promise<Map<string, LocalFallDue>> {
  const byName = new Map(jobs.map((j) => [j.name, j]));
  return describeFallDue(db, defaultZone, rows.map((row) => {
    const of = byName.get(row.job ?? job ?? '');
    return { key: row.key, workspaceId: row.workspace_id, itemDate: row.item_date,
      fallsDue: of ? of.fallsDue ?? { daysAfterItemDate: 0, atLocalTime: false } : undefined, localTime: of?.localTime };
  }));
}
