import type { FastifyInstance } from 'fastify';
import { approveJobAudited, NothingToApproveError } from '../commands/approve/approve.js';
import type { JobHold } from '../ledger/job-holds.js';
import type { RouteDependencies } from './console-dependencies.js';
import { html, type SafeHtml } from './html.js';
import { HttpError } from './http-error.js';

const anyObject = { type: 'object', additionalProperties: true };
const error = { $ref: 'Error#' };
const jobParams = { type: 'object', required: ['job'], properties: { job: { type: 'string', maxLength: 200 } } };

/**
 * The approval of a held job (the brake on a storm), as `sweep approve` makes it, through
 * the same function: the API call, and the form on the held run's page. Operators only,
 * a reason required; the form carries its session's CSRF token as every form does.
 */
export async function registerApproveRoutes(app: FastifyInstance, deps: RouteDependencies): Promise<void> {
  const { db, jobs } = deps;
  const jobNames = jobs.map((job) => job.name);
  const approve = async (job: string, actorName: string, reason: string | undefined, upTo?: number) => {
    if (!jobNames.includes(job)) throw new HttpError(404, `no notification job named '${job}'`);
    if (!reason?.trim()) throw new HttpError(400, 'an approval needs a reason');
    return approveJobAudited(db, { job, actor: { name: actorName, source: 'console' }, reason: reason.trim(), upTo })
      .catch((failure: unknown) => {
        throw failure instanceof NothingToApproveError ? new HttpError(409, failure.message) : failure;
      });
  };

  app.post<{ Params: { job: string }; Body: { reason: string; upTo?: number } }>('/api/v1/jobs/:job/approve', {
    config: { access: 'operator' },
    schema: {
      summary: 'Approves a held job (as `sweep approve`): its next runs send what was held, up to the count shown (or upTo) beyond usual',
      tags: ['jobs'],
      params: jobParams,
      body: {
        type: 'object', required: ['reason'], additionalProperties: false,
        properties: {
          reason: { type: 'string', minLength: 1, maxLength: 1000, pattern: '\\S', description: 'Why it is right to send them: recorded in the audit' },
          upTo: { type: 'integer', minimum: 1, maximum: 1_000_000_000, description: 'Up to this many beyond usual (default: the held count); ahead of a campaign' },
        },
      },
      response: { 200: anyObject, 400: error, 403: error, 404: error, 409: error, 401: error, 429: error },
    },
  }, async (request) => ({ approved: await approve(request.params.job, request.principal!.name, request.body.reason, request.body.upTo) }));

  app.post<{ Params: { job: string }; Body: { reason?: string; run?: string } }>('/jobs/:job/approve', {
    config: { access: 'operator', page: true },
    schema: {
      summary: 'The approve form on a held run\'s page (as POST /api/v1/jobs/{job}/approve)', tags: ['pages'], params: jobParams,
      body: { type: 'object', properties: { reason: { type: 'string', maxLength: 1000 }, run: { type: 'string', maxLength: 100 },
        _csrf: { type: 'string', maxLength: 200 } } },
    },
  }, async (request, reply) => {
    await approve(request.params.job, request.principal!.name, request.body?.reason);
    return reply.redirect('/jobs', 303);
  });
}

/** The approve form, for an operator on a held run whose hold still waits. */
export function approveForm(job: string, csrf: string | undefined): SafeHtml {
  return html`<form class="inline approve" method="post" action="/jobs/${encodeURIComponent(job)}/approve">
    <input type="hidden" name="_csrf" value="${csrf ?? ''}">
    <input type="text" name="reason" required placeholder="why they are right to send (recorded)" aria-label="reason to approve ${job}">
    <button type="submit">approve</button></form>`;
}

/** A held job's figures on the jobs page: its count against usual, the top workspaces and a sample of what it would send. */
export function heldSummary(hold: JobHold): SafeHtml {
  const figures = hold.hold!;
  return html`<div class="held"><strong>${figures.count.toLocaleString('en-US')} to send where ${figures.usual.toLocaleString('en-US')}
    are usual</strong> (holds above ${figures.threshold.toLocaleString('en-US')}), since ${hold.heldAt}
    ${hold.heldByRun ? html`· <a href="/runs/${hold.heldByRun}">the held run</a>` : ''}
    <br><small>most: ${figures.topWorkspaces.map((w) => `${w.workspaceId} (${w.count})`).join(', ')}</small>
    <details><summary>what it would send (${figures.sample.length} of ${figures.count})</summary><table class="sample"><thead><tr>
      <th>key</th><th>workspace</th><th>message</th></tr></thead><tbody>${figures.sample.map((n) => html`<tr><td>${n.key}</td>
      <td>${n.workspaceId}</td><td>${n.message}</td></tr>`)}</tbody></table></details></div>`;
}
