import type { IncomingMessage, ServerResponse } from 'node:http';
import { dropConnection, sendAny, sendJson, waitWhileConnected } from './http-io.js';
import type { MockRule } from './mock-server.type.js';
import type { JournalRecord, MockState, RandomFault } from './mock-state.js';

/** What is known of a request when a fault is decided; the fault adds status and outcome. */
export type RequestRecord = Omit<JournalRecord, 'status' | 'outcome'>;

/**
 * Applies a rule. Returns true when the rule settled the request (answered, dropped, or
 * the client left during its delay); false when the request goes on as usual.
 */
export async function applyRule(
  state: MockState,
  rule: MockRule,
  req: IncomingMessage,
  res: ServerResponse,
  request: RequestRecord,
): Promise<boolean> {
  if (rule.delayMs !== undefined && !(await waitWhileConnected(res, rule.delayMs))) return true;
  if (rule.drop === true) {
    state.record({ ...request, status: 'dropped', outcome: 'dropped' });
    dropConnection(req);
    return true;
  }
  if (rule.status !== undefined) {
    state.record({ ...request, status: rule.status, outcome: 'injected' });
    sendAny(res, rule.status, rule.body ?? { error: 'injected' }, rule.headers);
    return true;
  }
  return false;
}

/** Answers a random fault. None of them accepts the notification's key. */
export async function applyRandomFault(
  state: MockState,
  fault: RandomFault,
  req: IncomingMessage,
  res: ServerResponse,
  request: RequestRecord,
): Promise<void> {
  switch (fault.kind) {
    case 'drop':
      state.record({ ...request, status: 'dropped', outcome: 'dropped' });
      dropConnection(req);
      return;
    case 'error5xx':
      // No Retry-After, not even on 503: the contract's "other 5xx", retried with backoff.
      state.record({ ...request, status: fault.status, outcome: 'injected' });
      sendJson(res, fault.status, { error: 'injected', fault: 'error5xx' });
      return;
    case 'rateLimit':
      state.record({ ...request, status: 429, outcome: 'injected' });
      sendJson(res, 429, { error: 'rate_limited' }, { 'retry-after': String(state.settings.retryAfterSeconds) });
      return;
    case 'slow':
      // Decided now, so journalled now; by the time it is sent the client has usually given up.
      state.record({ ...request, status: 504, outcome: 'injected' });
      if (await waitWhileConnected(res, state.settings.slowMs)) {
        sendJson(res, 504, { error: 'injected', fault: 'slow' });
      }
      return;
  }
}
