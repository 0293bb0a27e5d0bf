import type { Logger } from '../logging/logger.js';
import { registerSecret } from '../logging/secret-registry.js';
import { describeProxyUse, getProxySettings, type ProxySettings } from './proxy-settings.js';

/**
 * The run's proxy settings from its environment: their credentials registered as secrets
 * before anything can log them, and one line saying how the services are reached when a
 * proxy is configured. A malformed proxy variable is a configuration error (exit 64).
 */
export function useProxySettings(env: Record<string, string | undefined>, servicesUrl: string, logger: Logger): ProxySettings {
  const settings = getProxySettings(env);
  for (const proxy of [settings.https, settings.http]) for (const secret of proxy?.secrets ?? []) registerSecret(secret);
  const use = describeProxyUse(settings, servicesUrl);
  if (use) logger.info({ proxy: use }, `the auth and notify services are reached ${use}`);
  return settings;
}
