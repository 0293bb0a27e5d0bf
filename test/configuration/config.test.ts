import { resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  describeDatabase,
  getConfig,
  LOG_LEVELS,
  type ConfigContext,
} from '../../src/configuration/config.js';
import { ConfigError } from '../../src/runner/errors.js';
import { configError as configErrorOf } from '../support/config-error.js';
import { ExitCode } from '../../src/runner/exit-codes.js';

const CWD = resolve('/srv/sweep');
const context = (overrides: Partial<ConfigContext> = {}): ConfigContext => ({ stdoutIsTTY: false, cwd: CWD, ...overrides });

const VARIABLES = [
  'DATABASE_URL',
  'SWEEP_DATA_DIR',
  'SERVICES_URL',
  'SERVICE_CLIENT_ID',
  'SERVICE_CLIENT_SECRET',
  'LOG_LEVEL',
  'LOG_FORMAT',
  'HTTP_TIMEOUT_MS',
  'HTTP_RETRIES',
  'HTTP_RETRY_BASE_MS',
  'HTTP_RETRY_MAX_MS',
  'NODE_ENV',
] as const;

const configError = (env: Record<string, string | undefined>) => configErrorOf(env, context());

describe('getConfig defaults', () => {
  it('uses the embedded database in <cwd>/.data, the local services and local credentials when nothing is set', () => {
    expect(getConfig({}, context())).toEqual({
      database: { kind: 'embedded', dataDir: resolve(CWD, '.data') },
      servicesUrl: 'http://localhost:3001',
      serviceClientId: 'sweep-local',
      serviceClientSecret: 'sweep-local-secret',
      defaultTimeZone: 'UTC',
      log: { level: 'info', format: 'json' },
      http: { timeoutMs: 10_000, retries: 4, retryBaseMs: 250, retryMaxMs: 30_000 },
      statements: { lockTimeoutMs: 10_000, statementTimeoutMs: 120_000, longStatementTimeoutMs: 3_600_000,
        idleInTransactionTimeoutMs: 60_000, slowStatementMs: 5_000 },
      // Off: no OTEL_* variable, nothing of OpenTelemetry loaded.
      telemetry: { serviceName: 'sweep', resourceAttributes: {} },
      nodeEnv: 'development',
    });
  });

  it('reads the database bounds from SWEEP_*_MS and names every bad one', () => {
    const config = getConfig({ SWEEP_LOCK_TIMEOUT_MS: '2000', SWEEP_STATEMENT_TIMEOUT_MS: '30000',
      SWEEP_LONG_STATEMENT_TIMEOUT_MS: '600000', SWEEP_IDLE_IN_TRANSACTION_TIMEOUT_MS: '5000', SWEEP_SLOW_STATEMENT_MS: '500' }, context());
    expect(config.statements).toEqual({ lockTimeoutMs: 2000, statementTimeoutMs: 30_000, longStatementTimeoutMs: 600_000,
      idleInTransactionTimeoutMs: 5000, slowStatementMs: 500 });
    expect(() => getConfig({ SWEEP_LOCK_TIMEOUT_MS: '0', SWEEP_STATEMENT_TIMEOUT_MS: 'soon' }, context()))
      .toThrow(/SWEEP_LOCK_TIMEOUT_MS must be a whole number from 1 .*SWEEP_STATEMENT_TIMEOUT_MS must be a whole number/);
  });

  it('logs pretty when stdout is a terminal and JSON when it is not', () => {
    expect(getConfig({}, context({ stdoutIsTTY: true })).log.format).toBe('pretty');
    expect(getConfig({}, context({ stdoutIsTTY: false })).log.format).toBe('json');
  });

  it('treats empty and blank variables as unset', () => {
    const config = getConfig({ DATABASE_URL: '', SERVICES_URL: '   ', HTTP_RETRIES: ' ', LOG_LEVEL: '' }, context());
    expect(config.database).toEqual({ kind: 'embedded', dataDir: resolve(CWD, '.data') });
    expect(config.servicesUrl).toBe('http://localhost:3001');
    expect(config.http.retries).toBe(4);
    expect(config.log.level).toBe('info');
  });

  it('reads the service credentials and NODE_ENV as given', () => {
    const config = getConfig(
      { SERVICE_CLIENT_ID: 'sweep-prod', SERVICE_CLIENT_SECRET: 'c0rrect-h0rse', NODE_ENV: 'production', DATABASE_URL: 'postgres://db/todos' },
      context(),
    );
    expect(config.serviceClientId).toBe('sweep-prod');
    expect(config.serviceClientSecret).toBe('c0rrect-h0rse');
    expect(config.nodeEnv).toBe('production');
  });

  it('requires DATABASE_URL when NODE_ENV=production, naming it', () => {
    expect(() => getConfig({ NODE_ENV: 'production' }, context())).toThrow(/DATABASE_URL must be set when NODE_ENV=production/);
  });
});

