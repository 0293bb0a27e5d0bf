import type { FastifyReply, FastifyRequest } from 'fastify';
import { html } from './html.js';
import { sendPage } from './page-parts.js';

/** What a person can do about each error, beside its message. */
const NEXT_STEP: Record<number, string> = {
  400: 'Go back and change what the page asked for.',
  401: 'Sign in again.',
  403: 'Reload the page you came from and try again, or ask an operator.',
  404: 'It may have been pruned, or the link is wrong.',
  429: 'Wait, then try again.',
  500: 'The database may be down: the jobs page says so once it answers again. The console\'s log says why.',
  503: 'The console is stopping or not ready: try again in a moment.',
};

/**
 * An error as its reader wants it: `{ error }` for the API and scripts, a page for a
 * person (a page or form of the console, or a browser asking for HTML), with the same
 * message and status.
 */
export function sendError(request: FastifyRequest, reply: FastifyReply, status: number, message: string) {
  reply.status(status);
  if (!wantsPage(request)) return reply.send({ error: message });
  return sendPage(reply, `${status}: ${titleOf(status)}`, request.principal ? request : undefined, html`<p class="notice">${message}</p>
    <p>${NEXT_STEP[status] ?? ''}</p><p><a href="/jobs">The jobs</a></p>`);
}

function wantsPage(request: FastifyRequest): boolean {
  const path = request.url.split('?', 1)[0]!;
  if (path.startsWith('/api/') || path === '/metrics' || path === '/healthz' || path === '/readyz') return false;
  return request.routeOptions.config?.page === true || /\btext\/html\b/.test(request.headers.accept ?? '');
}

function titleOf(status: number): string {
  return ({ 400: 'not understood', 401: 'not signed in', 403: 'refused', 404: 'not found', 429: 'too many attempts', 500: 'the console could not answer',
    503: 'not available' } as Record<number, string>)[status] ?? 'error';
}
