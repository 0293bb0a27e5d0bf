import type { FastifyRequest } from 'fastify';

/** Where a request comes from: its client's addresses, and whether a browser sent it from this console's own pages. */

/**
 * The addresses a request is counted by for failed sign-ins: its TCP peer, which no header
 * can forge, and, when the proxy in front is trusted, the client X-Forwarded-For names.
 */
export function clientsOf(request: FastifyRequest): string[] {
  const peer = request.socket.remoteAddress ?? 'unknown';
  return request.ip && request.ip !== peer ? [peer, request.ip] : [peer];
}

/** This console's own origin as the browser saw it (https when the ingress says so). */
export function isOwnOrigin(request: FastifyRequest, origin: string): boolean {
  return origin === `${request.protocol}://${request.host}`
    || (request.headers['x-forwarded-proto'] === 'https' && origin === `https://${request.host}`);
}

/**
 * Whether a browser sent this request from another site: Sec-Fetch-Site when the browser
 * sends it (`none`, an address typed or a link from outside the browser, only where
 * `allowTyped`), else the Origin, which must be this console's own. A request with neither
 * (a script) is no browser's.
 */
export function isForeign(request: FastifyRequest, options: { allowTyped: boolean; requireOrigin: boolean }): boolean {
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined) return !(site === 'same-origin' || (options.allowTyped && site === 'none'));
  const origin = request.headers.origin;
  if (origin === undefined) return options.requireOrigin;
  return !isOwnOrigin(request, origin);
}
