import { registerSecret } from '../logging/secret-registry.js';
import type { Config } from './config.js';
import { secretsOfUrl } from './url-secrets.js';

/**
 * Registers the configuration's secret values, so that no log line, error text or
 * stored row can carry them: the client secret, the Basic value it travels in (a
 * service that echoes its request headers gives that back), and every URL's password.
 */
export function registerConfigSecrets(config: Config): void {
  registerSecret(config.serviceClientSecret);
  registerSecret(Buffer.from(`${config.serviceClientId}:${config.serviceClientSecret}`).toString('base64'));
  const urls = [config.database.kind === 'postgres' ? config.database.url : undefined, config.pushgatewayUrl];
  for (const url of urls) if (url !== undefined) for (const secret of secretsOfUrl(url)) registerSecret(secret);
  // A Collector's or vendor's API key travels in the OTLP headers.
  const { traces, metrics } = config.telemetry;
  for (const target of [traces, metrics]) for (const value of Object.values(target?.headers ?? {})) registerSecret(value);
  for (const target of [traces, metrics]) for (const secret of target ? secretsOfUrl(target.url) : []) registerSecret(secret);
}
