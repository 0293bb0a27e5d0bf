import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A service that breaks the contract on purpose, for the tests that play an attacker or
 * a broken downstream: /auth/token and /notify/notifications on 127.0.0.1, a free port,
 * each answered by a handler the test writes. It records every request, with when it
 * arrived and when its connection went away, so a test can check how long the client
 * held on. Without a handler, an endpoint behaves: a fresh token, a 201.
 */
export interface ServiceRequest {
  endpoint: 'token' | 'notify' | 'other';
  /** 1-based, per endpoint. */
  seq: number;
  /** performance.now() when the request's body had arrived. */
  startedAt: number;
  /** performance.now() when the answer was finished or the connection closed. */
  closedAt?: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** token: the workspace of the requested scope; notify: of the token presented, if it was issued here. */
  workspaceId?: string;
  /** notify: the Bearer presented. */
  token?: string;
}

export type Handler = (request: ServiceRequest, res: ServerResponse) => void | Promise<void>;

export interface HostileService {
  url: string;
  requests: ServiceRequest[];
  of(endpoint: ServiceRequest['endpoint']): ServiceRequest[];
  /** Every access_token the default token handler, or `issue`, handed out. */
  issued: string[];
  /** Answers a token request with a fresh token (recorded in `issued`); `answer` adds or overrides fields. */
  issue(request: ServiceRequest, res: ServerResponse, answer?: Record<string, unknown>): string;
  close(): Promise<void>;
}

export async function startHostileService(handlers: { token?: Handler; notify?: Handler } = {}): Promise<HostileService> {
  const requests: ServiceRequest[] = [];
  const issued: string[] = [];
  const workspaceOf = new Map<string, string>();
  const sockets = new Set<Socket>();

  const issue: HostileService['issue'] = (request, res, answer = {}) => {
    const token = typeof answer.access_token === 'string' ? answer.access_token : `hostile_${randomBytes(12).toString('hex')}`;
    issued.push(token);
    if (request.workspaceId) workspaceOf.set(token, request.workspaceId);
    json(res, 200, { access_token: token, token_type: 'Bearer', expires_in: 300, ...answer });
    return token;
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const endpoint = req.url === '/auth/token' ? 'token' : req.url === '/notify/notifications' ? 'notify' : 'other';
      const token = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
      const workspaceId = endpoint === 'token'
        ? /scope=workspace%3A([0-9a-f-]+)/i.exec(body)?.[1]
        : token === undefined ? undefined : workspaceOf.get(token);
      const request: ServiceRequest = {
        endpoint, seq: requests.filter((r) => r.endpoint === endpoint).length + 1, startedAt: performance.now(),
        headers: req.headers, body, workspaceId, token,
      };
      requests.push(request);
      res.once('close', () => { request.closedAt = performance.now(); });
      const handler = endpoint === 'token' ? handlers.token ?? ((r, s) => void issue(r, s))
        : endpoint === 'notify' ? handlers.notify ?? ((_, s) => json(s, 201, { status: 'accepted' }))
          : (_: ServiceRequest, s: ServerResponse) => json(s, 404, { error: 'not_found' });
      void Promise.resolve(handler(request, res)).catch(() => res.destroy());
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    of: (endpoint) => requests.filter((request) => request.endpoint === endpoint),
    issued,
    issue,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  text(res, status, JSON.stringify(body), { 'content-type': 'application/json', ...headers });
}

export function text(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  if (res.destroyed) return;
  res.writeHead(status, { 'content-type': 'text/plain', 'content-length': String(Buffer.byteLength(body)), ...headers });
  res.end(body);
}

/**
 * Sends `body` one byte every `intervalMs`: never idle long enough for an idle timeout,
 * and never done in time. Stops when the client goes away.
 */
export function trickle(res: ServerResponse, status: number, body: string, intervalMs = 250): void {
  const bytes = Buffer.from(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(bytes.length) });
  let sent = 0;
  const timer = setInterval(() => {
    if (res.destroyed) return clearInterval(timer);
    res.write(bytes.subarray(sent, sent + 1));
    sent += 1;
    if (sent >= bytes.length) {
      clearInterval(timer);
      res.end();
    }
  }, intervalMs);
  res.once('close', () => clearInterval(timer));
}

/**
 * Streams `totalBytes` of body as fast as the client takes them, and counts what the
 * client took before it hung up: a client that bounds what it reads stops early.
 */
export function flood(res: ServerResponse, status: number, totalBytes: number): { written: () => number } {
  const chunk = Buffer.alloc(64 * 1024, 'x');
  let written = 0;
  res.writeHead(status, { 'content-type': 'text/plain', 'content-length': String(totalBytes) });
  const pump = () => {
    while (!res.destroyed && written < totalBytes) {
      const piece = chunk.subarray(0, Math.min(chunk.length, totalBytes - written));
      written += piece.length;
      if (!res.write(piece)) return void res.once('drain', pump);
    }
    if (!res.destroyed) res.end();
  };
  pump();
  return { written: () => written };
}
