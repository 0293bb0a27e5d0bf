import http from 'node:http';
import https from 'node:https';
import axios, { Axios, type AxiosError, type AxiosResponse, type InternalAxiosRequestConfig } from 'axios';
import { nodeTransport } from './node-transport.js';
import { ProxyRoutes } from './proxy-routes.js';
import type { ProxySettings } from './proxy-settings.js';
import { attachDeadline, endDeadline } from './request-deadline.js';
import { endRequestSpan, startRequestSpan } from '../tracing/http-spans.js';
import { tracingEnabled } from '../tracing/tracing.js';

export interface HttpClientOptions {
  baseURL: string;
  /** The total time one request may take, answer included (HTTP_TIMEOUT_MS). */
  timeoutMs: number;
  /** Sockets per host: at least the run's concurrency, so requests never queue for a socket. */
  maxSockets: number;
  /** The egress proxy (HTTPS_PROXY, HTTP_PROXY, NO_PROXY); none: every request goes straight to the service. */
  proxy?: ProxySettings;
  /** Told each request's endpoint, outcome (status class or error code) and latency, for metrics. */
  onRequestDone?: (endpoint: string, outcome: string, seconds: number) => void;
}

const MAX_BODY_BYTES = 1024 * 1024;

/**
 * One axios instance per run: keep-alive sockets, a total deadline on every request, no
 * redirects followed, bounded bodies, and every status handed back for us to classify.
 * TLS verification stays on: nothing here or in the configuration turns it off.
 */
export function createHttpClient(options: HttpClientOptions): Axios {
  const agentOptions = { keepAlive: true, maxSockets: options.maxSockets, maxFreeSockets: options.maxSockets };
  // An Axios of its own, not axios.create(): create() copies axios' global defaults into
  // the instance (XSRF names, FormData and Blob classes, transitional flags, a header
  // group per HTTP method) and axios deep-merges every one of them into each request's
  // config, a quarter of what a notification request allocated (issue #19). What the
  // sweep relies on is set here: axios' own JSON transforms and Accept header.
  const client = new Axios({
    headers: { Accept: 'application/json, text/plain, */*' },
    transformRequest: axios.defaults.transformRequest,
    transformResponse: axios.defaults.transformResponse,
    baseURL: options.baseURL,
    maxRedirects: 0,
    maxContentLength: MAX_BODY_BYTES,
    maxBodyLength: MAX_BODY_BYTES,
    validateStatus: () => true,
    httpAgent: new http.Agent(agentOptions),
    httpsAgent: new https.Agent({ ...agentOptions, rejectUnauthorized: true }),
    // axios' own proxy handling stays off: the transport takes the proxy from proxyRoutes only.
    proxy: false,
    // axios' own http adapter costs about 1.5 times the CPU per request (issue #19, docs/performance.md).
    adapter: nodeTransport,
  });
  if (options.proxy && (options.proxy.https || options.proxy.http)) {
    // A class instance: axios' config merge passes it by reference to every request.
    Object.assign(client.defaults, { proxyRoutes: new ProxyRoutes(options.proxy, agentOptions, options.timeoutMs) });
  }
  const { onRequestDone } = options;
  const started = new WeakMap<object, number>();
  // synchronous: axios then skips a promise chain per request for this interceptor.
  client.interceptors.request.use((config) => {
    attachDeadline(config, options.timeoutMs);
    if (onRequestDone) started.set(config, performance.now());
    if (tracingEnabled()) startRequestSpan(config);
    return config;
  }, null, { synchronous: true });
  const endpoint = (config: InternalAxiosRequestConfig | undefined) => `${(config?.method ?? 'get').toUpperCase()} ${config?.url ?? ''}`;
  const elapsed = (config: InternalAxiosRequestConfig | undefined) =>
    (performance.now() - (config ? started.get(config) ?? performance.now() : performance.now())) / 1000;
  client.interceptors.response.use((response: AxiosResponse) => {
    const status = response.status;
    endRequestSpan(response.config, { status });
    onRequestDone?.(endpoint(response.config), status === 409 || status === 401 || status === 429 ? String(status) : `${Math.floor(status / 100)}xx`,
      elapsed(response.config));
    return response;
  }, (error: AxiosError) => {
    endDeadline(error.config);
    endRequestSpan(error.config, { error });
    onRequestDone?.(endpoint(error.config), error.code ?? 'error', elapsed(error.config));
    throw error;
  });
  return client;
}

/** Frees the keep-alive sockets so the process can exit at once. */
export function closeHttpClient(client: Axios): void {
  (client.defaults.httpAgent as http.Agent | undefined)?.destroy();
  (client.defaults.httpsAgent as https.Agent | undefined)?.destroy();
  (client.defaults as { proxyRoutes?: ProxyRoutes }).proxyRoutes?.destroy();
}
