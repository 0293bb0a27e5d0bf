import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { ConfigError } from '../runner/errors.js';

/**
 * The environment with a `.env` file in `cwd` underneath it: a variable set in the
 * real environment wins over the file, as with `node --env-file`. A `.env` that is
 * there but cannot be read (a directory, no permission) is a configuration error.
 */
export function withEnvFile(env: Record<string, string | undefined>, cwd: string): Record<string, string | undefined> {
  const path = join(cwd, '.env');
  if (!existsSync(path)) return env;
  let fromFile: Record<string, string>;
  try {
    fromFile = parseEnv(readFileSync(path, 'utf8')) as Record<string, string>;
  } catch (error) {
    throw new ConfigError([`.env in ${cwd} cannot be read: ${(error as Error).message}`]);
  }
  return { ...fromFile, ...definedOnly(env) };
}

function definedOnly(env: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined));
}
