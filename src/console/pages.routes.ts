import type { FastifyInstance } from 'fastify';
import { getDeliveriesPage } from '../commands/deliveries/delivery.dao.js';
import { getDeliveryDetail } from './delivery-detail.js';
import { previewRearm, rearmDeliveriesAudited } from '../commands/deliveries/rearm.js';
import { pauseJobAudited, resumeJobAudited } from '../commands/pause/pause.js';
import { getJobRun, getJobRunsPage, getRunFailures } from '../commands/runs/job-run.dao.js';
import { RUN_STATUSES, type RunStatus } from '../commands/runs/job-run.type.js';
import { traceLink } from '../tracing/trace-link.js';
import { getAuditPage } from '../ledger/operator-audit.js';
import type { RouteDependencies } from './console-dependencies.js';
import { HttpError } from './http-error.js';
import { auditCursorOf, deliveryCursorOf, deliveryFilterOf, encodeCursor, parseList, REARM_CAP, requireSelector, runCursorOf } from './request-filters.js';
import { CONSOLE_SCRIPT } from './console-script.js';
import { CONSOLE_CSS, html, queryString } from './html.js';
import { auditedDeliveries, collapsed, deliveryTable, REARMABLE, rearmButton, rearmFor, runLink } from './page-cells.js';
import { actionForm, counted, filterForm, formatAge, pager, runForm, sendPage } from './page-parts.js';
import { getJobOverviews } from './job-overview.js';
import { approveForm, heldSummary } from './approve.routes.js';
import { getHold, isPending } from '../ledger/job-holds.js';
import { startConsoleRun } from './job-runner.js';
import { getRecentRuns, getRunsByDay, renderRunChart, renderWeekChart } from './run-chart.js';

const PAGE = 100;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const pageConfig = (access: 'public' | 'viewer' | 'operator') => ({ access, page: true });
const pageSchema = (summary: string) => ({ summary, tags: ['pages'] });

/**
 * The server-rendered pages: every value escaped, no inline script (the CSP forbids it),
 * filters in the URL so a link reproduces a view, and forms for operators only, each
 * carrying its session's CSRF token. A form does what its API route does, through the same functions.
 */
