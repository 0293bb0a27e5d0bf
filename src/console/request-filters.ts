import type { RunCursor } from '../commands/runs/job-run.dao.js';
import { DELIVERY_STATUSES, type DeliveryFilter, type DeliveryStatus } from '../commands/deliveries/delivery.type.js';
import { HttpError } from './http-error.js';
import { isBigintId, isCursorTimestamp } from './input-checks.js';

/**
 * What the API and the pages both read from a request: the delivery filter, the list
 * filters and the keyset cursors, each refused with a 400 that says what is wrong.
 */

/** A re-arm preview lists at most this many deliveries; a filter that matches more is refused. */
export const REARM_CAP = 10_000;
export const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
const UUID = new RegExp(UUID_PATTERN);

export interface DeliveryQuery { job?: string; status?: string; workspace?: string; key?: string; itemId?: string }

/**
 * The deliveries a query names, for the API and the pages alike: an unknown job is 404,
 * a malformed status or workspace 400; an empty field (a form's) is no filter.
 */
export function deliveryFilterOf(query: DeliveryQuery, jobNames: string[]): DeliveryFilter {
  const job = query.job || undefined;
  if (job !== undefined && !jobNames.includes(job)) throw new HttpError(404, `no notification job named '${job}' (known: ${jobNames.join(', ')})`);
  const workspace = query.workspace || undefined;
  if (workspace !== undefined && !UUID.test(workspace)) throw new HttpError(400, 'workspace must be a workspace id (a UUID)');
  return {
    job, statuses: parseList(query.status, DELIVERY_STATUSES, 'status') as DeliveryStatus[] | undefined,
    workspaceId: workspace?.toLowerCase(), key: query.key || undefined, itemId: query.itemId || undefined,
  };
}

/** A re-arm's filter must select something: it never re-arms everything by accident (as `deliveries retry`). */
export function requireSelector(filter: DeliveryFilter): DeliveryFilter {
  if (!filter.statuses && !filter.job && !filter.workspaceId && !filter.key && !filter.itemId) {
    throw new HttpError(400, 'a re-arm needs a filter (job, status, workspace, key or itemId): it will not re-arm everything by accident');
  }
  return filter;
}

/** A comma-separated list of known values; a 400 that names them otherwise. */
export function parseList(raw: string | undefined, allowed: readonly string[], name: string): string[] | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const values = raw.split(',').map((value) => value.trim());
  if (values.some((value) => !allowed.includes(value))) throw new HttpError(400, `${name} must be one or more of ${allowed.join(', ')}, comma-separated`);
  return values;
}

/** Where the previous page of runs ended (its nextCursor), for the API and the pages alike; a malformed one is 400. */
export function runCursorOf(cursor: string | undefined): RunCursor | undefined {
  return cursor === undefined || cursor === '' ? undefined : decodeCursor<RunCursor>(cursor, (value) =>
    typeof value.startedAt === 'string' && typeof value.id === 'string' && UUID.test(value.id) && isCursorTimestamp(value.startedAt));
}

export function deliveryCursorOf(cursor: string | undefined): string | undefined {
  return cursor === undefined || cursor === '' ? undefined : decodeCursor<{ key: string }>(cursor, (value) => typeof value.key === 'string' && !value.key.includes('\u0000')).key;
}

export function auditCursorOf(cursor: string | undefined): string | undefined {
  return cursor === undefined || cursor === '' ? undefined
    : decodeCursor<{ id: string }>(cursor, (value) => typeof value.id === 'string' && isBigintId(value.id)).id;
}

export function encodeCursor(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function decodeCursor<T extends object>(raw: string, valid: (value: Record<string, unknown>) => boolean): T {
  try {
    const value = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Record<string, unknown>;
    if (value && typeof value === 'object' && valid(value)) return value as T;
  } catch {
    // falls through to the 400
  }
  throw new HttpError(400, 'the cursor is malformed: pass the nextCursor of the previous page as it came');
}
