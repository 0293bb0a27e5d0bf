import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import fastifyHelmet from '@fastify/helmet';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import { fastify, LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { registerApiRoutes } from './api.routes.js';
import { registerApproveRoutes } from './approve.routes.js';
import { sameSecret, type Authenticator } from './console-auth.js';
import { SESSION_COOKIE, type ConsoleDependencies } from './console-dependencies.js';
import { HttpError } from './http-error.js';
import { refuseNulBytes } from './input-checks.js';
import { clientsOf, isForeign } from './request-origin.js';
import { sendError } from './error-page.js';
import { createReadinessProbe } from './readiness.js';
import { registerPageRoutes } from './pages.routes.js';
import { createRearmPreviews } from './rearm-previews.js';
import { registerSignInRoutes } from './sign-in.routes.js';
import { traceConsoleRequests } from '../tracing/console-spans.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The console: one fastify instance with the JSON API, the pages and the OpenAPI document,
 * and one access check in front of every route (River UI's auth middleware, Oban Web's
 * resolver): what a page shows or hides is never the permission.
 */
export async function buildConsoleServer(deps: ConsoleDependencies): Promise<FastifyInstance> {
  const app = fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    // One line per request of our own (onResponse), with the route's pattern rather than the URL.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1_048_576,
    // request.ip, which the sign-in throttle counts by: the peer, unless the proxy in front is named.
    // (as string: fastify's overloads pick the http2 server for a union; proxy-addr takes either form.)
    // A hop count as proxy-addr reads a number (fastify's types take no number): the n nearest hops are proxies.
    trustProxy: typeof deps.trustProxy === 'number' ? hopsTrusted(deps.trustProxy) : deps.trustProxy ?? false,
    // Every error is `{ error }`, with fastify's own validation texts ("body must have required property 'reason'").
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } },
  });

  await app.register(fastifyHelmet, {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"], scriptSrc: ["'self'"], styleSrc: ["'self'"], imgSrc: ["'self'", 'data:'],
        formAction: ["'self'"], frameAncestors: ["'none'"], objectSrc: ["'none'"], baseUri: ["'self'"],
        upgradeInsecureRequests: null,
      },
    },
    // Same-origin fetches only; the API serves no other site.
    crossOriginResourcePolicy: { policy: 'same-origin' },
  });
  await app.register(fastifyCookie);
  await app.register(fastifyFormbody);
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'sweep console', version: '1', description: 'The operator console\'s JSON API: see and steer the notification jobs.' },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'A token of SWEEP_CONSOLE_TOKENS' },
          session: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE, description: 'A session from signing in on /login' },
        },
      },
      security: [{ bearer: [] }, { session: [] }],
    },
  });
  // Before the reference page registers its routes (awaited registers add them at once):
  // the page and its assets are for signed-in people, viewers included, like the document it shows.
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/api/docs')) route.config = { ...route.config, access: 'viewer' };
  });
  await app.register(fastifySwaggerUi, {
    routePrefix: '/api/docs', staticCSP: true, uiConfig: { validatorUrl: null },
    // Served over plain http on 127.0.0.1 too: upgrading its assets to https would break the
    // page. And its assets are all the process's own: no font, style or image from any other
    // host (the plugin's default allows https: and the public validator), no framing.
    transformStaticCSP: (header) => header.replace(/\s*upgrade-insecure-requests;?/, '').replaceAll(' https:', '')
      .replace(' validator.swagger.io', '').replace("frame-ancestors 'self'", "frame-ancestors 'none'"),
  });

  if (deps.onRoute) app.addHook('onRoute', deps.onRoute);
  // First: the access check and everything after it run inside the request's span.
  traceConsoleRequests(app);
  app.addHook('onRequest', (request, reply) => checkAccess(deps.auth, request, reply));
  // Before the schemas read them: a NUL byte is a 400 whatever the field, never the database's 500.
  app.addHook('preValidation', async (request) => {
    refuseNulBytes({ query: request.query, path: request.params, body: request.body });
  });
  // After the body is parsed: a form's CSRF token travels in it.
  app.addHook('preHandler', async (request) => {
    if (request.session && request.routeOptions.config?.page && !SAFE_METHODS.has(request.method)
      && !sameSecret((request.body as Record<string, unknown> | undefined)?._csrf, request.session.csrf)) {
      throw new HttpError(403, 'the form is stale or not the console\'s own: reload the page and try again');
    }
  });
  app.addHook('onResponse', (request, reply, done) => {
    // The route's pattern, never the URL: a sign-in link carries a token in its query.
    request.log.info({ method: request.method, route: request.routeOptions.url ?? 'unknown', status: reply.statusCode,
      ms: Math.round(reply.elapsedTime), by: request.principal?.name }, 'console request');
    done();
  });
  app.setErrorHandler((error: Error & { statusCode?: number; validation?: unknown; headers?: Record<string, string> }, request, reply) => {
    const status = error.statusCode ?? 500;
    if (status >= 500) {
      request.log.error({ err: error, route: request.routeOptions.url }, 'console request failed');
      return sendError(request, reply, 500, 'the console could not answer; its log says why');
    }
    if (error.headers) reply.headers(error.headers);
    return sendError(request, reply, status, error.message);
  });
  app.setNotFoundHandler((request, reply) => sendError(request, reply, 404, `no route ${request.method} ${request.url.split('?')[0]}`));

  app.get('/healthz', {
    config: { access: 'public' },
    schema: { summary: 'The process is up (no database)', tags: ['health'],
      response: { 200: { type: 'object', properties: { status: { type: 'string' } } } } },
  }, async () => ({ status: 'ok' }));
  const isReady = createReadinessProbe(deps.db);
  app.get('/readyz', {
    config: { access: 'public' },
    schema: { summary: 'The database answers', tags: ['health'],
      response: { 200: { type: 'object', properties: { status: { type: 'string' } } }, 503: { $ref: 'Error#' } } },
  }, async (_request, reply) => {
    if (await isReady()) return { status: 'ready' };
    return reply.status(503).send({ error: 'the database does not answer' });
  });
  app.addSchema({ $id: 'Error', type: 'object', required: ['error'], properties: { error: { type: 'string' } } });
  app.get('/api/openapi.json', {
    config: { access: 'viewer' },
    schema: { summary: 'This document', tags: ['meta'] },
  }, async () => app.swagger());

  const previews = createRearmPreviews();
  await registerApiRoutes(app, { ...deps, previews });
  await registerSignInRoutes(app, { ...deps, previews });
  await registerPageRoutes(app, { ...deps, previews });
  await registerApproveRoutes(app, { ...deps, previews });
  return app;
}

