import http from 'node:http';
import https from 'node:https';
import { finished, Readable } from 'node:stream';
import axios, { AxiosError, type AxiosInstance, type AxiosResponse, type InternalAxiosRequestConfig } from 'axios';
import { startDeadline, type Deadline } from './request-deadline.js';

export interface HttpClientOptions {
  baseURL: string;
  /** The total time one request may take, answer included (HTTP_TIMEOUT_MS). */
  timeoutMs: number;
  /** Sockets per host: at least the run's concurrency, so requests never queue for a socket. */
  maxSockets: number;
  /** Told each request's endpoint, outcome (status class or error code) and latency, for metrics. */
  onRequestDone?: (endpoint: string, outcome: string, seconds: number) => void;
}

const MAX_BODY_BYTES = 1024 * 1024;

/** Each request's deadline and start, by its config: axios hands the same object to the interceptors. */
const deadlines = new WeakMap<object, Deadline>();
const starts = new WeakMap<object, number>();

/**
 * One axios instance per run: keep-alive sockets, a total deadline on every request, no
 * redirects followed, bounded bodies, and every status handed back for us to classify.
 * TLS verification stays on: nothing here or in the configuration turns it off.
 */
export function createHttpClient(options: HttpClientOptions): AxiosInstance {
  const agentOptions = { keepAlive: true, maxSockets: options.maxSockets, maxFreeSockets: options.maxSockets };
  const client = axios.create({
    baseURL: options.baseURL,
    maxRedirects: 0,
    maxContentLength: MAX_BODY_BYTES,
    maxBodyLength: MAX_BODY_BYTES,
    validateStatus: () => true,
    httpAgent: new http.Agent(agentOptions),
    httpsAgent: new https.Agent({ ...agentOptions, rejectUnauthorized: true }),
    // Proxies from the environment would be a second, unreviewed path for our tokens.
    proxy: false,
  });
  const { onRequestDone } = options;
  const endpoint = (config: InternalAxiosRequestConfig | undefined) => `${(config?.method ?? 'get').toUpperCase()} ${config?.url ?? ''}`;
  const elapsed = (config: InternalAxiosRequestConfig | undefined) =>
    (performance.now() - (config ? starts.get(config) ?? performance.now() : performance.now())) / 1000;
  // synchronous: axios then skips a promise chain per request for this interceptor.
  client.interceptors.request.use((config) => {
    const deadline = startDeadline(options.timeoutMs, config.signal as AbortSignal | undefined);
    config.signal = deadline.signal;
    deadlines.set(config, deadline);
    if (onRequestDone) starts.set(config, performance.now());
    return config;
  }, null, { synchronous: true });
  client.interceptors.response.use((response: AxiosResponse) => {
    const deadline = deadlines.get(response.config);
    // A streamed answer is still arriving: its clock runs until the stream is done.
    if (response.data instanceof Readable) finished(response.data, () => deadline?.end());
    else deadline?.end();
    const status = response.status;
    onRequestDone?.(endpoint(response.config), status === 409 || status === 401 || status === 429 ? String(status) : `${Math.floor(status / 100)}xx`,
      elapsed(response.config));
    return response;
  }, (error: AxiosError) => {
    const failure = timedOut(error.config) ? timeoutError(error.config, options.timeoutMs) : error;
    if (error.config) deadlines.get(error.config)?.end();
    onRequestDone?.(endpoint(error.config), failure.code ?? 'error', elapsed(error.config));
    throw failure;
  });
  return client;
}

/** Whether the request of `config` was ended by its deadline rather than by its caller or the network. */
export function timedOut(config: object | undefined): boolean {
  return config !== undefined && deadlines.get(config)?.timedOut === true;
}

export function timeoutError(config: InternalAxiosRequestConfig | undefined, timeoutMs?: number): AxiosError {
  return new AxiosError(`timeout${timeoutMs === undefined ? '' : ` of ${timeoutMs}ms`} exceeded`, AxiosError.ETIMEDOUT, config);
}

/** Frees the keep-alive sockets so the process can exit at once. */
export function closeHttpClient(client: AxiosInstance): void {
  (client.defaults.httpAgent as http.Agent | undefined)?.destroy();
  (client.defaults.httpsAgent as https.Agent | undefined)?.destroy();
}
