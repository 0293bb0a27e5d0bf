import http from 'node:http';
import https from 'node:https';
import { Transform, type Readable } from 'node:stream';
import { AxiosError, AxiosHeaders, CanceledError, type AxiosResponse, type InternalAxiosRequestConfig } from 'axios';
import { unwatchAbort, watchAbort } from './abort-watchers.js';
import { ProxyError, type ProxyRoutes } from './proxy-routes.js';

/**
 * An axios adapter straight on node:http. axios' own http adapter spends about 390 µs of
 * CPU per request (proxy resolution, redirect machinery, decompression pipelines,
 * progress hooks), most of it on features the sweep has switched off; this one keeps
 * axios' instance, interceptors and config and does only what the sweep needs:
 *
 * - the cancel token (the total deadline) and the AbortSignal (the stop) are honoured
 *   for the whole request, a streamed answer's body included;
 * - redirects are never followed: a 3xx is handed back like any other answer;
 * - TLS is always verified: an agent that turns verification off is refused;
 * - sockets come from config.httpAgent / httpsAgent (keep-alive per origin);
 * - bodies are bounded by maxContentLength / maxBodyLength as axios bounds them;
 * - socket errors keep their code (ECONNREFUSED, ECONNRESET…), which the retry
 *   classification reads.
 *
 * - the egress proxy of HTTPS_PROXY / HTTP_PROXY / NO_PROXY when the client was made with
 *   it (config.proxyRoutes, proxy-routes.ts): CONNECT tunnels for https, absolute-form
 *   requests for http; a failure on the way names the proxy.
 *
 * What it drops: axios' own proxy option (refused: proxies come from proxyRoutes only),
 * response decompression (Accept-Encoding is not sent, so services answer uncompressed),
 * URL params, credentials in the URL, streamed request bodies, progress and rate hooks.
 */
export function nodeTransport(config: InternalAxiosRequestConfig): Promise<AxiosResponse> {
  return new Promise((resolve, reject) => send(config, resolve, reject));
}

const USER_AGENT = 'sweep';

