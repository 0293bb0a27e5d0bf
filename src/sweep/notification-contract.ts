import type { Notification } from './notification-job.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
/** The notify contract's limits (docs/services-contract.md). */
export const MAX_KEY_LENGTH = 255;
export const MAX_MESSAGE_LENGTH = 1000;

/**
 * Why a notification cannot go out as the contract asks, or undefined when it can. A row
 * no request could carry (a todo due in 4713 BC makes a key no YYYY-MM-DD can spell) is
 * refused before it is sent: recorded failed once, so it never comes back to block a run.
 */
export function contractViolation(notification: Notification): string | undefined {
  if (!UUID.test(notification.workspaceId)) return `workspace id ${JSON.stringify(notification.workspaceId)} is not a UUID`;
  if (notification.itemDate !== null && !ISO_DATE.test(notification.itemDate)) {
    return `item date ${JSON.stringify(notification.itemDate)} is not a YYYY-MM-DD date`;
  }
  if (notification.key.length === 0 || notification.key.length > MAX_KEY_LENGTH) {
    return `Idempotency-Key of ${notification.key.length} characters (1 to ${MAX_KEY_LENGTH} allowed)`;
  }
  // A delivery an older version left to retry before the ledger kept messages has none.
  if (notification.message.length === 0) return 'it has no message';
  if (notification.message.length > MAX_MESSAGE_LENGTH) {
    return `message of ${notification.message.length} characters (1 to ${MAX_MESSAGE_LENGTH} allowed)`;
  }
  return undefined;
}

/** The ledger keys a delivery by a uuid workspace: a row without one cannot even be recorded. */
export function recordable(notification: Notification): boolean {
  return UUID.test(notification.workspaceId);
}
