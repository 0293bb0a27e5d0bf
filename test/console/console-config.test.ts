import { describe, expect, it } from 'vitest';
import { getConsoleConfig } from '../../src/console/console-config.js';
import { ConfigError } from '../../src/runner/errors.js';

const POSTGRES = { kind: 'postgres', url: 'postgres://localhost/sweep' } as const;
const EMBEDDED = { kind: 'embedded', dataDir: '/tmp/sweep' } as const;
const TOKEN = 'a'.repeat(24);

function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('getConsoleConfig', () => {
  it('reads name:role:token entries, the port from the environment, and defaults to 127.0.0.1', () => {
    const config = getConsoleConfig({ SWEEP_CONSOLE_TOKENS: `alice:operator:${TOKEN}, bob:viewer:${'b'.repeat(30)}:with:colons`,
      SWEEP_CONSOLE_PORT: '9090' }, {}, POSTGRES);
    expect(config).toEqual({ host: '127.0.0.1', port: 9090, oneTimeToken: false, trustProxy: false, tokens: [
      { name: 'alice', role: 'operator', token: TOKEN }, { name: 'bob', role: 'viewer', token: `${'b'.repeat(30)}:with:colons` }] });
  });

  it('reads SWEEP_CONSOLE_TRUST_PROXY as a hop count or addresses and CIDRs, none by default', () => {
    const tokens = { SWEEP_CONSOLE_TOKENS: `a:viewer:${TOKEN}` };
    expect(getConsoleConfig(tokens, {}, POSTGRES).trustProxy).toBe(false);
    expect(getConsoleConfig({ ...tokens, SWEEP_CONSOLE_TRUST_PROXY: '1' }, {}, POSTGRES).trustProxy).toBe(1);
    expect(getConsoleConfig({ ...tokens, SWEEP_CONSOLE_TRUST_PROXY: '10.0.0.0/8, fd00::/8,192.168.1.4,loopback' }, {}, POSTGRES).trustProxy)
      .toEqual(['10.0.0.0/8', 'fd00::/8', '192.168.1.4', 'loopback']);
    expect(problemsOf(() => getConsoleConfig({ ...tokens, SWEEP_CONSOLE_TRUST_PROXY: '0' }, {}, POSTGRES)))
      .toEqual(['SWEEP_CONSOLE_TRUST_PROXY 0: a hop count is 1 to 10']);
    expect(problemsOf(() => getConsoleConfig({ ...tokens, SWEEP_CONSOLE_TRUST_PROXY: '10.0.0.0/33' }, {}, POSTGRES))[0])
      .toMatch(/^SWEEP_CONSOLE_TRUST_PROXY: '10.0.0.0\/33' is not an address, a CIDR/);
    expect(problemsOf(() => getConsoleConfig({ ...tokens, SWEEP_CONSOLE_TRUST_PROXY: 'true' }, {}, POSTGRES))[0])
      .toMatch(/'true' is not an address/);
  });

  it('takes --port over SWEEP_CONSOLE_PORT, 8080 by default', () => {
    const env = { SWEEP_CONSOLE_TOKENS: `a:viewer:${TOKEN}`, SWEEP_CONSOLE_PORT: '9090' };
    expect(getConsoleConfig(env, { port: '0' }, POSTGRES).port).toBe(0);
    expect(getConsoleConfig({ SWEEP_CONSOLE_TOKENS: env.SWEEP_CONSOLE_TOKENS }, {}, POSTGRES).port).toBe(8080);
  });

  it('names every bad entry without showing its token', () => {
    const problems = problemsOf(() => getConsoleConfig({
      SWEEP_CONSOLE_TOKENS: 'alice:operator:short-secret-value,bob:admin:' + TOKEN + ',garbage', SWEEP_CONSOLE_PORT: '99999' }, {}, POSTGRES));
    expect(problems).toEqual([
      'SWEEP_CONSOLE_PORT must be a whole number from 0 to 65535 (got 99999)',
      'SWEEP_CONSOLE_TOKENS entry 1 (alice): the token is 18 characters, at least 24 are needed (e.g. openssl rand -base64 32)',
      'SWEEP_CONSOLE_TOKENS entry 2 (bob): unknown role \'admin\', expected viewer or operator',
      'SWEEP_CONSOLE_TOKENS entry 3 is not name:role:token',
    ]);
    expect(problems.join(' ')).not.toContain('short-secret-value');
  });

  it('refuses no list on PostgreSQL; on the embedded database makes a one-time token, on 127.0.0.1 only', () => {
    expect(problemsOf(() => getConsoleConfig({}, {}, POSTGRES))[0]).toMatch(/^SWEEP_CONSOLE_TOKENS is not set/);
    expect(getConsoleConfig({}, {}, EMBEDDED)).toMatchObject({ oneTimeToken: true, tokens: [], host: '127.0.0.1' });
    expect(problemsOf(() => getConsoleConfig({}, { host: '0.0.0.0' }, EMBEDDED))[0]).toMatch(/^--host 0.0.0.0 needs SWEEP_CONSOLE_TOKENS/);
  });

  it('refuses a name or a token used twice', () => {
    expect(problemsOf(() => getConsoleConfig({ SWEEP_CONSOLE_TOKENS: `a:viewer:${TOKEN},a:operator:${'c'.repeat(24)},b:viewer:${TOKEN}` },
      {}, POSTGRES))).toEqual(['SWEEP_CONSOLE_TOKENS entry 2 (a): the name is used twice',
      'SWEEP_CONSOLE_TOKENS entry 3 (b): the token is also another entry\'s']);
  });
});