function send(config: InternalAxiosRequestConfig, resolve: (response: AxiosResponse) => void, reject: (reason: unknown) => void): void {
  const refused = (message: string, code: string = AxiosError.ERR_BAD_OPTION_VALUE) => reject(new AxiosError(message, code, config));
  // axios' proxy option is a second way in, beside the environment's: refused.
  if (config.proxy) return refused('config.proxy is not supported by sweep\'s HTTP transport: the proxy comes from HTTPS_PROXY / HTTP_PROXY');
  if (config.params && Object.keys(config.params as object).length > 0) return refused('config.params is not supported: put the query in the URL');

  const url = parseUrl(config);
  if (typeof url === 'string') return refused(url);
  const secure = url.protocol === 'https:';
  const route = (config as { proxyRoutes?: ProxyRoutes }).proxyRoutes?.route(url);
  const agent = (route?.agent ?? (secure ? config.httpsAgent : config.httpAgent)) as http.Agent | undefined;
  // Agent options win over request options in node, so the agent itself is checked.
  if (secure && (agent as { options?: { rejectUnauthorized?: unknown } } | undefined)?.options?.rejectUnauthorized === false) {
    return refused('TLS verification cannot be turned off (the https agent has rejectUnauthorized: false)');
  }

  const body = requestBody(config.data);
  if (body instanceof Error) return refused(body.message, AxiosError.ERR_BAD_REQUEST);
  const maxBodyLength = config.maxBodyLength ?? -1;
  if (body && maxBodyLength > -1 && body.length > maxBodyLength) {
    return refused('Request body larger than maxBodyLength limit', AxiosError.ERR_BAD_REQUEST);
  }

  const headers = outgoingHeaders(config, body);
  const options: https.RequestOptions = {
    protocol: url.protocol,
    hostname: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
    port: url.port,
    path: url.pathname + url.search,
    method: (config.method ?? 'get').toUpperCase(),
    headers,
    agent,
    // Never lenient, whatever an inherited default says.
    insecureHTTPParser: false,
  };
  if (secure) options.rejectUnauthorized = true;
  if (route && !secure) {
    // Plain http through the proxy: the request in absolute form, to the proxy.
    options.hostname = route.proxy.url.hostname.replace(/^\[|\]$/g, '');
    options.port = route.proxy.url.port || 80;
    options.path = url.href;
    headers.Host = url.host;
    if (route.proxy.authorization) headers['Proxy-Authorization'] = route.proxy.authorization;
  }

  let req: http.ClientRequest;
  try {
    req = (secure ? https : http).request(options);
  } catch (error) {
    // Invalid header values and the like: node throws before anything is sent.
    return reject(AxiosError.from(error as Error, AxiosError.ERR_BAD_REQUEST, config));
  }

  let settled = false;
  let res: http.IncomingMessage | undefined;
  let bodyStream: Readable | undefined;
  const { cancelToken, signal } = config;

  const onCancel = (reason?: unknown) => {
    // An AbortSignal's listener gets an Event; the deadline's token hands its own error.
    const error = !reason || (reason as { type?: unknown }).type ? new CanceledError(undefined, config, req) : reason;
    fail(error);
  };
  const finish = () => {
    if (timer) clearTimeout(timer);
    cancelToken?.unsubscribe(onCancel);
    if (signal) unwatchAbort(signal, onCancel);
  };
  const fail = (error: unknown) => {
    finish();
    if (bodyStream && settled) {
      // The caller reads the body: it learns of the cancel from the stream.
      if (!bodyStream.destroyed) bodyStream.destroy(error as Error);
      if (res && !res.destroyed) res.destroy();
      return;
    }
    settled = true;
    reject(error);
    res?.destroy();
    req.destroy();
  };

  // axios' own \`timeout\` (unset in the sweep, whose deadline is the cancel token), as a total limit.
  const timeoutMs = Number(config.timeout ?? 0);
  const timer = timeoutMs > 0 ? setTimeout(() => fail(new AxiosError(`timeout of ${timeoutMs}ms exceeded`,
    config.transitional?.clarifyTimeoutError ? AxiosError.ETIMEDOUT : AxiosError.ECONNABORTED, config, req)), timeoutMs) : undefined;
  cancelToken?.subscribe(onCancel);
  if (signal) {
    if (signal.aborted) return onCancel();
    watchAbort(signal, onCancel);
  }

  req.on('error', (error: Error) => {
    if (settled) return;
    if (route && !(error instanceof ProxyError) && !res) {
      // Before any answer, through the proxy: the proxy is what could not be reached (http), or the tunnel broke.
      error.message = `${error.message} (through the proxy ${route.proxy.shown}, ${route.proxy.variable})`;
      Object.assign(error, { proxy: route.proxy.shown });
    }
    fail(AxiosError.from(error, undefined, config, req));
  });

  req.on('response', (incoming) => {
    res = incoming;
    if (settled) {
      incoming.destroy();
      return;
    }
    const response: AxiosResponse = {
      status: incoming.statusCode ?? 0,
      statusText: incoming.statusMessage ?? '',
      headers: new AxiosHeaders(incoming.headers as Record<string, string>),
      config,
      request: req,
      data: undefined,
    };
    const maxContentLength = config.maxContentLength ?? -1;
    const tooLarge = () => new AxiosError(`maxContentLength size of ${maxContentLength} exceeded`, AxiosError.ERR_BAD_RESPONSE, config, req);

    if (config.responseType === 'stream') {
      bodyStream = maxContentLength > -1 ? bounded(incoming, maxContentLength, tooLarge) : incoming;
      // The request is over once its body is: read, cut short or failed.
      bodyStream.once('close', finish);
      response.data = bodyStream;
      settle(response, resolve, fail);
      settled = true;
      return;
    }

    const chunks: Buffer[] = [];
    let size = 0;
    incoming.on('data', (chunk: Buffer) => {
      if (settled) return;
      size += chunk.length;
      if (maxContentLength > -1 && size > maxContentLength) return fail(tooLarge());
      chunks.push(chunk);
    });
    incoming.once('error', (error: Error) => {
      if (!settled) fail(AxiosError.from(error, undefined, config, req, response));
    });
    incoming.once('close', () => {
      if (!settled && !incoming.complete) {
        fail(new AxiosError('the connection closed before the answer was complete', 'ECONNRESET', config, req, response));
      }
    });
    incoming.once('end', () => {
      if (settled) return;
      finish();
      const buffer = Buffer.concat(chunks, size);
      // Raw text: axios' transformResponse then parses JSON, as with its own adapters.
      response.data = config.responseType === 'arraybuffer' ? buffer : stripBom(buffer.toString((config.responseEncoding as BufferEncoding | undefined) ?? 'utf8'));
      settled = true;
      settle(response, resolve, reject);
    });
  });

  req.end(body);
}

