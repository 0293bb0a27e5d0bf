import type { FastifyInstance } from 'fastify';
import { getDeliveriesPage } from '../commands/deliveries/delivery.dao.js';
import { getDeliveryDetail } from './delivery-detail.js';
import { DELIVERY_STATUSES } from '../commands/deliveries/delivery.type.js';
import { previewRearm, rearmDeliveriesAudited } from '../commands/deliveries/rearm.js';
import { pauseJobAudited, resumeJobAudited } from '../commands/pause/pause.js';
import { countRunFailures, getJobRun, getJobRunsPage, getRunFailures } from '../commands/runs/job-run.dao.js';
import { RUN_STATUSES, type RunStatus } from '../commands/runs/job-run.type.js';
import { traceLink } from '../tracing/trace-link.js';
import { getAuditPage } from '../ledger/operator-audit.js';
import type { RouteDependencies } from './console-dependencies.js';
import { HttpError } from './http-error.js';
import { renderHealthMetrics } from './health-metrics.js';
import { getJobOverviews } from './job-overview.js';
import { startConsoleRun } from './job-runner.js';
import {
  auditCursorOf, deliveryCursorOf, deliveryFilterOf, encodeCursor, parseList, REARM_CAP, requireSelector, runCursorOf, UUID_PATTERN,
  type DeliveryQuery,
} from './request-filters.js';

const SHOWN_FAILURES = 1000;
const UUID = UUID_PATTERN;

const error = { $ref: 'Error#' };
const errors = (...statuses: number[]) => Object.fromEntries(statuses.map((status) => [status, error]));
const AUTH_ERRORS = [401, 429];
const anyObject = { type: 'object', additionalProperties: true };
const page = (name: string) => ({
  type: 'object', required: [name, 'nextCursor'],
  properties: { [name]: { type: 'array', items: anyObject }, nextCursor: { type: ['string', 'null'], description: 'Pass as ?cursor= for the next page; null: no more' } },
});
const listQuery = (extra: Record<string, unknown>) => ({
  type: 'object', additionalProperties: false,
  properties: { ...extra, limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 }, cursor: { type: 'string', maxLength: 1000 } },
});
const reasonBody = {
  type: 'object', required: ['reason'], additionalProperties: false,
  properties: { reason: { type: 'string', minLength: 1, maxLength: 1000, pattern: '\\S', description: 'Why: recorded in the audit (and, for a pause, shown to every run)' } },
};
const deliveryFilterProperties = {
  job: { type: 'string', maxLength: 200 },
  status: { type: 'string', maxLength: 200, description: `Comma-separated: ${DELIVERY_STATUSES.join(', ')}` },
  workspace: { type: 'string', pattern: UUID },
  key: { type: 'string', maxLength: 300 },
  itemId: { type: 'string', maxLength: 300 },
};

