import { isAbsolute, resolve } from 'node:path';
import { ConfigError } from '../runner/errors.js';
import { readTelemetryConfig, type TelemetryConfig } from '../tracing/telemetry-config.js';
import { describeRejectedUrl, hasCredentials, redactUrl, tryUrl } from './url-secrets.js';

export { redactUrl, secretsOfUrl } from './url-secrets.js';

/**
 * Everything the runner reads from the environment, validated once at start.
 * `getConfig` is pure: the environment and the terminal's state go in, a typed
 * config or a ConfigError naming every bad variable comes out.
 */
export interface Config {
  database: DatabaseConfig;
  /** The bounds every transaction on a PostgreSQL server runs with (SWEEP_*_MS; see docs/running-jobs.md, Configuration). */
  statements: TransactionSettings;
  /** Base URL of the auth and notify services (SERVICES_URL). */
  servicesUrl: string;
  serviceClientId: string;
  serviceClientSecret: string;
  log: { level: LogLevel; format: LogFormat };
  http: HttpConfig;
  /** The zone of a workspace with no row in workspaces, or a null zone (SWEEP_DEFAULT_TIME_ZONE, default UTC). */
  defaultTimeZone: string;
  /** Where each run pushes its metrics at its end (PUSHGATEWAY_URL); unset: no push. */
  pushgatewayUrl?: string;
  /** OpenTelemetry's standard OTEL_* variables: traces and metrics over OTLP/HTTP, off unless set (docs/operating.md). */
  telemetry: TelemetryConfig;
  /** A link to a run's trace in a trace UI, {traceId} replaced (SWEEP_TRACE_URL); unset: the trace id alone is shown. */
  traceUrl?: string;
  nodeEnv: string;
}

/**
 * What every transaction of the sweep runs with, whatever the session, the role or a
 * pooler in between has set: each transaction starts with these as SET LOCAL (see
 * database/pg-client.ts), so they hold wherever a pooler in transaction mode sends it.
 */
export interface TransactionSettings {
  /** How long a statement may wait for a lock (SWEEP_LOCK_TIMEOUT_MS, default 10000). */
  lockTimeoutMs: number;
  /** How long a statement may run (SWEEP_STATEMENT_TIMEOUT_MS, default 120000). */
  statementTimeoutMs: number;
  /**
   * The bound of the statements that read or write a whole table by design: a job's first
   * run finding where to start, a migration (SWEEP_LONG_STATEMENT_TIMEOUT_MS, default 3600000).
   */
  longStatementTimeoutMs: number;
  /** How long a transaction may sit idle before the server ends it (SWEEP_IDLE_IN_TRANSACTION_TIMEOUT_MS, default 60000). */
  idleInTransactionTimeoutMs: number;
  /** After how long a statement still running is logged as waiting (SWEEP_SLOW_STATEMENT_MS, default 5000). */
  slowStatementMs: number;
}

export type DatabaseConfig =
  | { kind: 'postgres'; url: string }
  | { kind: 'embedded'; dataDir: string };