/** A run asks for the same two or three URLs millions of times: each is parsed once. */
const parsedUrls = new Map<string, URL | string>();
const PARSED_URLS_KEPT = 256;

function parseUrl(config: InternalAxiosRequestConfig): URL | string {
  const cacheKey = `${config.baseURL ?? ''}\n${config.url ?? ''}\n${String(config.allowAbsoluteUrls)}`;
  let url = parsedUrls.get(cacheKey);
  if (url === undefined) {
    url = joinAndParseUrl(config);
    if (parsedUrls.size >= PARSED_URLS_KEPT) parsedUrls.clear();
    parsedUrls.set(cacheKey, url);
  }
  return url;
}

/** baseURL joined to url as axios' buildFullPath does; a string is why it is refused. */
function joinAndParseUrl(config: InternalAxiosRequestConfig): URL | string {
  const relative = config.url ?? '';
  const absolute = /^([a-z][a-z\d+\-.]*:)?\/\//i.test(relative);
  const full = config.baseURL && (!absolute || config.allowAbsoluteUrls === false)
    ? `${config.baseURL.replace(/\/?\/$/, '')}${relative ? `/${relative.replace(/^\/+/, '')}` : ''}`
    : relative;
  let url: URL;
  try {
    url = new URL(full);
  } catch {
    return 'the request URL is not a valid absolute URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `unsupported protocol ${url.protocol}`;
  // axios would send them as a Basic header in place of our own Authorization.
  if (url.username || url.password) return 'credentials in the request URL are not supported';
  return url;
}

/**
 * The request's headers for node, from axios' (which holds each name once, whatever its
 * case): our User-Agent unless the caller set one, Basic credentials from config.auth in
 * place of any Authorization (as axios does), and the body's length. Node itself refuses
 * a name or value that is not a valid header.
 */
function outgoingHeaders(config: InternalAxiosRequestConfig, body: Buffer | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  let userAgent = false;
  const source = (config.headers ?? {}) as Record<string, unknown>;
  for (const name of Object.keys(source)) {
    const value = source[name];
    if (value === undefined || value === null || value === false || typeof value === 'function') continue;
    const lower = name.toLowerCase();
    if (lower === 'content-length' && body) continue;
    if (lower === 'authorization' && config.auth) continue;
    if (lower === 'user-agent') userAgent = true;
    headers[name] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  if (!userAgent) headers['User-Agent'] = USER_AGENT;
  if (config.auth) {
    const credentials = `${config.auth.username ?? ''}:${config.auth.password ?? ''}`;
    headers.Authorization = `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}`;
  }
  if (body) headers['Content-Length'] = String(body.length);
  return headers;
}

/** The body after axios' transformRequest: a string or bytes, or nothing. */
function requestBody(data: unknown): Buffer | undefined | Error {
  if (data === undefined || data === null) return undefined;
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return new Error('the request body must be a string, a Buffer or an ArrayBuffer after transformation (streams are not supported)');
}

/** A stream that fails once more than `limit` bytes have passed, and cuts the answer off. */
function bounded(source: http.IncomingMessage, limit: number, tooLarge: () => Error): Readable {
  let size = 0;
  const bound = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      size += chunk.length;
      if (size > limit) return callback(tooLarge());
      callback(null, chunk);
    },
  });
  source.on('error', (error) => bound.destroy(error));
  // Whoever reads it hears its error; nobody reading must not crash the process.
  bound.on('error', () => undefined);
  bound.once('close', () => {
    if (!source.destroyed && !source.complete) source.destroy();
  });
  return source.pipe(bound);
}

/** As axios' settle: validateStatus decides; a refused status rejects with the response. */
function settle(response: AxiosResponse, resolve: (response: AxiosResponse) => void, reject: (reason: unknown) => void): void {
  const validateStatus = response.config.validateStatus;
  if (!response.status || !validateStatus || validateStatus(response.status)) return resolve(response);
  reject(new AxiosError(`Request failed with status code ${response.status}`,
    response.status >= 400 && response.status < 500 ? AxiosError.ERR_BAD_REQUEST : AxiosError.ERR_BAD_RESPONSE,
    response.config, response.request, response));
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
