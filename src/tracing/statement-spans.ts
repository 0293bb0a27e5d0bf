import { operationOf } from '../database/statement-control.js';
import { failSpan, startSpan, type TraceSpan } from './tracing.js';

/**
 * One CLIENT span per statement, with the database conventions' attributes
 * (opentelemetry.io/docs/specs/semconv/database/postgresql): the system, the operation and
 * the tables, the database and server. Never the statement's text or its parameters: an
 * item's text, a workspace's id list or a reason typed by an operator stay out of traces.
 * Made only under a run's span (its pool's) or a console request's (the active one), so a
 * statement is never a trace of its own.
 */
export function startStatementSpan(sql: string, connection: { database?: string; host?: string; port?: number }, parent?: TraceSpan): TraceSpan {
  const { operation, tables } = operationOf(sql);
  const summary = [operation.toUpperCase(), ...tables].join(' ');
  return startSpan(summary, { kind: 'client', parent, onlyUnderParent: true, attributes: {
    'db.system': 'postgresql',
    'db.system.name': 'postgresql',
    'db.operation.name': operation.toUpperCase(),
    'db.query.summary': summary,
    ...(tables.length === 1 ? { 'db.collection.name': tables[0] } : {}),
    ...(connection.database ? { 'db.namespace': connection.database } : {}),
    ...(connection.host && !connection.host.startsWith('/') ? { 'server.address': connection.host, 'server.port': connection.port ?? 5432 } : {}),
  } });
}

export function endStatementSpan(span: TraceSpan, error?: unknown): void {
  if (error !== undefined) {
    const code = (error as { code?: unknown })?.code;
    failSpan(span, error, typeof code === 'string' ? code : undefined);
    if (typeof code === 'string') span.setAttribute('db.response.status_code', code);
  }
  span.end();
}