export async function registerPageRoutes(app: FastifyInstance, deps: RouteDependencies): Promise<void> {
  const { db, jobs } = deps;
  const jobNames = jobs.map((job) => job.name);

  app.get('/console.css', { config: { access: 'public' }, schema: pageSchema('The pages\' style sheet') },
    async (_request, reply) => reply.type('text/css; charset=utf-8').header('cache-control', 'max-age=3600').send(CONSOLE_CSS));

  app.get('/console.js', { config: { access: 'public' }, schema: pageSchema('The pages\' one script: the auto-refresh of list pages') },
    async (_request, reply) => reply.type('text/javascript; charset=utf-8').header('cache-control', 'max-age=3600').send(CONSOLE_SCRIPT));

  app.get('/', { config: pageConfig('viewer'), schema: pageSchema('Goes to the jobs page') },
    async (_request, reply) => reply.redirect('/jobs', 303));

  app.get('/jobs', { config: pageConfig('viewer'), schema: pageSchema('Every notification job: last run, pause, backlog; pause/resume for operators') },
    async (request, reply) => {
      const [overviews, recent, week] = await Promise.all([getJobOverviews(db, jobs, Date.now(), deps.defaultTimeZone), getRecentRuns(db, jobNames), getRunsByDay(db, jobNames)]);
      const operator = request.principal?.role === 'operator';
      const rows = overviews.map((job) => html`<tr class="health-${job.health.state}">
        <td><a href="/runs${queryString({ job: job.job })}">${job.job}</a></td>
        <td><span class="state state-${job.health.state}">${job.health.state}</span> ${collapsed(job.health.reason)}
          ${job.paused ? html`<br><small>since ${job.paused.since}</small>` : ''}${job.held ? heldSummary(job.held) : ''}</td>
        ${operator ? html`<td>${actionForm(job.job, job.paused ? 'resume' : 'pause', request.session?.csrf)}
          ${deps.jobRunner ? runForm(job.job, request.session?.csrf, deps.jobRunner.busy()) : ''}</td>` : ''}
        <td>${job.lastRun ? html`${runLink(job.lastRun.id, job.lastRun.status)} at ${job.lastRun.startedAt}
          ${job.lastRun.durationMs === null ? '' : `(${(job.lastRun.durationMs / 1000).toFixed(1)} s)`}` : 'never'}</td>
        <td>${job.secondsSinceLastSuccess === null ? 'never' : formatAge(job.secondsSinceLastSuccess)}</td>
        <td>${job.liveRunners}</td>
        <td>${renderRunChart(recent.get(job.job) ?? [])}</td>
        <td>${renderWeekChart(week.get(job.job) ?? [])}</td>
        <td>${job.oldestOwed ? html`${formatAge(job.oldestOwed.ageSeconds)} (item ${job.oldestOwed.itemDate})` : 'none'}</td>
        <td><a href="/deliveries${queryString({ job: job.job, status: 'retry,pending' })}">${counted(job.ledger, 'retry', 'pending')} owed</a>,
          <a href="/deliveries${queryString({ job: job.job, status: 'dead,failed' })}">${counted(job.ledger, 'dead')} dead, ${counted(job.ledger, 'failed')} failed</a>,
          ${counted(job.ledger, 'superseded')} superseded</td>
      </tr>`);
      const consoleRun = deps.jobRunner?.last();
      return sendPage(reply, 'Jobs', request, html`${consoleRun ? html`<p class="notice" id="console-run">${consoleRun.exitCode === undefined
        ? html`${consoleRun.job}, started here by ${consoleRun.startedBy}, is running.`
        : html`${consoleRun.job}, started here by ${consoleRun.startedBy}, ended with exit code ${consoleRun.exitCode}. ${collapsed(consoleRun.summary?.trim())}`}</p>` : ''}
        <div class="scroll"><table class="jobs"><thead><tr><th>job</th><th>health</th>${operator ? html`<th>action</th>` : ''}<th>last run</th>
          <th>since last success</th><th>live runners</th><th>last day: sent, failed, duration per run</th><th>last 7 days, per day</th>
          <th>oldest owed</th><th>ledger</th></tr></thead>
        <tbody>${rows}</tbody></table></div>`);
    });

  app.post<{ Params: { job: string } }>('/jobs/:job/run', {
    config: pageConfig('operator'),
    schema: { ...pageSchema('The run-now form, embedded database only (as POST /api/v1/jobs/{job}/run)'),
      params: { type: 'object', required: ['job'], properties: { job: { type: 'string', maxLength: 200 } } },
      body: { type: 'object', properties: { _csrf: { type: 'string', maxLength: 200 } } } },
  }, async (request, reply) => {
    if (!jobNames.includes(request.params.job)) throw new HttpError(404, `no notification job named '${request.params.job}'`);
    startConsoleRun(deps.jobRunner, request.params.job, request.principal!.name);
    return reply.redirect('/jobs', 303);
  });

  for (const action of ['pause', 'resume'] as const) {
    app.post<{ Params: { job: string }; Body: { reason?: string } }>(`/jobs/:job/${action}`, {
      config: pageConfig('operator'),
      schema: { ...pageSchema(`The ${action} form (as POST /api/v1/jobs/{job}/${action})`),
        params: { type: 'object', required: ['job'], properties: { job: { type: 'string', maxLength: 200 } } },
        body: { type: 'object', properties: { reason: { type: 'string', maxLength: 1000 }, _csrf: { type: 'string', maxLength: 200 } } } },
    }, async (request, reply) => {
      const job = request.params.job;
      if (!jobNames.includes(job)) throw new HttpError(404, `no notification job named '${job}'`);
      const reason = request.body?.reason?.trim();
      if (!reason) throw new HttpError(400, `a ${action} needs a reason`);
      const actor = { name: request.principal!.name, source: 'console' as const };
      if (action === 'pause') await pauseJobAudited(db, { job, actor, reason });
      else await resumeJobAudited(db, { job, actor, reason });
      return reply.redirect('/jobs', 303);
    });
  }

  app.get<{ Querystring: { job?: string; status?: string; cursor?: string } }>('/runs', {
    config: pageConfig('viewer'),
    schema: { ...pageSchema('Runs, newest first; ?job= ?status= filter'),
      querystring: { type: 'object', properties: { job: { type: 'string', maxLength: 200 }, status: { type: 'string', maxLength: 200 },
        cursor: { type: 'string', maxLength: 1000 } } } },
  }, async (request, reply) => {
    const { job, status, cursor } = request.query;
    const statuses = parseList(status, RUN_STATUSES, 'status') as RunStatus[] | undefined;
    const { runs, next } = await getJobRunsPage(db, { job: job || undefined, statuses }, { before: runCursorOf(cursor), limit: PAGE });
    return sendPage(reply, 'Runs', request, html`
      ${filterForm('/runs', { job: job ?? '', status: status ?? '' })}
      <div class="scroll"><table><thead><tr><th>started</th><th>job</th><th>status</th><th>counts</th><th>error</th></tr></thead><tbody>
      ${runs.map((run) => html`<tr><td><a href="/runs/${run.id}">${run.started_at}</a></td><td>${run.job}</td><td>${runLink(run.id, run.status)}</td>
        <td>${Object.entries(run.counts ?? {}).map(([name, n]) => `${name} ${n}`).join(', ')}</td><td class="error">${collapsed(run.error)}</td></tr>`)}
      </tbody></table></div>${pager('/runs', { job, status }, cursor, next && encodeCursor(next), 'Older runs')}`);
  });

  app.get<{ Params: { id: string } }>('/runs/:id', {
    config: pageConfig('viewer'),
    schema: { ...pageSchema('One run and the deliveries it left failing'),
      params: { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 100 } } } },
  }, async (request, reply) => {
    const id = request.params.id;
    if (!UUID.test(id)) throw new HttpError(400, 'a run id is a UUID');
    const run = await getJobRun(db, id.toLowerCase());
    if (!run) throw new HttpError(404, `no run with id ${id}`);
    const failures = await getRunFailures(db, run.id, 1000);
    const hold = run.status === 'held' && request.principal?.role === 'operator' ? await getHold(db, run.job) : undefined;
    return sendPage(reply, `Run ${run.id}`, request, html`${hold && isPending(hold) ? html`<p class="notice">This job's runs hold:
      ${hold.hold?.count ?? '?'} to send where ${hold.hold?.usual ?? '?'} are usual. If they are right, approve them; else fix the data
      (the next run then goes on by itself). ${approveForm(run.job, request.session?.csrf)}</p>` : ''}
      <div class="scroll"><table><tbody>${Object.entries(run).map(([field, value]) => html`<tr><th>${field}</th>
        <td class="error">${field === 'status' ? runLink(run.id, String(value))
          : field === 'trace_id' && traceLink(deps.traceUrl, run.trace_id) ? html`<a href="${traceLink(deps.traceUrl, run.trace_id)}" rel="noopener noreferrer">${run.trace_id}</a>`
          : collapsed(typeof value === 'object' && value !== null && !(value instanceof Date) ? JSON.stringify(value) : value)}</td></tr>`)}
      </tbody></table></div>
      <h2>Failures (${failures.length})</h2>${deliveryTable(failures, rearmFor(request))}`);
  });

  app.get<{ Querystring: { job?: string; status?: string; workspace?: string; key?: string; itemId?: string; cursor?: string } }>('/deliveries', {
    config: pageConfig('viewer'),
    schema: { ...pageSchema('The ledger, filtered (status=dead,failed: the dead-letter view)'),
      querystring: { type: 'object', properties: { ...Object.fromEntries(['job', 'status', 'workspace', 'key', 'itemId']
        .map((name) => [name, { type: 'string', maxLength: 300 }])), cursor: { type: 'string', maxLength: 1000 } } } },
  }, async (request, reply) => {
    const { job, status, workspace, key, itemId, cursor } = request.query;
    const deliveries = await getDeliveriesPage(db, deliveryFilterOf(request.query, jobNames), { afterKey: deliveryCursorOf(cursor), limit: PAGE });
    const last = deliveries.at(-1);
    const filters = { job: job ?? '', status: status ?? '', workspace: workspace ?? '', key: key ?? '', itemId: itemId ?? '' };
    const operator = request.principal?.role === 'operator';
    return sendPage(reply, 'Deliveries', request, html`
      ${filterForm('/deliveries', filters)}
      ${operator ? html`<form class="inline rearm-filter" method="post" action="/deliveries/rearm/preview">
        <input type="hidden" name="_csrf" value="${request.session?.csrf ?? ''}">
        ${Object.entries(filters).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`)}
        <button type="submit">Preview a re-arm of this filter</button></form>` : ''}
      ${deliveryTable(deliveries, rearmFor(request))}${pager('/deliveries', { job, status, workspace, key, itemId }, cursor,
        last && deliveries.length === PAGE ? encodeCursor({ key: last.key }) : undefined, 'Next deliveries (key order)')}`);
  });

  app.get<{ Querystring: { key: string } }>('/delivery', {
    config: pageConfig('viewer'),
    schema: { ...pageSchema('One delivery in full: status, attempts, last error, message, run'),
      querystring: { type: 'object', required: ['key'], properties: { key: { type: 'string', maxLength: 300 } } } },
  }, async (request, reply) => {
    const delivery = await getDeliveryDetail(db, jobs, deps.defaultTimeZone ?? 'UTC', request.query.key);
    if (!delivery) throw new HttpError(404, `no delivery with key ${request.query.key}`);
    const rearm = rearmFor(request);
    return sendPage(reply, 'Delivery', request, html`${rearm && REARMABLE.includes(String(delivery.status)) ? rearmButton(String(delivery.key), rearm.csrf) : ''}
      <div class="scroll"><table><tbody>${Object.entries(delivery).map(([field, value]) => html`<tr><th>${field}</th>
      <td class="error">${field === 'run_id' && value ? html`<a href="/runs/${String(value)}">${String(value)}</a>` : value}</td></tr>`)}</tbody></table></div>`);
  });

  app.post<{ Body: { job?: string; status?: string; workspace?: string; key?: string; itemId?: string } }>('/deliveries/rearm/preview', {
    config: pageConfig('operator'),
    schema: { ...pageSchema('The re-arm preview form: lists what a re-arm of the filter would touch, to confirm (as POST /api/v1/deliveries/rearm/preview)'),
      body: { type: 'object', properties: Object.fromEntries(['job', 'status', 'workspace', 'key', 'itemId', '_csrf']
        .map((name) => [name, { type: 'string', maxLength: 300 }])) } },
  }, async (request, reply) => {
    const filter = requireSelector(deliveryFilterOf(request.body ?? {}, jobNames));
    const { keys, more } = await previewRearm(db, filter, REARM_CAP);
    if (more) throw new HttpError(400, `the filter matches more than ${REARM_CAP} re-armable deliveries: narrow it`);
    const preview = deps.previews.create(filter, keys.map((row) => row.key), request.principal!.name);
    return sendPage(reply, 'Confirm the re-arm', request, html`
      <p class="notice">${keys.length} delivery(ies) match now and would be made due again: exactly these, whatever matches the filter
        later. Their next run sends each one whose item still stands. This preview holds for 15 minutes.</p>
      <form method="post" action="/deliveries/rearm">
        <input type="hidden" name="_csrf" value="${request.session?.csrf ?? ''}">
        <input type="hidden" name="previewId" value="${preview.id}">
        <label>Reason <input type="text" name="reason" required placeholder="why (recorded)"></label>
        <label><input type="checkbox" name="force" value="yes"> also those whose item no longer stands (a todo deleted or
          moved): send them as first meant</label>
        <button type="submit">Re-arm ${keys.length} delivery(ies)</button></form>
      <div class="scroll"><table><thead><tr><th>key</th><th>job</th><th>status</th></tr></thead><tbody>
      ${keys.slice(0, PAGE).map((row) => html`<tr><td>${row.key}</td><td>${row.job}</td><td>${row.status}</td></tr>`)}</tbody></table></div>
      ${keys.length > PAGE ? html`<p>… and ${keys.length - PAGE} more.</p>` : ''}`);
  });

  app.post<{ Body: { previewId?: string; reason?: string; force?: string } }>('/deliveries/rearm', {
    config: pageConfig('operator'),
    schema: { ...pageSchema('The re-arm confirmation form (as POST /api/v1/deliveries/rearm)'),
      body: { type: 'object', properties: { previewId: { type: 'string', maxLength: 100 }, reason: { type: 'string', maxLength: 1000 },
        force: { type: 'string', maxLength: 10 }, _csrf: { type: 'string', maxLength: 200 } } } },
  }, async (request, reply) => {
    const reason = request.body?.reason?.trim();
    if (!reason) throw new HttpError(400, 'a re-arm needs a reason');
    const preview = deps.previews.take(request.body?.previewId ?? '');
    if (!preview) throw new HttpError(404, 'no such preview: it expired, was applied already, newer previews pushed it out, or the console restarted; preview again');
    const result = await rearmDeliveriesAudited(db, jobs, {
      filter: { keys: preview.keys }, force: request.body?.force === 'yes', actor: { name: request.principal!.name, source: 'console' }, reason,
      details: { previewId: preview.id, previewFilter: preview.filter, previewedBy: preview.createdBy },
    });
    return sendPage(reply, 'Re-armed', request, html`<p class="notice">Re-armed ${result.rearmed} delivery(ies); the next run of their job
      sends them.</p>${result.notStanding.length > 0 ? html`<p>Not re-armed, their item no longer stands:</p><ul>
      ${result.notStanding.map((row) => html`<li>${row.key}: ${row.reason}</li>`)}</ul>` : ''}<p><a href="/audit">The audit</a></p>`);
  });

  app.get<{ Querystring: { job?: string; cursor?: string } }>('/audit', {
    config: pageConfig('viewer'),
    schema: { ...pageSchema('What operators changed, newest first'),
      querystring: { type: 'object', properties: { job: { type: 'string', maxLength: 200 }, cursor: { type: 'string', maxLength: 1000 } } } },
  }, async (request, reply) => {
    const { job, cursor } = request.query;
    const entries = await getAuditPage(db, { job: job || undefined, beforeId: auditCursorOf(cursor), limit: PAGE });
    const last = entries.at(-1);
    return sendPage(reply, 'Audit', request, html`
      <div class="scroll"><table><thead><tr><th>at</th><th>who</th><th>from</th><th>what</th><th>job</th><th>reason</th><th>deliveries</th></tr></thead><tbody>
      ${entries.map((entry) => html`<tr><td>${entry.at}</td><td>${entry.actor}</td><td>${entry.source}</td><td>${entry.action}</td>
        <td>${entry.job ?? ''}</td><td class="error">${collapsed(entry.reason)}</td><td>${auditedDeliveries(entry)}</td></tr>`)}
      </tbody></table></div>${pager('/audit', { job }, cursor, last && entries.length === PAGE ? encodeCursor({ id: last.id }) : undefined, 'Older changes')}`);
  });
}
