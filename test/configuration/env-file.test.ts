import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { withEnvFile } from '../../src/configuration/env-file.js';
import { ConfigError } from '../../src/runner/errors.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function dirWith(envFile?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'sweep-env-'));
  dirs.push(dir);
  if (envFile !== undefined) writeFileSync(join(dir, '.env'), envFile);
  return dir;
}

it('reads variables from a .env file in the working directory', () => {
  const env = withEnvFile({}, dirWith('SERVICES_URL=http://notify.internal:8080\n# a comment\nLOG_LEVEL="debug"\n'));
  expect(env).toEqual({ SERVICES_URL: 'http://notify.internal:8080', LOG_LEVEL: 'debug' });
});

it('lets the real environment win over the file', () => {
  const env = withEnvFile({ LOG_LEVEL: 'warn' }, dirWith('LOG_LEVEL=debug\nLOG_FORMAT=json\n'));
  expect(env).toEqual({ LOG_LEVEL: 'warn', LOG_FORMAT: 'json' });
});

it('returns the environment unchanged when there is no .env file', () => {
  const original = { A: '1' };
  expect(withEnvFile(original, dirWith())).toBe(original);
});

it('refuses a .env that is not a readable file with a ConfigError naming it', () => {
  const dir = dirWith();
  mkdirSync(join(dir, '.env'));

  let error: unknown;
  try {
    withEnvFile({}, dir);
  } catch (caught) {
    error = caught;
  }

  expect(error).toBeInstanceOf(ConfigError);
  expect((error as ConfigError).problems).toEqual([expect.stringMatching(/^\.env in .* cannot be read: .*EISDIR/)]);
});