describe('getConfig SWEEP_DEFAULT_TIME_ZONE', () => {
  it('takes an IANA zone name, a link included, as the tz database spells it', () => {
    for (const zone of ['UTC', 'America/Los_Angeles', 'Asia/Kolkata', 'Asia/Calcutta', 'Australia/Lord_Howe', 'Etc/GMT+12']) {
      expect(getConfig({ SWEEP_DEFAULT_TIME_ZONE: zone }, context()).defaultTimeZone).toBe(zone);
    }
  });

  it('refuses an unknown zone, another casing, an offset or a POSIX rule, with one line naming the variable (exit 64)', () => {
    for (const zone of ['Mars/Olympus', 'utc', 'america/los_angeles', '+05:00', 'UTC+3', 'EST5EDT']) {
      const error = configError({ SWEEP_DEFAULT_TIME_ZONE: zone });
      expect(error.exitCode).toBe(ExitCode.USAGE);
      expect(error.problems).toEqual([`SWEEP_DEFAULT_TIME_ZONE must be an IANA time zone name such as UTC or America/Los_Angeles (got '${zone}')`]);
    }
  });
});

describe('getConfig DATABASE_URL', () => {
  it.each(['postgres://sweep:s3cret@db.internal:5432/todos', 'postgresql://sweep:s3cret@db.internal/todos'])(
    'accepts %s and uses that PostgreSQL server',
    (url) => {
      expect(getConfig({ DATABASE_URL: url }, context()).database).toEqual({ kind: 'postgres', url });
    },
  );

  it('uses DATABASE_URL over SWEEP_DATA_DIR when both are set', () => {
    const config = getConfig({ DATABASE_URL: 'postgres://db/todos', SWEEP_DATA_DIR: '/var/lib/sweep' }, context());
    expect(config.database).toEqual({ kind: 'postgres', url: 'postgres://db/todos' });
  });
});

describe('getConfig SERVICES_URL', () => {
  it.each([
    ['http://notify.internal:8080', 'http://notify.internal:8080'],
    ['https://services.example.com/', 'https://services.example.com'],
    ['https://services.example.com/api///', 'https://services.example.com/api'],
    ['  http://localhost:4000/  ', 'http://localhost:4000'],
  ])('accepts %j as %j, without trailing slashes', (raw, expected) => {
    expect(getConfig({ SERVICES_URL: raw }, context()).servicesUrl).toBe(expected);
  });

  it.each(['localhost:3001', 'ftp://files.example.com', 'postgres://db/todos', 'not a url', 'http://'])(
    'rejects %j, naming SERVICES_URL',
    (raw) => {
      const error = configError({ SERVICES_URL: raw });
      expect(error.problems).toEqual([expect.stringMatching(/^SERVICES_URL must be an http:\/\/ or https:\/\/ URL/)]);
    },
  );

  it.each(['http://user:s3cret-pw@notify.internal/', 'https://user:s3cret-pw@notify.internal:8443/api', 'http://user@notify.internal'])(
    'refuses credentials in %j: the services take the workspace\'s Bearer token, not a password', (raw) => {
      const error = configError({ SERVICES_URL: raw });
      expect(error.problems).toEqual([expect.stringMatching(/^SERVICES_URL must not carry a user or password/)]);
      expect(error.message).not.toContain('s3cret-pw');
    },
  );

  it('returns only http(s) URLs without a trailing slash, whatever the input (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.webUrl().map((url) => `${url}/`)), (raw) => {
        let servicesUrl: string;
        try {
          servicesUrl = getConfig({ SERVICES_URL: raw }, context()).servicesUrl;
        } catch (error) {
          if (error instanceof ConfigError) return;
          throw error;
        }
        expect(servicesUrl.endsWith('/')).toBe(false);
        expect(['http:', 'https:']).toContain(new URL(servicesUrl).protocol);
      }),
    );
  });
});

describe('getConfig LOG_LEVEL and LOG_FORMAT', () => {
  it.each(LOG_LEVELS)('accepts LOG_LEVEL=%s in any case', (level) => {
    expect(getConfig({ LOG_LEVEL: level.toUpperCase() }, context()).log.level).toBe(level);
  });

  it('rejects an unknown LOG_LEVEL and lists the allowed ones', () => {
    expect(configError({ LOG_LEVEL: 'verbose' }).problems).toEqual([
      "LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent (got 'verbose')",
    ]);
  });

  it('uses LOG_FORMAT over the terminal default', () => {
    expect(getConfig({ LOG_FORMAT: 'json' }, context({ stdoutIsTTY: true })).log.format).toBe('json');
    expect(getConfig({ LOG_FORMAT: 'Pretty' }, context({ stdoutIsTTY: false })).log.format).toBe('pretty');
  });

  it('rejects an unknown LOG_FORMAT', () => {
    expect(configError({ LOG_FORMAT: 'text' }).problems).toEqual(["LOG_FORMAT must be one of json, pretty (got 'text')"]);
  });
});

