import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from './console-auth.js';
import { SESSION_COOKIE, type RouteDependencies } from './console-dependencies.js';
import { html, queryString } from './html.js';
import { HttpError } from './http-error.js';
import { sendPage } from './page-parts.js';
import { clientsOf, isForeign } from './request-origin.js';
import { safeNext } from './safe-next.js';

const SESSION_SECONDS = 12 * 3600;
const pageConfig = { access: 'public' as const, page: true };
const pageSchema = (summary: string) => ({ summary, tags: ['pages'] });

/** What the sign-in form says after a link that did not sign in (the link itself is gone from the address bar). */
const NOTICES: Record<string, string> = {
  link: 'That sign-in link is spent or not this console\'s: a one-time link signs in once. Sign in with a token, '
    + 'or restart `sweep console` for a new link.',
};

/**
 * Signing in and out. The form posts a token (any configured one); GET /login?token= is
 * only the embedded demo's one-time link, spent by its first use, and answers with a
 * redirect either way so that the token leaves the address bar. Both refuse a browser's
 * request from another site (login CSRF).
 */
export async function registerSignInRoutes(app: FastifyInstance, deps: RouteDependencies): Promise<void> {
  const { auth } = deps;

  app.get<{ Querystring: { token?: string; next?: string; notice?: string } }>('/login', {
    config: pageConfig,
    schema: { ...pageSchema('The sign-in form; ?token= is the embedded demo\'s one-time link (signs in once)'),
      querystring: { type: 'object', properties: { token: { type: 'string', maxLength: 1000 }, next: { type: 'string', maxLength: 2000 },
        notice: { type: 'string', maxLength: 20 } } } },
  }, async (request, reply) => {
    const next = safeNext(request.query.next);
    if (request.query.token !== undefined) {
      if (isForeign(request, { allowTyped: true, requireOrigin: false })) throw new HttpError(403, 'open the sign-in link from the terminal, not from another site');
      const principal = auth.redeemOneTimeLink(request.query.token);
      if (principal) return startSession(request, reply, principal, next);
      countFailure(request);
      return reply.redirect(`/login${queryString({ next: next === '/jobs' ? undefined : next, notice: 'link' })}`, 303);
    }
    const notice = NOTICES[request.query.notice ?? ''];
    return sendPage(reply, 'Sign in', undefined, html`${notice ? html`<p class="notice">${notice}</p>` : ''}
      <form method="post" action="/login">
        <p><label>Token <input type="password" name="token" autocomplete="current-password" required autofocus></label></p>
        <input type="hidden" name="next" value="${next}">
        <p><button type="submit">Sign in</button></p>
      </form>`);
  });

  app.post<{ Body: { token?: string; next?: string } }>('/login', {
    config: pageConfig,
    schema: { ...pageSchema('Signs in with a token: sets the session cookie'),
      body: { type: 'object', properties: { token: { type: 'string', maxLength: 1000 }, next: { type: 'string', maxLength: 2000 } } } },
  }, async (request, reply) => {
    if (isForeign(request, { allowTyped: true, requireOrigin: false })) throw new HttpError(403, 'sign in from the console\'s own page');
    const principal = auth.authenticate(request.body?.token ?? '');
    if (!principal) {
      countFailure(request);
      return sendPage(reply.status(401), 'Sign in', undefined, html`<p class="notice">That token is not known.</p>
        <p><a href="/login">Try again</a></p>`);
    }
    return startSession(request, reply, principal, safeNext(request.body?.next));
  });

  app.post('/logout', { config: { access: 'viewer', page: true }, schema: pageSchema('Ends the session') }, async (request, reply) => {
    auth.endSession(request.session?.id);
    return reply.clearCookie(SESSION_COOKIE, { path: '/' }).redirect('/login', 303);
  });

  /** A failed attempt: 429 once its client has failed too often, counted otherwise. A correct token never comes here. */
  function countFailure(request: FastifyRequest): void {
    const clients = clientsOf(request);
    const wait = auth.retryAfterSeconds(clients);
    if (wait > 0) throw new HttpError(429, `too many failed sign-ins from this address; try again in ${wait} s (a correct token still signs in)`, { 'retry-after': String(wait) });
    auth.recordFailure(clients);
  }

  function startSession(request: FastifyRequest, reply: FastifyReply, principal: Principal, next: string) {
    const session = auth.startSession(principal);
    const secure = request.protocol === 'https' || request.headers['x-forwarded-proto'] === 'https';
    return reply.setCookie(SESSION_COOKIE, session.id, { httpOnly: true, sameSite: 'strict', secure, path: '/', maxAge: SESSION_SECONDS })
      .redirect(next, 303);
  }
}
