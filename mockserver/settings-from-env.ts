import type { MockSettings } from './mock-server.type.js';

/** What `npm start` needs from the environment to run the mockserver. */
export interface MockServerConfig {
  /** MOCK_HOST, default 127.0.0.1. */
  host: string;
  /** MOCK_PORT, default 3001: the jobs' default SERVICES_URL. */
  port: number;
  /** Only the settings whose variable is set; the others keep the mock's defaults. */
  settings: Partial<MockSettings>;
  /** The database the jobs will use, for the startup text; never contains a password. */
  database: string;
}

/** Environment variables that cannot be used; `problems` has one sentence per variable. */
export class MockEnvError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid environment: ${problems.join('; ')}`);
    this.name = 'MockEnvError';
  }
}

export type Env = Readonly<Record<string, string | undefined>>;

interface Parser<T> {
  expectation: string;
  /** undefined when `raw` is not acceptable. */
  parse(raw: string): T | undefined;
}

const integerFrom = (min: number, max = Number.MAX_SAFE_INTEGER): Parser<number> => ({
  expectation: max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer from ${min} to ${max}`,
  parse: (raw) => {
    const value = /^-?\d+$/.test(raw.trim()) ? Number(raw) : Number.NaN;
    return Number.isSafeInteger(value) && value >= min && value <= max ? value : undefined;
  },
});

const rate: Parser<number> = {
  expectation: 'a number from 0 to 1',
  parse: (raw) => {
    const value = /^\d*\.?\d+$/.test(raw.trim()) ? Number(raw) : Number.NaN;
    return value >= 0 && value <= 1 ? value : undefined;
  },
};

const tokenTtl: Parser<number | null> = {
  expectation: 'an integer >= 0, or "none" to leave expires_in out',
  parse: (raw) => (raw.trim().toLowerCase() === 'none' ? null : integerFrom(0).parse(raw)),
};

const text: Parser<string> = { expectation: 'a non-empty string', parse: (raw) => raw };

const clientId: Parser<string> = {
  // HTTP Basic cannot carry a colon in the user id.
  expectation: 'a string without ":"',
  parse: (raw) => (raw.includes(':') ? undefined : raw),
};

type SettingVariable = {
  [K in keyof MockSettings]: { variable: string; setting: K; parser: Parser<MockSettings[K]> };
}[keyof MockSettings];

const settingVariables: SettingVariable[] = [
  { variable: 'MOCK_LATENCY_MS', setting: 'latencyMs', parser: integerFrom(0) },
  { variable: 'MOCK_ERROR_RATE', setting: 'error5xxRate', parser: rate },
  { variable: 'MOCK_RATE_LIMIT_RATE', setting: 'rateLimitRate', parser: rate },
  { variable: 'MOCK_RETRY_AFTER_SECONDS', setting: 'retryAfterSeconds', parser: integerFrom(0) },
  { variable: 'MOCK_DROP_RATE', setting: 'dropRate', parser: rate },
  { variable: 'MOCK_SLOW_RATE', setting: 'slowRate', parser: rate },
  { variable: 'MOCK_SLOW_MS', setting: 'slowMs', parser: integerFrom(0) },
  { variable: 'MOCK_TOKEN_TTL_SECONDS', setting: 'tokenTtlSeconds', parser: tokenTtl },
  { variable: 'MOCK_SEED', setting: 'seed', parser: integerFrom(-(2 ** 31), 2 ** 32 - 1) },
  // The same variables the jobs read, so that both sides agree without extra setup.
  { variable: 'SERVICE_CLIENT_ID', setting: 'clientId', parser: clientId },
  { variable: 'SERVICE_CLIENT_SECRET', setting: 'clientSecret', parser: text },
];

/**
 * Reads the mockserver's configuration from `env`. An empty variable counts as unset
 * (as `FOO=` in a compose file means). Throws MockEnvError naming every bad variable.
 */
export function getMockServerConfig(env: Env): MockServerConfig {
  const problems: string[] = [];
  const read = <T>(variable: string, parser: Parser<T>): T | undefined => {
    const raw = env[variable];
    if (raw === undefined || raw === '') return undefined;
    const value = parser.parse(raw);
    if (value === undefined) problems.push(`${variable} must be ${parser.expectation} (got ${JSON.stringify(raw)})`);
    return value;
  };

  const host = read('MOCK_HOST', text) ?? '127.0.0.1';
  const port = read('MOCK_PORT', integerFrom(0, 65535)) ?? 3001;
  const settings: Record<string, unknown> = {};
  for (const { variable, setting, parser } of settingVariables) {
    const value = read<unknown>(variable, parser);
    if (value !== undefined) settings[setting] = value;
  }
  if (problems.length > 0) throw new MockEnvError(problems);
  return { host, port, settings: settings as Partial<MockSettings>, database: describeDatabase(env.DATABASE_URL) };
}

/** Where the jobs' data lives: DATABASE_URL without its password, or the embedded default. */
export function describeDatabase(databaseUrl: string | undefined): string {
  if (databaseUrl === undefined || databaseUrl === '') return 'embedded PostgreSQL (PGlite) in ./.data/';
  return hidePassword(databaseUrl);
}

/** Replaces the password of a connection URL (or of a key=value connection string) by ***. */
export function hidePassword(connection: string): string {
  try {
    const url = new URL(connection);
    if (url.password !== '') url.password = '***';
    if (url.searchParams.has('password')) url.searchParams.set('password', '***');
    return url.toString();
  } catch {
    return connection
      .replace(/(password\s*=\s*)('[^']*'|\S+)/gi, '$1***')
      .replace(/(\/\/[^:/@\s]*):[^@/\s]*@/, '$1:***@');
  }
}