describe('getConfig HTTP numbers', () => {
  const ranges = [
    { name: 'HTTP_TIMEOUT_MS', key: 'timeoutMs', min: 1, max: 600_000 },
    { name: 'HTTP_RETRIES', key: 'retries', min: 0, max: 20 },
    { name: 'HTTP_RETRY_BASE_MS', key: 'retryBaseMs', min: 0, max: 60_000 },
    { name: 'HTTP_RETRY_MAX_MS', key: 'retryMaxMs', min: 0, max: 600_000 },
  ] as const;

  describe.each(ranges)('$name', ({ name, key, min, max }) => {
    it(`accepts its bounds ${min} and ${max}`, () => {
      expect(getConfig({ [name]: String(min) }, context()).http[key]).toBe(min);
      expect(getConfig({ [name]: String(max) }, context()).http[key]).toBe(max);
    });

    it.each([String(min - 1), String(max + 1), '1.5', '1e3', 'ten', '0x10'])('rejects %j with the allowed range', (raw) => {
      const { problems } = configError({ [name]: raw });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(new RegExp(`^${name} must be a whole number from ${min} to ${max} \\(got `));
      expect(problems[0]).toContain(raw);
    });

    it('reads every whole number within the range as that number (property)', () => {
      fc.assert(
        fc.property(fc.integer({ min, max }), (n) => {
          expect(getConfig({ [name]: String(n) }, context()).http[key]).toBe(n);
        }),
      );
    });
  });
});

describe('getConfig SWEEP_DATA_DIR', () => {
  it('resolves a relative SWEEP_DATA_DIR against the working directory', () => {
    expect(getConfig({ SWEEP_DATA_DIR: 'var/pglite' }, context()).database).toEqual({
      kind: 'embedded',
      dataDir: resolve(CWD, 'var/pglite'),
    });
  });

  it('keeps an absolute SWEEP_DATA_DIR as it is', () => {
    const absolute = resolve('/var/lib/sweep');
    expect(getConfig({ SWEEP_DATA_DIR: absolute }, context()).database).toEqual({ kind: 'embedded', dataDir: absolute });
  });
});

describe('getConfig reporting', () => {
  it('reports every bad variable at once in one ConfigError', () => {
    const error = configError({
      DATABASE_URL: 'http://db/todos',
      SERVICES_URL: 'localhost',
      LOG_LEVEL: 'loud',
      HTTP_RETRIES: '-1',
      HTTP_TIMEOUT_MS: '0',
      NODE_ENV: 'production',
    });
    expect(error.problems).toHaveLength(5);
    expect(error.problems.map((problem) => problem.split(' ')[0]).sort()).toEqual(
      ['DATABASE_URL', 'HTTP_RETRIES', 'HTTP_TIMEOUT_MS', 'LOG_LEVEL', 'SERVICES_URL'],
    );
    expect(error.message).toBe(`invalid configuration: ${error.problems.join('; ')}`);
    expect(error.exitCode).toBe(ExitCode.USAGE);
  });

  it('either returns a config or throws a ConfigError naming the variable, for any string in any variable (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...VARIABLES), fc.string({ unit: 'binary' }), (name, raw) => {
        try {
          getConfig({ [name]: raw }, context());
        } catch (error) {
          expect(error).toBeInstanceOf(ConfigError);
          const { problems } = error as ConfigError;
          expect(problems).toHaveLength(1);
          expect(problems[0]?.startsWith(`${name} `)).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('either returns a config or throws a ConfigError with one problem per bad variable, for any environment (property)', () => {
    const env = fc.dictionary(fc.constantFrom(...VARIABLES), fc.oneof(fc.string(), fc.string({ unit: 'binary' })));
    fc.assert(
      fc.property(env, fc.boolean(), (vars, stdoutIsTTY) => {
        try {
          getConfig(vars, context({ stdoutIsTTY }));
        } catch (error) {
          expect(error).toBeInstanceOf(ConfigError);
          const named = (error as ConfigError).problems.map((problem) => problem.split(' ')[0]);
          expect(new Set(named).size).toBe(named.length);
          for (const name of named) expect(Object.keys(vars)).toContain(name);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('describeDatabase', () => {
  it('names a PostgreSQL server without its password', () => {
    expect(describeDatabase({ kind: 'postgres', url: 'postgres://sweep:s3cret@db.internal:5432/todos' })).toBe(
      'PostgreSQL at postgres://sweep:***@db.internal:5432/todos',
    );
  });

  it('names the embedded database and its directory', () => {
    expect(describeDatabase({ kind: 'embedded', dataDir: '/srv/sweep/.data' })).toBe(
      'embedded PostgreSQL (PGlite) in /srv/sweep/.data',
    );
  });
});
