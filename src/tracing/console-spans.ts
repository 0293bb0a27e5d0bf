import type { FastifyInstance, FastifyRequest } from 'fastify';
import { failSpan, startSpan, tracingEnabled, withinSpan, type TraceSpan } from './tracing.js';

const spans = new WeakMap<FastifyRequest, TraceSpan>();

/**
 * One SERVER span per console request, the root of its own trace (or continuing the
 * caller's traceparent), named by the route's pattern and method as the HTTP conventions
 * say. Never the URL's path or query: a one-time sign-in link carries its token there.
 * The rest of the request (the access check, the handler, its statements) runs inside
 * the span: the hook hands fastify's `done` the span as the active context.
 */
export function traceConsoleRequests(app: FastifyInstance): void {
  if (!tracingEnabled()) return;
  app.addHook('onRequest', (request, _reply, done) => {
    const route = request.routeOptions.url;
    const incoming = request.headers.traceparent;
    const span = startSpan(route ? `${request.method} ${route}` : request.method, {
      kind: 'server', root: { traceparent: typeof incoming === 'string' ? incoming : undefined },
      attributes: { 'http.request.method': request.method, ...(route ? { 'http.route': route } : {}), 'url.scheme': request.protocol },
    });
    spans.set(request, span);
    withinSpan(span, done);
  });
  app.addHook('onResponse', (request, reply, done) => {
    end(request, reply.statusCode);
    done();
  });
  app.addHook('onRequestAbort', (request, done) => {
    end(request, undefined);
    done();
  });
}

function end(request: FastifyRequest, status: number | undefined): void {
  const span = spans.get(request);
  if (!span) return;
  spans.delete(request);
  if (status === undefined) failSpan(span, 'the client went away before the answer', 'aborted');
  else {
    span.setAttribute('http.response.status_code', status);
    // A server span is an error on 5xx only: a 404 or 403 is the client's.
    if (status >= 500) failSpan(span, `answered ${status}`, String(status));
  }
  span.end();
}
