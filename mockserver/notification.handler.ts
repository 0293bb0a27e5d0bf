import type { IncomingMessage, ServerResponse } from 'node:http';
import { applyRandomFault, applyRule, type RequestRecord } from './fault-injection.js';
import { headerValue, mediaType, readBody, sendJson, traceparentOf, waitWhileConnected, type Headers } from './http-io.js';
import type { JournalOutcome } from './mock-server.type.js';
import type { MockState } from './mock-state.js';
import { keyMismatch, parseNotificationMessage, type NotificationMessage } from './notification-message.js';

/**
 * POST /notify/notifications. Order: token, request shape (a job's key agreeing with the
 * message included), rules, random faults, workspace, idempotency. Faults come before the
 * key is looked up among the accepted ones, so a faulted request never accepts its key and
 * the client's retry is the one that counts. A key that disagrees with its message is wrong
 * in the request itself, like a missing key, so no fault or retry stands before its 422.
 */
export async function handleNotificationRequest(
  state: MockState,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  state.notificationStarted();
  // 'close' comes once per response, answered or not, so in-flight counts stay exact.
  res.once('close', () => state.notificationFinished());
  const authorization = req.headers.authorization;
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
  const key = headerValue(req.headers['idempotency-key']);
  const body = await readBody(req);
  if (!body.ok) {
    if (body.reason === 'too_large') {
      state.record({ endpoint: 'notify', authorization, token: bearer, key, status: 413, outcome: 'rejected' });
      sendJson(res, 413, { error: 'payload_too_large' }, { connection: 'close' });
    }
    return;
  }
  if (!(await waitWhileConnected(res, state.settings.latencyMs))) return;

  const issued = bearer === undefined ? undefined : state.findToken(bearer);
  const payload = parseJson(body.text);
  const message = payload.ok ? messageOf(payload.value) : undefined;
  const parsed = message === undefined ? undefined : parseNotificationMessage(message);
  const request: RequestRecord = {
    endpoint: 'notify',
    authorization,
    ...traceparentOf(req),
    token: bearer,
    workspaceId: issued?.workspaceId,
    key,
    message,
    ...parsed,
  };
  const answer = (status: number, outcome: JournalOutcome, answerBody: unknown, headers?: Headers): void => {
    state.record({ ...request, status, outcome });
    sendJson(res, status, answerBody, headers);
  };

  if (issued === undefined) {
    const challenge = { 'www-authenticate': 'Bearer error="invalid_token"' };
    return answer(401, 'unauthorized', { error: 'invalid_token' }, challenge);
  }
  if (key === undefined || key === '') return answer(400, 'rejected', { error: 'missing_idempotency_key' });
  if (!isJsonMediaType(mediaType(req))) return answer(415, 'rejected', { error: 'unsupported_media_type' });
  if (!payload.ok) return answer(400, 'rejected', { error: 'invalid_json' });
  if (message === undefined) {
    const description = 'the body must be {"message": string}';
    return answer(422, 'rejected', { error: 'invalid_message', error_description: description });
  }
  const mismatch = keyMismatch(key, parsed);
  if (mismatch !== undefined) {
    return answer(422, 'rejected', { error: 'key_does_not_match_message', error_description: mismatch });
  }

  const rule = state.takeRule('notify', { key, todoId: request.todoId, workspaceId: issued.workspaceId });
  if (rule !== undefined && (await applyRule(state, rule, req, res, request))) return;
  const fault = state.drawFault();
  if (fault !== undefined) return applyRandomFault(state, fault, req, res, request);

  const owner = ownerOf(parsed, state.settings.todoWorkspaces);
  if (owner !== undefined && owner !== issued.workspaceId) return answer(403, 'rejected', { error: 'wrong_workspace' });
  if (state.acceptedKeys.has(key)) return answer(409, 'duplicate', { error: 'duplicate', key });
  state.acceptedKeys.add(key);
  answer(201, 'accepted', { id: `ntf_${state.acceptedKeys.size}`, status: 'accepted' });
}

/** The workspace the notification belongs to, when the mock knows it. */
function ownerOf(parsed: NotificationMessage | undefined, todoWorkspaces: Record<string, string>): string | undefined {
  if (parsed === undefined) return undefined;
  if (parsed.kind === 'digest') return parsed.digestWorkspaceId;
  return Object.hasOwn(todoWorkspaces, parsed.todoId) ? todoWorkspaces[parsed.todoId] : undefined;
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

function messageOf(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const message = (value as { message?: unknown }).message;
  return typeof message === 'string' ? message : undefined;
}

function isJsonMediaType(type: string): boolean {
  return type === 'application/json' || type.endsWith('+json');
}
