import { getConfig, type ConfigContext } from '../../src/configuration/config.js';
import { ConfigError } from '../../src/runner/errors.js';

/** The ConfigError that `getConfig` throws for `env`; fails the test when it throws none. */
export function configError(env: Record<string, string | undefined>, context: ConfigContext): ConfigError {
  try {
    getConfig(env, context);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(env)}`);
}
