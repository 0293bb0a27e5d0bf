import type { Knex } from 'knex';
import { redactSecrets } from '../logging/secret-registry.js';

/** Who changed what through the console or the CLI's operator commands. */
export type AuditAction = 'pause' | 'resume' | 'rearm' | 'approve';
export type AuditSource = 'console' | 'cli';

/** Who acts: a console token's name, or the CLI's --by (user@host by default). */
export interface Actor {
  name: string;
  source: AuditSource;
}

export interface AuditEntry {
  id: string;
  at: Date;
  actor: string;
  source: AuditSource;
  action: AuditAction;
  job: string | null;
  reason: string | null;
  details: Record<string, unknown>;
  deliveriesTouched: number;
}

interface AuditRow {
  id: string | number;
  at: Date;
  actor: string;
  source: AuditSource;
  action: AuditAction;
  job: string | null;
  reason: string | null;
  details: Record<string, unknown> | string;
  deliveries_touched: number;
}

const fromRow = (row: AuditRow): AuditEntry => ({
  id: String(row.id), at: new Date(row.at), actor: row.actor, source: row.source, action: row.action, job: row.job,
  reason: row.reason, details: typeof row.details === 'string' ? JSON.parse(row.details) as Record<string, unknown> : row.details,
  deliveriesTouched: row.deliveries_touched,
});

/** Records one change; pass the transaction that made it. */
export async function recordAudit(db: Knex, entry: {
  actor: Actor; action: AuditAction; job?: string; reason?: string; details?: Record<string, unknown>; deliveriesTouched?: number;
}): Promise<void> {
  await db('console_audit').insert({
    actor: entry.actor.name, source: entry.actor.source, action: entry.action, job: entry.job ?? null,
    reason: entry.reason === undefined ? null : redactSecrets(entry.reason),
    details: JSON.stringify(entry.details ?? {}), deliveries_touched: entry.deliveriesTouched ?? 0,
  });
}

/** Newest first, `limit` at a time, before the entry `beforeId` (keyset on the primary key). */
export async function getAuditPage(db: Knex, query: { job?: string; beforeId?: string; limit: number }): Promise<AuditEntry[]> {
  const rows: AuditRow[] = await db('console_audit')
    .modify((builder) => {
      if (query.job) builder.where('job', query.job);
      if (query.beforeId) builder.where('id', '<', query.beforeId);
    })
    .orderBy('id', 'desc')
    .limit(query.limit);
  return rows.map(fromRow);
}
