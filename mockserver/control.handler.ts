import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody, sendJson } from './http-io.js';
import { MockSettingsError, parseSettingsPatch } from './mock-settings.js';
import type { MockEndpoint } from './mock-server.type.js';
import type { MockState } from './mock-state.js';

/*
 * The control API lets a test or a person at a terminal inspect and steer the mock over
 * HTTP, the same things MockServer offers in-process. It never injects faults and is not
 * journalled.
 */

export function getHealth(_state: MockState, _req: IncomingMessage, res: ServerResponse): void {
  sendJson(res, 200, { ok: true });
}

/** GET /_mock/journal[?endpoint=token|notify] */
export function getJournal(state: MockState, _req: IncomingMessage, res: ServerResponse, query: URLSearchParams): void {
  const endpoint = query.get('endpoint');
  if (endpoint !== null && endpoint !== 'token' && endpoint !== 'notify') {
    return sendJson(res, 400, { error: 'invalid_query', error_description: 'endpoint must be token or notify' });
  }
  sendJson(res, 200, state.journal((endpoint ?? undefined) as MockEndpoint | undefined));
}

export function getStats(state: MockState, _req: IncomingMessage, res: ServerResponse): void {
  sendJson(res, 200, state.stats());
}

export function getSettings(state: MockState, _req: IncomingMessage, res: ServerResponse): void {
  sendJson(res, 200, state.settings);
}

/** PUT /_mock/settings with a JSON object of some settings; answers all settings in force. */
export async function putSettings(state: MockState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readBody(req);
  if (!body.ok) {
    if (body.reason === 'too_large') sendJson(res, 413, { error: 'payload_too_large' }, { connection: 'close' });
    return;
  }
  let input: unknown;
  try {
    input = JSON.parse(body.text);
  } catch {
    return sendJson(res, 400, { error: 'invalid_json' });
  }
  try {
    state.configure(parseSettingsPatch(input));
  } catch (error) {
    if (!(error instanceof MockSettingsError)) throw error;
    return sendJson(res, 400, { error: 'invalid_settings', problems: error.problems });
  }
  sendJson(res, 200, state.settings);
}

export function postReset(state: MockState, _req: IncomingMessage, res: ServerResponse): void {
  state.reset();
  sendJson(res, 200, { ok: true });
}

export function postRevokeTokens(state: MockState, _req: IncomingMessage, res: ServerResponse): void {
  sendJson(res, 200, { revoked: state.revokeTokens() });
}
