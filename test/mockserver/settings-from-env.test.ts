import { describe, expect, it } from 'vitest';
import {
  describeDatabase,
  getMockServerConfig,
  hidePassword,
  MockEnvError,
} from '../../mockserver/settings-from-env.js';

function problemsOf(env: Record<string, string>): string[] {
  try {
    getMockServerConfig(env);
  } catch (error) {
    if (error instanceof MockEnvError) return error.problems;
    throw error;
  }
  throw new Error('expected a MockEnvError');
}

describe('getMockServerConfig', () => {
  it('uses port 3001 on 127.0.0.1, the embedded database and no setting overrides when nothing is set', () => {
    expect(getMockServerConfig({})).toEqual({
      host: '127.0.0.1',
      port: 3001,
      settings: {},
      database: 'embedded PostgreSQL (PGlite) in ./.data/',
    });
  });

  it('reads every variable into its setting', () => {
    const config = getMockServerConfig({
      MOCK_PORT: '4010',
      MOCK_HOST: '0.0.0.0',
      MOCK_LATENCY_MS: '25',
      MOCK_ERROR_RATE: '0.1',
      MOCK_RATE_LIMIT_RATE: '0.05',
      MOCK_RETRY_AFTER_SECONDS: '3',
      MOCK_DROP_RATE: '0.02',
      MOCK_SLOW_RATE: '.01',
      MOCK_SLOW_MS: '9000',
      MOCK_TOKEN_TTL_SECONDS: '120',
      MOCK_SEED: '7',
      SERVICE_CLIENT_ID: 'jobs',
      SERVICE_CLIENT_SECRET: 's3cret',
    });

    expect(config.host).toBe('0.0.0.0');
    expect(config.port).toBe(4010);
    expect(config.settings).toEqual({
      latencyMs: 25,
      error5xxRate: 0.1,
      rateLimitRate: 0.05,
      retryAfterSeconds: 3,
      dropRate: 0.02,
      slowRate: 0.01,
      slowMs: 9000,
      tokenTtlSeconds: 120,
      seed: 7,
      clientId: 'jobs',
      clientSecret: 's3cret',
    });
  });

  it('reads MOCK_TOKEN_TTL_SECONDS=none as a token answer without expires_in', () => {
    expect(getMockServerConfig({ MOCK_TOKEN_TTL_SECONDS: 'none' }).settings).toEqual({ tokenTtlSeconds: null });
  });

  it('treats an empty variable as unset', () => {
    expect(getMockServerConfig({ MOCK_PORT: '', MOCK_ERROR_RATE: '' })).toMatchObject({ port: 3001, settings: {} });
  });

  it('names the variable and the bad value of a number that is not one', () => {
    expect(problemsOf({ MOCK_LATENCY_MS: 'fast' })).toEqual(['MOCK_LATENCY_MS must be an integer >= 0 (got "fast")']);
  });

  it.each([
    ['MOCK_PORT', '70000'],
    ['MOCK_PORT', '30.5'],
    ['MOCK_ERROR_RATE', '1.5'],
    ['MOCK_DROP_RATE', '-0.1'],
    ['MOCK_SLOW_MS', '1e3'],
    ['MOCK_RETRY_AFTER_SECONDS', ' '],
    ['MOCK_TOKEN_TTL_SECONDS', 'forever'],
    ['SERVICE_CLIENT_ID', 'a:b'],
  ])('refuses %s=%j', (variable, value) => {
    const problems = problemsOf({ [variable]: value });

    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^${variable} must be `));
  });

  it('reports every bad variable at once, in one message', () => {
    const run = () => getMockServerConfig({ MOCK_PORT: 'x', MOCK_RATE_LIMIT_RATE: '2', MOCK_LATENCY_MS: '10' });

    expect(run).toThrow(MockEnvError);
    expect(run).toThrow(/^invalid environment: MOCK_PORT must be .*; MOCK_RATE_LIMIT_RATE must be /);
  });
});

describe('describeDatabase', () => {
  it('shows DATABASE_URL with its password hidden', () => {
    expect(describeDatabase('postgres://sweep:s3cret@db.internal:5432/sweep')).toBe(
      'postgres://sweep:***@db.internal:5432/sweep',
    );
  });

  it('shows a DATABASE_URL without password as it is', () => {
    expect(describeDatabase('postgres://localhost:5432/sweep')).toBe('postgres://localhost:5432/sweep');
  });

  it('names the embedded database when DATABASE_URL is unset or empty', () => {
    expect(describeDatabase(undefined)).toBe('embedded PostgreSQL (PGlite) in ./.data/');
    expect(describeDatabase('')).toBe('embedded PostgreSQL (PGlite) in ./.data/');
  });

  it('is what getMockServerConfig reports for DATABASE_URL', () => {
    expect(getMockServerConfig({ DATABASE_URL: 'postgresql://u:p@h/db' }).database).toBe('postgresql://u:***@h/db');
  });
});

describe('hidePassword', () => {
  it('hides a password given as a query parameter', () => {
    expect(hidePassword('postgres://u@h/db?password=s3cret&sslmode=require')).toBe(
      'postgres://u@h/db?password=***&sslmode=require',
    );
  });

  it('hides the password of a key=value connection string', () => {
    expect(hidePassword("host=db user=sweep password='s3 cret' dbname=sweep")).toBe(
      'host=db user=sweep password=*** dbname=sweep',
    );
  });
});
