import type { Knex } from 'knex';
import { getDelivery } from '../commands/deliveries/delivery.dao.js';
import { describeDeliveriesFallDue } from '../commands/deliveries/fall-due.js';
import type { AnyNotificationJob } from '../sweep/notification-job.js';

/**
 * One delivery as the console's page and API show it: the ledger's row, its workspace's
 * time zone and the local time it fell due there (as `sweep deliveries` lists them), or
 * undefined when there is none.
 */
export async function getDeliveryDetail(db: Knex, jobs: readonly AnyNotificationJob[], defaultTimeZone: string, key: string):
Promise<Record<string, unknown> | undefined> {
  const delivery = await getDelivery(db, key);
  if (!delivery) return undefined;
  const row = delivery as { key: string; job?: string; workspace_id: string; item_date: string | null };
  const local = (await describeDeliveriesFallDue(db, jobs, defaultTimeZone, [row])).get(row.key);
  return { ...delivery, time_zone: local?.timeZone ?? null, fell_due_local: local?.fellDueLocal ?? null };
}
