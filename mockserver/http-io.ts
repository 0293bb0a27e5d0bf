import type { IncomingMessage, ServerResponse } from 'node:http';

export const maxBodyBytes = 1024 * 1024;

export type Headers = Record<string, string>;

export type BodyResult =
  | { ok: true; text: string }
  | { ok: false; reason: 'too_large' | 'aborted' };

/** Reads the whole request body, giving up at `limit` bytes. */
export function readBody(req: IncomingMessage, limit = maxBodyBytes): Promise<BodyResult> {
  const declared = Number(req.headers['content-length']);
  if (declared > limit) return Promise.resolve({ ok: false, reason: 'too_large' });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.pause();
        resolve({ ok: false, reason: 'too_large' });
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve({ ok: true, text: Buffer.concat(chunks, size).toString('utf8') }));
    // After 'end' this is a no-op: a promise settles once.
    req.on('close', () => resolve({ ok: false, reason: 'aborted' }));
    req.on('error', () => resolve({ ok: false, reason: 'aborted' }));
  });
}

/** Sends a JSON answer unless the client is already gone. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Headers = {}): void {
  send(res, status, JSON.stringify(body), 'application/json; charset=utf-8', headers);
}

/** A string body goes out as text, anything else as JSON: rules can fake an HTML error page. */
export function sendAny(res: ServerResponse, status: number, body: unknown, headers: Headers = {}): void {
  if (typeof body === 'string') send(res, status, body, 'text/plain; charset=utf-8', headers);
  else sendJson(res, status, body, headers);
}

function send(res: ServerResponse, status: number, payload: string, contentType: string, headers: Headers): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(payload), ...headers });
  res.end(payload);
}

/** Ends the connection without an answer; the client sees a reset or "socket hang up". */
export function dropConnection(req: IncomingMessage): void {
  req.socket.destroy();
}

/**
 * Waits `ms` unless the client leaves first. Resolves whether the client is still there,
 * so that an abandoned request stops, and close() is not held up by pending timers.
 */
export function waitWhileConnected(res: ServerResponse, ms: number): Promise<boolean> {
  if (res.destroyed) return Promise.resolve(false);
  if (ms <= 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onClose = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      res.off('close', onClose);
      resolve(!res.destroyed);
    }, ms);
    res.once('close', onClose);
  });
}

/** The first value of a header that may be repeated. */
export function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** The media type without parameters, lower case: "application/json; charset=utf-8" -> "application/json". */
export function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';', 1)[0]?.trim().toLowerCase() ?? '';
}

/** The caller's W3C traceparent, when it sent one: a traced client joins its trace to ours. */
export function traceparentOf(req: IncomingMessage): { traceparent?: string } {
  const value = headerValue(req.headers.traceparent);
  return value === undefined ? {} : { traceparent: value };
}