/** The JSON API under /api/v1: every action a page offers is one of these calls, for scripts too. */
export async function registerApiRoutes(app: FastifyInstance, deps: RouteDependencies): Promise<void> {
  const { db, jobs } = deps;
  const jobNames = jobs.map((job) => job.name);
  const knownJob = (job: string | undefined) => {
    if (job !== undefined && !jobNames.includes(job)) throw new HttpError(404, `no notification job named '${job}' (known: ${jobNames.join(', ')})`);
    return job;
  };

  app.get('/api/v1/jobs', {
    config: { access: 'viewer' },
    schema: {
      summary: 'Every notification job, unhealthy first: its health (state and reason), last run, last success, live runners, pause, and what its ledger owes', tags: ['jobs'],
      response: { 200: { type: 'object', properties: { jobs: { type: 'array', items: anyObject } } }, ...errors(...AUTH_ERRORS) },
    },
  }, async () => ({ jobs: await getJobOverviews(db, jobs, Date.now(), deps.defaultTimeZone) }));

  app.get('/metrics', {
    config: { access: 'viewer' },
    schema: { summary: 'The jobs\' health for Prometheus (text exposition format): sweep_job_health{job,state} and more', tags: ['jobs'] },
  }, async (_request, reply) => {
    const { contentType, text } = await renderHealthMetrics(await getJobOverviews(db, jobs, Date.now(), deps.defaultTimeZone));
    return reply.type(contentType).send(text);
  });

  app.get<{ Querystring: { job?: string; status?: string; limit: number; cursor?: string } }>('/api/v1/runs', {
    config: { access: 'viewer' },
    schema: {
      summary: 'Runs, newest first, keyset-paged', tags: ['runs'],
      querystring: listQuery({ job: { type: 'string', maxLength: 200 },
        status: { type: 'string', maxLength: 200, description: `Comma-separated: ${RUN_STATUSES.join(', ')}` } }),
      response: { 200: page('runs'), ...errors(400, 404, ...AUTH_ERRORS) },
    },
  }, async (request) => {
    const { job, status, limit, cursor } = request.query;
    const statuses = parseList(status, RUN_STATUSES, 'status') as RunStatus[] | undefined;
    const before = runCursorOf(cursor);
    const result = await getJobRunsPage(db, { job: knownJob(job), statuses }, { before, limit });
    return { runs: result.runs, nextCursor: result.next ? encodeCursor(result.next) : null };
  });

  app.get<{ Params: { id: string } }>('/api/v1/runs/:id', {
    config: { access: 'viewer' },
    schema: {
      summary: 'One run in full, with the deliveries it left failed, dead or waiting (as `sweep runs show`)', tags: ['runs'],
      params: { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: UUID } } },
      response: { 200: { type: 'object', properties: { run: anyObject,
        traceUrl: { type: ['string', 'null'], description: 'The run\'s trace in the trace UI (SWEEP_TRACE_URL with run.trace_id), when both are set' },
        failures: { type: 'array', items: anyObject }, failureCount: { type: 'integer' } } },
        ...errors(400, 404, ...AUTH_ERRORS) },
    },
  }, async (request) => {
    const id = request.params.id.toLowerCase();
    const run = await getJobRun(db, id);
    if (!run) throw new HttpError(404, `no run with id ${id} in this database (never recorded here, or pruned)`);
    const failures = await getRunFailures(db, id, SHOWN_FAILURES);
    const failureCount = failures.length < SHOWN_FAILURES ? failures.length : await countRunFailures(db, id);
    return { run, traceUrl: traceLink(deps.traceUrl, run.trace_id) ?? null, failures, failureCount };
  });

  app.get<{ Querystring: { job?: string; status?: string; workspace?: string; key?: string; itemId?: string; limit: number; cursor?: string } }>(
    '/api/v1/deliveries', {
      config: { access: 'viewer' },
      schema: {
        summary: 'The ledger, filtered, in key order, keyset-paged (status=dead,failed: the dead-letter view)', tags: ['deliveries'],
        querystring: listQuery(deliveryFilterProperties),
        response: { 200: page('deliveries'), ...errors(400, 404, ...AUTH_ERRORS) },
      },
    }, async (request) => {
      const { limit, cursor } = request.query;
      const afterKey = deliveryCursorOf(cursor);
      const deliveries = await getDeliveriesPage(db, deliveryFilter(request.query), { afterKey, limit });
      const last = deliveries.at(-1);
      return { deliveries, nextCursor: last && deliveries.length === limit ? encodeCursor({ key: last.key }) : null };
    });

  app.get<{ Params: { key: string } }>('/api/v1/deliveries/:key', {
    config: { access: 'viewer' },
    schema: {
      summary: 'One delivery in full: status, attempts, last HTTP status and error, message, and the run that last handled it',
      tags: ['deliveries'],
      params: { type: 'object', required: ['key'], properties: { key: { type: 'string', minLength: 1, maxLength: 300 } } },
      response: { 200: { type: 'object', properties: { delivery: anyObject, run: { oneOf: [anyObject, { type: 'null' }] } } },
        ...errors(400, 404, ...AUTH_ERRORS) },
    },
  }, async (request) => {
    const delivery = await getDeliveryDetail(db, jobs, deps.defaultTimeZone ?? 'UTC', request.params.key);
    if (!delivery) throw new HttpError(404, `no delivery with key ${request.params.key} (never claimed, or pruned)`);
    const run = typeof delivery.run_id === 'string' ? await getJobRun(db, delivery.run_id) : undefined;
    return { delivery, run: run ?? null };
  });

  for (const action of ['pause', 'resume'] as const) {
    app.post<{ Params: { job: string }; Body: { reason: string } }>(`/api/v1/jobs/:job/${action}`, {
      config: { access: 'operator' },
      schema: {
        summary: action === 'pause' ? 'Pauses a job everywhere within seconds (as `sweep pause`)' : 'Resumes a paused job (as `sweep resume`)',
        tags: ['jobs'],
        params: { type: 'object', required: ['job'], properties: { job: { type: 'string', maxLength: 200 } } },
        body: reasonBody,
        response: { 200: anyObject, ...errors(400, 403, 404, ...AUTH_ERRORS) },
      },
    }, async (request) => {
      const job = knownJob(request.params.job)!;
      const actor = { name: request.principal!.name, source: 'console' as const };
      const reason = request.body.reason.trim();
      if (action === 'pause') return { paused: await pauseJobAudited(db, { job, actor, reason }) };
      const pause = await resumeJobAudited(db, { job, actor, reason });
      return { resumed: pause !== undefined, wasPaused: pause ?? null };
    });
  }

  app.post<{ Params: { job: string } }>('/api/v1/jobs/:job/run', {
    config: { access: 'operator' },
    schema: {
      summary: 'Embedded database only: runs the job now in the console\'s process, as `sweep <job>` (one run at a time); see it in /api/v1/runs',
      tags: ['jobs'],
      params: { type: 'object', required: ['job'], properties: { job: { type: 'string', maxLength: 200 } } },
      response: { 202: { type: 'object', properties: { started: { type: 'string' } } }, ...errors(400, 403, 404, 409, ...AUTH_ERRORS) },
    },
  }, async (request, reply) => {
    const job = knownJob(request.params.job)!;
    startConsoleRun(deps.jobRunner, job, request.principal!.name);
    request.log.info({ forJob: job, by: request.principal!.name }, 'the console runs a job');
    return reply.status(202).send({ started: job });
  });

  app.post<{ Body: { job?: string; status?: string; workspace?: string; key?: string; itemId?: string } }>('/api/v1/deliveries/rearm/preview', {
    config: { access: 'operator' },
    schema: {
      summary: `Which deliveries a re-arm with this filter would make due again (at most ${REARM_CAP}); returns a preview id`, tags: ['deliveries'],
      body: { type: 'object', additionalProperties: false, properties: deliveryFilterProperties },
      response: {
        200: { type: 'object', properties: { previewId: { type: 'string' }, count: { type: 'integer' }, expiresAt: { type: 'string' },
          deliveries: { type: 'array', items: anyObject } } },
        ...errors(400, 403, 404, ...AUTH_ERRORS),
      },
    },
  }, async (request) => {
    const filter = requireSelector(deliveryFilter(request.body));
    const { keys, more } = await previewRearm(db, filter, REARM_CAP);
    if (more) throw new HttpError(400, `the filter matches more than ${REARM_CAP} re-armable deliveries: narrow it (by job, status, workspace)`);
    const preview = deps.previews.create(filter, keys.map((row) => row.key), request.principal!.name);
    return { previewId: preview.id, count: keys.length, expiresAt: new Date(preview.expiresAt).toISOString(), deliveries: keys };
  });

  app.post<{ Body: { previewId: string; reason: string; force?: boolean } }>('/api/v1/deliveries/rearm', {
    config: { access: 'operator' },
    schema: {
      summary: 'Re-arms exactly the deliveries of a preview that are still failed, dead, superseded or waiting (as `sweep deliveries retry`); '
        + 'one whose item no longer stands is left and listed, unless force',
      tags: ['deliveries'],
      body: { ...reasonBody, required: ['previewId', 'reason'], properties: { ...reasonBody.properties, previewId: { type: 'string', pattern: UUID },
        force: { type: 'boolean', default: false, description: 'Also re-arm those whose item no longer stands (as `deliveries retry --force`): sent as first meant' } } },
      response: { 200: { type: 'object', properties: { rearmed: { type: 'integer' }, forced: { type: 'boolean' }, notStanding: { type: 'array', items: anyObject } } },
        ...errors(400, 403, 404, ...AUTH_ERRORS) },
    },
  }, async (request) => {
    const preview = deps.previews.take(request.body.previewId.toLowerCase());
    if (!preview) throw new HttpError(404, 'no such preview: it expired (15 minutes), was applied already, newer previews pushed it out, or the console restarted; preview again');
    const result = await rearmDeliveriesAudited(db, jobs, {
      filter: { keys: preview.keys }, force: request.body.force === true, actor: { name: request.principal!.name, source: 'console' },
      reason: request.body.reason.trim(), details: { previewId: preview.id, previewFilter: preview.filter, previewedBy: preview.createdBy },
    });
    return { rearmed: result.rearmed, forced: request.body.force === true, notStanding: result.notStanding };
  });

  app.get<{ Querystring: { job?: string; limit: number; cursor?: string } }>('/api/v1/audit', {
    config: { access: 'viewer' },
    schema: {
      summary: 'What operators changed, newest first (console and CLI)', tags: ['audit'],
      querystring: listQuery({ job: { type: 'string', maxLength: 200 } }),
      response: { 200: page('entries'), ...errors(400, 404, ...AUTH_ERRORS) },
    },
  }, async (request) => {
    const { job, limit, cursor } = request.query;
    const beforeId = auditCursorOf(cursor);
    const entries = await getAuditPage(db, { job: knownJob(job), beforeId, limit });
    const last = entries.at(-1);
    return { entries, nextCursor: last && entries.length === limit ? encodeCursor({ id: last.id }) : null };
  });

  const deliveryFilter = (query: DeliveryQuery) => deliveryFilterOf(query, jobNames);
}
