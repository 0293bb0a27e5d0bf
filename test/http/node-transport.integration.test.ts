import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import axios, { AxiosError, AxiosHeaders, isCancel, type AxiosResponse, type CancelToken } from 'axios';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeHttpClient, createHttpClient } from '../../src/http/http-client.js';
import { nodeTransport } from '../../src/http/node-transport.js';
import { readBody, STREAMED } from '../../src/http/response-body.js';
import { ProxyRoutes } from '../../src/http/proxy-routes.js';
import { getProxySettings } from '../../src/http/proxy-settings.js';
import { classifyRequestError, errorFromResponse } from '../../src/http/service-error.js';
import { startForwardProxy, type ForwardProxy } from '../support/forward-proxy.js';

/** What a loaded machine may add to a deadline: scheduling, not a second timeout. */
const MARGIN_MS = 1000;

interface LocalServer {
  url: string;
  port: number;
  /** Paths requested, in order. */
  hits: string[];
  requests: IncomingMessage[];
  /** TCP connections accepted. */
  connections: number;
  /** Connections the client (or we) closed so far. */
  closed: number;
  close(): Promise<void>;
}

const servers: LocalServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

/** A server on 127.0.0.1, a free port; every test talks to nothing else. */
async function serve(handler: RequestListener, server: Server = createServer()): Promise<LocalServer> {
  const sockets = new Set<Socket>();
  const local: LocalServer = {
    url: '', port: 0, hits: [], requests: [], connections: 0, closed: 0,
    close: () => new Promise((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }),
  };
  server.on(server instanceof https.Server ? 'secureConnection' : 'connection', (socket: Socket) => {
    local.connections += 1;
    sockets.add(socket);
    socket.once('close', () => {
      local.closed += 1;
      sockets.delete(socket);
    });
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    local.hits.push(req.url ?? '');
    local.requests.push(req);
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  local.port = (server.address() as AddressInfo).port;
  local.url = `${server instanceof https.Server ? 'https' : 'http'}://127.0.0.1:${local.port}`;
  servers.push(local);
  return local;
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
};

/** Headers at once, then a byte every `intervalMs`, forever. */
const trickleForever = (res: ServerResponse, intervalMs = 100) => {
  res.writeHead(200, { 'content-type': 'text/plain' });
  const timer = setInterval(() => res.write('x'), intervalMs);
  res.once('close', () => clearInterval(timer));
};

const client = (baseURL: string, timeoutMs = 5000) => {
  const http = createHttpClient({ baseURL, timeoutMs, maxSockets: 4 });
  clients.push(http);
  return http;
};
const clients: ReturnType<typeof createHttpClient>[] = [];
afterEach(() => {
  for (const http of clients.splice(0)) closeHttpClient(http);
});

async function rejectionOf(work: Promise<unknown>): Promise<AxiosError> {
  const error = await work.then(() => undefined, (caught: unknown) => caught);
  if (!(error instanceof AxiosError)) throw new Error(`expected an AxiosError, got ${String(error)}`);
  return error;
}

const until = async (condition: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

describe('TLS is always verified', () => {
  const tls = useSelfSignedCertificate();

  const httpsServer = () => serve((_, res) => json(res, 200, { ok: true }), createHttpsServer({ cert: tls.cert, key: tls.key }));

  it('refuses a self-signed certificate: nothing reaches the handler', async () => {
    const server = await httpsServer();
    const error = await rejectionOf(client(server.url).get('/x'));

    expect(error.code).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
    expect(classifyRequestError(error, 'GET /x')).toMatchObject({ kind: 'permanent' });
    expect(server.hits).toEqual([]);
  });

  it('refuses it even when NODE_TLS_REJECT_UNAUTHORIZED=0 and no agent is given', async () => {
    const server = await httpsServer();
    const saved = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
    try {
      const error = await rejectionOf(axios.create({ adapter: nodeTransport }).get(`${server.url}/x`));
      expect(error.code).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
    } finally {
      if (saved === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
      else process.env.NODE_TLS_REJECT_UNAUTHORIZED = saved;
    }
    expect(server.hits).toEqual([]);
  });

  it('accepts the certificate when the agent trusts it as a CA', async () => {
    const server = await httpsServer();
    const agent = new https.Agent({ ca: tls.cert, keepAlive: true });
    try {
      const response = await axios.create({ adapter: nodeTransport, httpsAgent: agent }).get(`${server.url}/x`);
      expect(response.status).toBe(200);
      expect(response.data).toEqual({ ok: true });
    } finally {
      agent.destroy();
    }
  });

  it('refuses an agent that turns verification off, before connecting', async () => {
    const server = await httpsServer();
    const agent = new https.Agent({ rejectUnauthorized: false });
    try {
      const error = await rejectionOf(axios.create({ adapter: nodeTransport, httpsAgent: agent }).get(`${server.url}/x`));
      expect(error.code).toBe(AxiosError.ERR_BAD_OPTION_VALUE);
      expect(error.message).toMatch(/TLS verification/);
    } finally {
      agent.destroy();
    }
    expect(server.connections).toBe(0);
  });
});

describe('the total deadline and the stop signal', { timeout: 15_000 }, () => {
  it('ends a request whose body trickles in at the deadline, the body being read', async () => {
    const server = await serve((_, res) => trickleForever(res));
    const started = performance.now();
    const response = await client(server.url, 500).get<Readable>('/slow', STREAMED);
    const error = await rejectionOf(readBody(response, 1024 * 1024));

    expect(error.code).toBe(AxiosError.ETIMEDOUT);
    expect(performance.now() - started).toBeLessThan(500 + MARGIN_MS);
    await until(() => server.closed === 1);
  });

  it('cuts a streamed body nobody reads at the deadline, and nothing is thrown unheard', async () => {
    const server = await serve((_, res) => trickleForever(res));
    const response = await client(server.url, 300).get<Readable>('/slow', STREAMED);

    expect(response.status).toBe(200);
    await until(() => server.closed === 1);
    expect(response.data.destroyed).toBe(true);
  });

  it('ends a request the server never answers at the deadline', async () => {
    const server = await serve(() => undefined);
    const started = performance.now();
    const error = await rejectionOf(client(server.url, 500).get('/never', STREAMED));

    expect(error.code).toBe(AxiosError.ETIMEDOUT);
    expect(classifyRequestError(error, 'GET /never').details.code).toBe('ETIMEDOUT');
    expect(performance.now() - started).toBeGreaterThanOrEqual(450);
    expect(performance.now() - started).toBeLessThan(500 + MARGIN_MS);
    await until(() => server.closed === 1);
  });

  it('subscribes to the cancel token for the whole request, body included, and unsubscribes once it is read', async () => {
    const server = await serve((_, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first');
      setTimeout(() => res.end('last'), 200);
    });
    const events: string[] = [];
    const token = {
      promise: new Promise(() => undefined),
      reason: undefined,
      throwIfRequested: () => undefined,
      subscribe: () => events.push('subscribe'),
      unsubscribe: () => events.push('unsubscribe'),
    } as unknown as CancelToken;
    const http = axios.create({ adapter: nodeTransport, baseURL: server.url });
    const response = await http.get<Readable>('/body', { ...STREAMED, cancelToken: token });

    expect(events).toEqual(['subscribe']);
    const body = await readBody(response, 1024);
    expect(body.data).toBe('firstlast');
    await until(() => events.length === 2);
    expect(events).toEqual(['subscribe', 'unsubscribe']);
  });

  it('aborts on the stop signal with a CanceledError, before the answer', async () => {
    const server = await serve(() => undefined);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const error = await rejectionOf(client(server.url).get('/never', { ...STREAMED, signal: controller.signal }));

    expect(isCancel(error)).toBe(true);
    expect(error.code).toBe(AxiosError.ERR_CANCELED);
    await until(() => server.closed === 1);
  });

  it('aborts on the stop signal while a streamed body is read', async () => {
    const server = await serve((_, res) => trickleForever(res, 20));
    const controller = new AbortController();
    const response = await client(server.url).get<Readable>('/slow', { ...STREAMED, signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    const error = await rejectionOf(readBody(response, 1024 * 1024));

    expect(error.code).toBe(AxiosError.ERR_CANCELED);
    await until(() => server.closed === 1);
  });
});

describe('answers', () => {
  it('hands a redirect back without following it', async () => {
    const server = await serve((req, res) => {
      if (req.url === '/moved') {
        res.writeHead(302, { location: '/elsewhere', 'content-length': '0' });
        res.end();
      } else json(res, 200, { followed: true });
    });
    const response = await client(server.url).post('/moved', { a: 1 }, STREAMED);

    expect(response.status).toBe(302);
    expect(response.headers.location).toBe('/elsewhere');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(server.hits).toEqual(['/moved']);
  });

  it('parses a JSON answer when the body is not streamed', async () => {
    const server = await serve((_, res) => json(res, 200, { access_token: 't', n: 1 }));
    const response = await client(server.url).get('/json');

    expect(response.data).toEqual({ access_token: 't', n: 1 });
  });

  it('reads a streamed body only as far as the caller bounds it, and closes the connection', async () => {
    const big = 'y'.repeat(4 * 1024 * 1024);
    const server = await serve((_, res) => {
      res.writeHead(200, { 'content-length': String(big.length) });
      res.end(big);
    });
    const response = await client(server.url).get<Readable>('/big', STREAMED);
    const body = await readBody(response, 1000);

    expect(body.truncated).toBe(true);
    expect(body.data).toBe('y'.repeat(1000));
    await until(() => server.closed === 1);
  });

  it('fails a streamed body beyond maxContentLength when one is set', async () => {
    const server = await serve((_, res) => res.end('z'.repeat(5000)));
    const http = axios.create({ adapter: nodeTransport, baseURL: server.url, maxContentLength: 1000 });
    const response = await http.get<Readable>('/big', { responseType: 'stream' });
    const error = await rejectionOf(readBody(response, 1024 * 1024));

    expect(error.code).toBe(AxiosError.ERR_BAD_RESPONSE);
    expect(error.message).toBe('maxContentLength size of 1000 exceeded');
  });

  it('refuses a buffered answer beyond maxContentLength, as axios does', async () => {
    const server = await serve((_, res) => res.end('z'.repeat(1024 * 1024 + 1)));
    const error = await rejectionOf(client(server.url).get('/big'));

    expect(error.code).toBe(AxiosError.ERR_BAD_RESPONSE);
    expect(error.message).toBe(`maxContentLength size of ${1024 * 1024} exceeded`);
    expect(classifyRequestError(error, 'GET /big').details.code).toBe('ERR_BODY_TOO_LARGE');
  });

  it('refuses a request body beyond maxBodyLength without sending it', async () => {
    const server = await serve((_, res) => json(res, 201, {}));
    const error = await rejectionOf(client(server.url).post('/up', 'a'.repeat(1024 * 1024 + 1)));

    expect(error.code).toBe(AxiosError.ERR_BAD_REQUEST);
    expect(server.connections).toBe(0);
  });

  it('gives Retry-After and every other header to the caller as AxiosHeaders', async () => {
    const server = await serve((_, res) => json(res, 429, { error: 'slow down' }, { 'Retry-After': '7', 'X-Other': 'v' }));
    const response: AxiosResponse<Readable> = await client(server.url).post('/notify/notifications', {}, STREAMED);
    const body = await readBody(response, 1024);

    expect(response.headers).toBeInstanceOf(AxiosHeaders);
    expect(response.headers['retry-after']).toBe('7');
    expect(response.headers['x-other']).toBe('v');
    expect(errorFromResponse('POST /n', response.status, response.headers as Record<string, unknown>, body.data, 0).details.retryAfterMs).toBe(7000);
  });

  it('settles as axios does when validateStatus refuses a status', async () => {
    const server = await serve((req, res) => json(res, req.url === '/gone' ? 404 : 503, {}));
    const http = axios.create({ adapter: nodeTransport, baseURL: server.url });

    expect(await rejectionOf(http.get('/gone'))).toMatchObject({ code: AxiosError.ERR_BAD_REQUEST, response: { status: 404 } });
    expect(await rejectionOf(http.get('/busy'))).toMatchObject({ code: AxiosError.ERR_BAD_RESPONSE, response: { status: 503 } });
  });
});

describe('requests', () => {
  it('sends the body with its length, the Authorization header, and a User-Agent', async () => {
    const bodies: string[] = [];
    const server = await serve((req, res) => {
      let text = '';
      req.on('data', (chunk: Buffer) => (text += chunk.toString()));
      req.on('end', () => {
        bodies.push(text);
        json(res, 201, {});
      });
    });
    await client(server.url).post('/notify/notifications', { message: 'héllo' }, { ...STREAMED, headers: { Authorization: 'Bearer tok-1', 'Idempotency-Key': 'k' } })
      .then((response) => readBody(response as AxiosResponse<Readable>, 1024));

    const headers = server.requests[0]!.headers;
    expect(bodies).toEqual([JSON.stringify({ message: 'héllo' })]);
    expect(headers['content-length']).toBe(String(Buffer.byteLength(bodies[0]!)));
    expect(headers.authorization).toBe('Bearer tok-1');
    expect(headers['idempotency-key']).toBe('k');
    expect(headers['user-agent']).toBe('sweep');
    expect(headers['accept-encoding']).toBeUndefined();
  });

  it('sends config.auth as Basic credentials in place of any Authorization header', async () => {
    const server = await serve((_, res) => json(res, 200, {}));
    await client(server.url).post('/auth/token', 'grant_type=client_credentials', {
      auth: { username: 'id', password: 'secret' }, headers: { Authorization: 'Bearer other' } });

    expect(server.requests[0]!.headers.authorization).toBe(`Basic ${Buffer.from('id:secret').toString('base64')}`);
  });

  it('reuses one keep-alive connection for sequential requests', async () => {
    const server = await serve((_, res) => json(res, 201, { status: 'accepted' }));
    const http = client(server.url);
    for (let i = 0; i < 3; i += 1) {
      const response = await http.post<Readable>('/notify/notifications', {}, STREAMED);
      await readBody(response, 1024);
    }

    expect(server.hits).toHaveLength(3);
    expect(server.connections).toBe(1);
  });

  it('refuses params rather than dropping them', async () => {
    const server = await serve((_, res) => json(res, 200, {}));
    const error = await rejectionOf(client(server.url).get('/q', { params: { a: 1 } }));

    expect(error.code).toBe(AxiosError.ERR_BAD_OPTION_VALUE);
    expect(server.connections).toBe(0);
  });
});

describe('network errors keep their code, for the retry classification', () => {
  it('connection refused', async () => {
    const server = await serve(() => undefined);
    const url = server.url;
    await server.close();
    servers.splice(servers.indexOf(server), 1);
    const error = await rejectionOf(client(url).post('/notify/notifications', {}, { ...STREAMED, headers: { Authorization: 'Bearer tok-secret' } }));

    expect(error.code).toBe('ECONNREFUSED');
    expect(error.config?.url).toBe('/notify/notifications');
    expect(error.request).toBeDefined();
    const classified = classifyRequestError(error, 'POST /notify/notifications');
    expect(classified).toMatchObject({ kind: 'transient', details: { code: 'ECONNREFUSED' } });
    expect(`${error.message} ${classified.message}`).not.toContain('tok-secret');
  });

  it('connection reset before the answer', async () => {
    const server = await serve((req) => req.socket.destroy());
    const error = await rejectionOf(client(server.url).post('/notify/notifications', {}, STREAMED));

    expect(error.code).toBe('ECONNRESET');
    expect(classifyRequestError(error, 'POST /n')).toMatchObject({ kind: 'transient' });
  });

  it('connection cut in the middle of a streamed body: the read fails with ECONNRESET', async () => {
    const server = await serve((req, res) => {
      res.writeHead(200, { 'content-length': '1000' });
      res.write('partial', () => setTimeout(() => req.socket.destroy(), 50));
    });
    const response = await client(server.url).get<Readable>('/cut', STREAMED);
    const error = await response.data.toArray().then(() => undefined, (caught: unknown) => caught as { code?: string });

    expect(error?.code).toBe('ECONNRESET');
  });
});

describe('axios\' own proxy option', () => {
  it('is refused: the proxy comes from HTTPS_PROXY / HTTP_PROXY only', async () => {
    const proxy = await serve((_, res) => json(res, 200, { proxied: true }));
    const target = await serve((_, res) => json(res, 200, {}));
    const http = axios.create({ adapter: nodeTransport, proxy: { protocol: 'http', host: '127.0.0.1', port: proxy.port } });
    const error = await rejectionOf(http.get(`${target.url}/x`));

    expect(error.code).toBe(AxiosError.ERR_BAD_OPTION_VALUE);
    expect(error.message).toMatch(/prox/);
    expect(proxy.connections + target.connections).toBe(0);
  });

  it('the transport alone never reads HTTP_PROXY from process.env: the run hands it its settings', async () => {
    const proxy = await serve((_, res) => json(res, 200, { proxied: true }));
    const target = await serve((_, res) => json(res, 200, { direct: true }));
    const saved = { upper: process.env.HTTP_PROXY, lower: process.env.http_proxy, no: process.env.NO_PROXY, noLower: process.env.no_proxy };
    process.env.HTTP_PROXY = proxy.url;
    process.env.http_proxy = proxy.url;
    delete process.env.NO_PROXY;
    delete process.env.no_proxy;
    try {
      // No `proxy: false` here: the transport alone must not look at the environment.
      const response = await axios.create({ adapter: nodeTransport }).get(`${target.url}/x`);
      expect(response.data).toEqual({ direct: true });
    } finally {
      for (const [name, value] of [['HTTP_PROXY', saved.upper], ['http_proxy', saved.lower], ['NO_PROXY', saved.no], ['no_proxy', saved.noLower]] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
    expect(proxy.connections).toBe(0);
    expect(target.hits).toEqual(['/x']);
  });
});

describe('through the egress proxy (a real forward proxy on 127.0.0.1)', { timeout: 15_000 }, () => {
  const tls = useSelfSignedCertificate();
  const proxies: ForwardProxy[] = [];
  afterEach(async () => { await Promise.all(proxies.splice(0).map((proxy) => proxy.close())); });

  const forwardProxy = async (options?: Parameters<typeof startForwardProxy>[0]) => {
    const proxy = await startForwardProxy(options);
    proxies.push(proxy);
    return proxy;
  };
  const proxied = (baseURL: string, env: Record<string, string>, timeoutMs = 5000) => {
    const http = createHttpClient({ baseURL, timeoutMs, maxSockets: 4, proxy: getProxySettings(env) });
    clients.push(http);
    return http;
  };
  const httpsServer = () => serve((_, res) => json(res, 200, { ok: true }), createHttpsServer({ cert: tls.cert, key: tls.key }));
  /** A client whose tunnels trust the test's certificate as a CA (the run's use the system's CAs). */
  const trusting = (env: Record<string, string>) => axios.create({ adapter: nodeTransport,
    proxyRoutes: new ProxyRoutes(getProxySettings(env), { ca: tls.cert, keepAlive: true }, 5000) } as object);

  it('sends an http request to the proxy in absolute form, its credentials in Proxy-Authorization only', async () => {
    const proxy = await forwardProxy();
    const target = await serve((_, res) => json(res, 200, { through: 'proxy' }));
    const response = await proxied(target.url, { HTTP_PROXY: `http://egress:pa55-w0rd@127.0.0.1:${proxy.port}` }).post('/notify', { a: 1 });

    expect(response.data).toEqual({ through: 'proxy' });
    expect(proxy.journal).toEqual([{ method: 'POST', target: `${target.url}/notify`,
      authorization: `Basic ${Buffer.from('egress:pa55-w0rd').toString('base64')}` }]);
    expect(target.requests[0]!.headers['proxy-authorization']).toBeUndefined();
    expect(target.requests[0]!.headers.host).toBe(`127.0.0.1:${target.port}`);
  });

  it('reaches an https service through a CONNECT tunnel and still refuses a certificate it does not trust', async () => {
    const proxy = await forwardProxy();
    const server = await httpsServer();
    const error = await rejectionOf(proxied(server.url, { HTTPS_PROXY: `http://127.0.0.1:${proxy.port}` }).get('/x'));

    expect(error.code).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
    expect(proxy.journal).toEqual([{ method: 'CONNECT', target: `127.0.0.1:${server.port}`, authorization: undefined }]);
    expect(server.hits).toEqual([]);
  });

  it('verifies the service\'s certificate inside the tunnel and keeps the tunnel alive for the next request', async () => {
    const proxy = await forwardProxy();
    const server = await httpsServer();
    const http = trusting({ https_proxy: `127.0.0.1:${proxy.port}` });
    expect((await http.get(`${server.url}/a`)).data).toEqual({ ok: true });
    expect((await http.get(`${server.url}/b`)).data).toEqual({ ok: true });

    expect(server.hits).toEqual(['/a', '/b']);
    expect(proxy.journal.map((entry) => entry.method)).toEqual(['CONNECT']);
    ((http.defaults as { proxyRoutes?: ProxyRoutes }).proxyRoutes)?.destroy();
  });

  it('goes straight to a host NO_PROXY names', async () => {
    const proxy = await forwardProxy();
    const target = await serve((_, res) => json(res, 200, { direct: true }));
    const response = await proxied(target.url, { HTTP_PROXY: `http://127.0.0.1:${proxy.port}`, NO_PROXY: 'localhost,127.0.0.0/8' }).get('/x');

    expect(response.data).toEqual({ direct: true });
    expect(proxy.journal).toEqual([]);
  });

  it('a CONNECT the proxy refuses fails with EPROXY, transient, naming the proxy without its password', async () => {
    const proxy = await forwardProxy({ connectAnswer: 407 });
    const server = await httpsServer();
    const error = await rejectionOf(proxied(server.url, { HTTPS_PROXY: `http://egress:pa55-w0rd@127.0.0.1:${proxy.port}` }).get('/x'));

    expect(error.code).toBe('EPROXY');
    expect(error.message).toBe(`the proxy http://egress:***@127.0.0.1:${proxy.port} (HTTPS_PROXY) refused CONNECT 127.0.0.1:${server.port}: 407 Refused by policy`);
    const classified = classifyRequestError(error, 'GET /x');
    expect(classified).toMatchObject({ kind: 'transient' });
    expect(classified.message).toContain(`the proxy http://egress:***@127.0.0.1:${proxy.port} (HTTPS_PROXY) refused CONNECT`);
  });

  it('a proxy that cannot be reached is named as such, for https and for http', async () => {
    const closed = await forwardProxy();
    await closed.close();
    const server = await httpsServer();
    const tunnel = await rejectionOf(proxied(server.url, { HTTPS_PROXY: `http://127.0.0.1:${closed.port}` }).get('/x'));
    expect(tunnel.code).toBe('EPROXY');
    expect(tunnel.message).toMatch(new RegExp(`^the proxy http://127.0.0.1:${closed.port} \\(HTTPS_PROXY\\) cannot be reached: .*ECONNREFUSED`));

    const target = await serve((_, res) => json(res, 200, {}));
    const plain = await rejectionOf(proxied(target.url, { HTTP_PROXY: `http://127.0.0.1:${closed.port}` }).get('/x'));
    expect(plain.code).toBe('ECONNREFUSED');
    expect(classifyRequestError(plain, 'GET /x').message).toMatch(new RegExp(`through the proxy http://127.0.0.1:${closed.port}, HTTP_PROXY`));
  });

  it('the deadline ends a request whose CONNECT the proxy never answers', async () => {
    const proxy = await forwardProxy({ hangConnect: true });
    const server = await httpsServer();
    const started = Date.now();
    const error = await rejectionOf(proxied(server.url, { HTTPS_PROXY: `http://127.0.0.1:${proxy.port}` }, 300).get('/x'));

    expect(classifyRequestError(error, 'GET /x').details.code).toBe('ETIMEDOUT');
    expect(Date.now() - started).toBeLessThan(300 + MARGIN_MS);
  });

  it('the stop signal aborts a request waiting on the proxy', async () => {
    const proxy = await forwardProxy({ hangConnect: true });
    const server = await httpsServer();
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 100);
    const error = await rejectionOf(proxied(server.url, { HTTPS_PROXY: `http://127.0.0.1:${proxy.port}` }).get('/x', { signal: stop.signal }));

    expect(isCancel(error)).toBe(true);
  });
});

/** A self-signed certificate for 127.0.0.1, made by openssl for the describe block that calls this (read its fields in tests). */
function useSelfSignedCertificate(): { cert: Buffer; key: Buffer } {
  const made = {} as { cert: Buffer; key: Buffer };
  let dir: string | undefined;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sweep-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-days', '1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    made.cert = readFileSync(join(dir, 'cert.pem'));
    made.key = readFileSync(join(dir, 'key.pem'));
  });
  afterAll(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });
  return made;
}