/**
 * The one access check: who is calling (Bearer token, or session cookie), whether they
 * may call this route, and, for a change made with a cookie, that it comes from this
 * console's own pages (Sec-Fetch-Site/Origin, plus the session's CSRF token for forms).
 */
async function checkAccess(auth: Authenticator, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const { access = 'operator', page = false } = request.routeOptions.config ?? {};
  if (access === 'public') return;
  const header = request.headers.authorization;
  if (header !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    const principal = match ? auth.authenticate(match[1]!) : undefined;
    if (!principal) {
      const clients = clientsOf(request);
      const wait = auth.retryAfterSeconds(clients);
      if (wait > 0) throw new HttpError(429, `too many failed attempts from this address; try again in ${wait} s`, { 'retry-after': String(wait) });
      auth.recordFailure(clients);
      throw new HttpError(401, 'the Authorization header holds no known token: send Authorization: Bearer <token>');
    }
    request.principal = principal;
  } else {
    const session = auth.getSession(request.cookies[SESSION_COOKIE]);
    if (!session) {
      if (page && SAFE_METHODS.has(request.method)) {
        await reply.redirect(`/login?next=${encodeURIComponent(request.url)}`, 303);
        return;
      }
      throw new HttpError(401, 'sign in on /login, or send Authorization: Bearer <token>');
    }
    request.principal = session;
    request.session = session;
    if (!SAFE_METHODS.has(request.method)) checkSameOrigin(request);
  }
  if (access === 'operator' && request.principal.role !== 'operator') {
    throw new HttpError(403, `${request.principal.name} is a viewer: only an operator may do this`);
  }
}

/** A change carried by a cookie must come from this console's own pages, whatever the cookie. */
function checkSameOrigin(request: FastifyRequest): void {
  if (isForeign(request, { allowTyped: false, requireOrigin: true })) {
    throw new HttpError(403, 'a change with a session cookie must come from the console\'s own pages (another origin sent it)');
  }
}

function hopsTrusted(hops: number): (address: string, hop: number) => boolean {
  return (_address, hop) => hop < hops;
}
