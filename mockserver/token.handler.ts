import type { IncomingMessage, ServerResponse } from 'node:http';
import { applyRule, type RequestRecord } from './fault-injection.js';
import { mediaType, readBody, sendJson, traceparentOf, waitWhileConnected, type Headers } from './http-io.js';
import type { JournalOutcome, MockSettings } from './mock-server.type.js';
import type { MockState } from './mock-state.js';

const workspaceScope = /^workspace:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i;

/**
 * POST /auth/token: OAuth 2.0 client credentials (RFC 6749 §4.4), one workspace per token.
 * Order: client authentication, then rules, then grant and scope, then the token.
 */
export async function handleTokenRequest(state: MockState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  state.countTokenRequest();
  const authorization = req.headers.authorization;
  const body = await readBody(req);
  if (!body.ok) {
    if (body.reason === 'too_large') {
      state.record({ endpoint: 'token', authorization, status: 413, outcome: 'rejected' });
      sendJson(res, 413, { error: 'payload_too_large' }, { connection: 'close' });
    }
    return;
  }
  if (!(await waitWhileConnected(res, state.settings.tokenLatencyMs))) return;

  // A JSON body would be an easy client mistake (axios sends objects as JSON): refuse it.
  const form = mediaType(req) === 'application/x-www-form-urlencoded' ? new URLSearchParams(body.text) : undefined;
  const workspaceId = form === undefined ? undefined : workspaceOfScope(form.get('scope'));
  const request: RequestRecord = { endpoint: 'token', authorization, workspaceId, ...traceparentOf(req) };
  const answer = (status: number, outcome: JournalOutcome, payload: unknown, headers?: Headers): void => {
    state.record({ ...request, status, outcome });
    sendJson(res, status, payload, headers);
  };

  if (!hasClientCredentials(authorization, state.settings)) {
    return answer(401, 'unauthorized', { error: 'invalid_client' }, { 'www-authenticate': 'Basic realm="mock"' });
  }
  if (form === undefined) {
    return answer(400, 'rejected', {
      error: 'invalid_request',
      error_description: 'the body must be application/x-www-form-urlencoded',
    });
  }
  const rule = state.takeRule('token', { workspaceId });
  if (rule !== undefined && (await applyRule(state, rule, req, res, request))) return;
  if (form.get('grant_type') !== 'client_credentials') {
    return answer(400, 'rejected', { error: 'unsupported_grant_type' });
  }
  if (workspaceId === undefined) return answer(400, 'rejected', { error: 'invalid_scope' });

  const ttlSeconds = state.settings.tokenTtlSeconds;
  const token = state.issueToken(workspaceId);
  state.record({ ...request, token, status: 200, outcome: 'issued' });
  sendJson(
    res,
    200,
    { access_token: token, token_type: 'Bearer', ...(ttlSeconds === null ? {} : { expires_in: ttlSeconds }) },
    { 'cache-control': 'no-store' },
  );
}

/** The workspace of a `workspace:<uuid>` scope; undefined for anything else. */
function workspaceOfScope(scope: string | null): string | undefined {
  return scope === null ? undefined : workspaceScope.exec(scope)?.[1];
}

function hasClientCredentials(authorization: string | undefined, settings: MockSettings): boolean {
  const encoded = /^Basic\s+([A-Za-z0-9+/]+={0,2})\s*$/i.exec(authorization ?? '')?.[1];
  if (encoded === undefined) return false;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return false;
  const id = decoded.slice(0, colon);
  const secret = decoded.slice(colon + 1);
  const fits = (i: string | undefined, s: string | undefined): boolean =>
    i === settings.clientId && s === settings.clientSecret;
  // RFC 6749 §2.3.1 form-encodes both parts before Basic; many clients do not. Accept either.
  return fits(id, secret) || fits(formDecode(id), formDecode(secret));
}

function formDecode(value: string): string | undefined {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}