export interface HttpConfig {
  /** Timeout of every request, in ms (HTTP_TIMEOUT_MS, default 10000). */
  timeoutMs: number;
  /** Retries after the first try of a transient failure (HTTP_RETRIES, default 4). */
  retries: number;
  /** First backoff delay in ms; doubles on each retry, with jitter (HTTP_RETRY_BASE_MS, default 250). */
  retryBaseMs: number;
  /** Upper bound for one backoff delay and for an honoured Retry-After, in ms (HTTP_RETRY_MAX_MS, default 30000). */
  retryMaxMs: number;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFormat = 'json' | 'pretty';

/** Credentials that only the local mockserver accepts: safe to ship, useless elsewhere. */
export const LOCAL_CLIENT_ID = 'sweep-local';
export const LOCAL_CLIENT_SECRET = 'sweep-local-secret';
export const DEFAULT_SERVICES_URL = 'http://localhost:3001';
export const DEFAULT_DATA_DIR = '.data';

export interface ConfigContext {
  /** Decides LOG_FORMAT's default: pretty for a person, JSON for a collector. */
  stdoutIsTTY: boolean;
  /** Base for a relative SWEEP_DATA_DIR. */
  cwd: string;
}

export function getConfig(
  env: Record<string, string | undefined>,
  context: ConfigContext = { stdoutIsTTY: false, cwd: process.cwd() },
): Config {
  const problems: string[] = [];
  const read = <T>(name: string, parse: (raw: string) => T, fallback: T): T => {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') return fallback;
    try {
      return parse(raw.trim());
    } catch (error) {
      problems.push(`${name} ${(error as Error).message}`);
      return fallback;
    }
  };

  const databaseUrl = read('DATABASE_URL', parsePostgresUrl, undefined);
  const dataDir = read('SWEEP_DATA_DIR', (raw) => raw, DEFAULT_DATA_DIR);
  const config: Config = {
    database: databaseUrl
      ? { kind: 'postgres', url: databaseUrl }
      : { kind: 'embedded', dataDir: isAbsolute(dataDir) ? dataDir : resolve(context.cwd, dataDir) },
    statements: {
      lockTimeoutMs: read('SWEEP_LOCK_TIMEOUT_MS', (raw) => parseInteger(raw, 1, 3_600_000), 10_000),
      statementTimeoutMs: read('SWEEP_STATEMENT_TIMEOUT_MS', (raw) => parseInteger(raw, 1, 86_400_000), 120_000),
      longStatementTimeoutMs: read('SWEEP_LONG_STATEMENT_TIMEOUT_MS', (raw) => parseInteger(raw, 1, 86_400_000), 3_600_000),
      idleInTransactionTimeoutMs: read('SWEEP_IDLE_IN_TRANSACTION_TIMEOUT_MS', (raw) => parseInteger(raw, 1, 86_400_000), 60_000),
      slowStatementMs: read('SWEEP_SLOW_STATEMENT_MS', (raw) => parseInteger(raw, 1, 86_400_000), 5_000),
    },
    servicesUrl: read('SERVICES_URL', parseServicesUrl, DEFAULT_SERVICES_URL),
    serviceClientId: read('SERVICE_CLIENT_ID', (raw) => raw, LOCAL_CLIENT_ID),
    serviceClientSecret: read('SERVICE_CLIENT_SECRET', (raw) => raw, LOCAL_CLIENT_SECRET),
    log: {
      level: read('LOG_LEVEL', (raw) => parseOneOf(raw.toLowerCase(), LOG_LEVELS), 'info'),
      format: read('LOG_FORMAT', (raw) => parseOneOf(raw.toLowerCase(), ['json', 'pretty'] as const),
        context.stdoutIsTTY ? 'pretty' : 'json'),
    },
    http: {
      timeoutMs: read('HTTP_TIMEOUT_MS', (raw) => parseInteger(raw, 1, 600_000), 10_000),
      retries: read('HTTP_RETRIES', (raw) => parseInteger(raw, 0, 20), 4),
      retryBaseMs: read('HTTP_RETRY_BASE_MS', (raw) => parseInteger(raw, 0, 60_000), 250),
      retryMaxMs: read('HTTP_RETRY_MAX_MS', (raw) => parseInteger(raw, 0, 600_000), 30_000),
    },
    defaultTimeZone: read('SWEEP_DEFAULT_TIME_ZONE', parseTimeZone, 'UTC'),
    pushgatewayUrl: read('PUSHGATEWAY_URL', parseHttpUrl, undefined),
    telemetry: readTelemetryConfig(env, problems),
    traceUrl: read('SWEEP_TRACE_URL', parseTraceUrl, undefined),
    nodeEnv: read('NODE_ENV', (raw) => raw, 'development'),
  };
  if (config.nodeEnv === 'production' && config.database.kind === 'embedded' && !problems.some((p) => p.startsWith('DATABASE_URL'))) {
    problems.push('DATABASE_URL must be set when NODE_ENV=production: the embedded database is for local use');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** Parses a whole decimal number within [min, max]; the message completes "NAME ...". */
export function parseInteger(raw: string, min: number, max: number): number {
  if (!/^-?\d+$/.test(raw)) throw new Error(`must be a whole number from ${min} to ${max} (got '${raw}')`);
  const value = Number(raw);
  if (value < min || value > max) throw new Error(`must be a whole number from ${min} to ${max} (got ${raw})`);
  return value;
}

/**
 * An IANA zone name as the tz database spells it (Europe/Berlin, Asia/Kolkata, Etc/GMT+12),
 * exactly: not an offset or a POSIX rule ('UTC+3' means UTC-3 there), not another casing.
 * PostgreSQL, which decides every due time, checks it again at each run against its own
 * tz database.
 */
export function parseTimeZone(raw: string): string {
  let resolved: string | undefined;
  try {
    resolved = new Intl.DateTimeFormat('en', { timeZone: raw }).resolvedOptions().timeZone;
  } catch {
    resolved = undefined;
  }
  // Intl resolves a link to its own canonical name (Asia/Kolkata to Asia/Calcutta), and
  // another casing to the right one, which PostgreSQL's lookup by name would not find.
  const sameButCase = resolved !== undefined && resolved !== raw && resolved.toLowerCase() === raw.toLowerCase();
  if (resolved !== undefined && !sameButCase && /^[A-Za-z]/.test(raw) && (raw.includes('/') || raw === 'UTC')) return raw;
  throw new Error(`must be an IANA time zone name such as UTC or America/Los_Angeles (got '${raw}')`);
}

/** An http(s) URL template with {traceId} in it (Jaeger: https://jaeger.example/trace/{traceId}). */
export function parseTraceUrl(raw: string): string {
  if (!raw.includes('{traceId}')) throw new Error(`must contain {traceId}, where the run's trace id goes (got '${raw}')`);
  return parseHttpUrl(raw.replaceAll('{traceId}', '0')) && raw;
}

function parseOneOf<T extends string>(raw: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(raw)) return raw as T;
  throw new Error(`must be one of ${allowed.join(', ')} (got '${raw}')`);
}

/** An http(s) URL; user:password@ is allowed (a Pushgateway behind basic auth) and never shown. */
function parseHttpUrl(raw: string): string {
  const url = tryUrl(raw);
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || !url.hostname) {
    throw new Error(`must be an http:// or https:// URL (${describeRejectedUrl(raw)})`);
  }
  return raw.replace(/\/+$/, '');
}

/**
 * The services' base URL, without credentials: they would go as a Basic header on every
 * notification, in place of the workspace's Bearer token (axios' own adapter did that;
 * the sweep's transport refuses such a URL, but only at the first request).
 */
function parseServicesUrl(raw: string): string {
  const url = parseHttpUrl(raw);
  if (hasCredentials(url)) {
    throw new Error(`must not carry a user or password (got '${redactUrl(raw)}'): the services are called with `
      + 'SERVICE_CLIENT_ID/SERVICE_CLIENT_SECRET and each workspace\'s Bearer token');
  }
  return url;
}

function parsePostgresUrl(raw: string): string {
  const url = tryUrl(raw);
  if (!url || (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:')) {
    throw new Error(`must be a postgres:// URL, e.g. postgres://user:password@host:5432/database (${describeRejectedUrl(raw)})`);
  }
  return raw;
}

/** One line for people and logs: where the jobs keep their data. */
export function describeDatabase(database: DatabaseConfig): string {
  return database.kind === 'postgres'
    ? `PostgreSQL at ${redactUrl(database.url)}`
    : `embedded PostgreSQL (PGlite) in ${database.dataDir}`;
}
