import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  getHealth,
  getJournal,
  getSettings,
  getStats,
  postReset,
  postRevokeTokens,
  putSettings,
} from './control.handler.js';
import { sendJson } from './http-io.js';
import type { MockState } from './mock-state.js';
import { handleNotificationRequest } from './notification.handler.js';
import { handleTokenRequest } from './token.handler.js';

export type RouteHandler = (
  state: MockState,
  req: IncomingMessage,
  res: ServerResponse,
  query: URLSearchParams,
) => void | Promise<void>;

/** Path -> method -> handler. Control paths start with /_mock so they cannot clash with a service's. */
const routes: Record<string, Partial<Record<string, RouteHandler>>> = {
  '/auth/token': { POST: handleTokenRequest },
  '/notify/notifications': { POST: handleNotificationRequest },
  '/health': { GET: getHealth },
  '/_mock/journal': { GET: getJournal },
  '/_mock/stats': { GET: getStats },
  '/_mock/settings': { GET: getSettings, PUT: putSettings },
  '/_mock/reset': { POST: postReset },
  '/_mock/revoke-tokens': { POST: postRevokeTokens },
};

/** Answers one request: its route's handler, 405 for a known path, 404 otherwise. */
export async function routeRequest(state: MockState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = req.url ?? '/';
  const queryStart = url.indexOf('?');
  const path = queryStart < 0 ? url : url.slice(0, queryStart);
  const methods = Object.hasOwn(routes, path) ? routes[path] : undefined;
  if (methods === undefined) return sendJson(res, 404, { error: 'not_found', path });
  const handler = req.method !== undefined && Object.hasOwn(methods, req.method) ? methods[req.method] : undefined;
  if (handler === undefined) {
    return sendJson(res, 405, { error: 'method_not_allowed' }, { allow: Object.keys(methods).join(', ') });
  }
  const query = new URLSearchParams(queryStart < 0 ? '' : url.slice(queryStart + 1));
  await handler(state, req, res, query);
}
