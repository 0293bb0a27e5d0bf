import { BlockList, isIP } from 'node:net';
import { describeRejectedUrl, redactUrl, secretsOfUrl } from '../configuration/url-secrets.js';
import { ConfigError } from '../runner/errors.js';

/**
 * The egress proxy, from the environment, as curl and Node's own NODE_USE_ENV_PROXY read
 * it: HTTPS_PROXY for https URLs, HTTP_PROXY for http ones (the lower-case names first),
 * and NO_PROXY for the hosts reached directly.
 */
export interface ProxySettings {
  https?: Proxy;
  http?: Proxy;
  noProxy: NoProxy;
}

export interface Proxy {
  url: URL;
  /** The variable it came from, for messages: HTTPS_PROXY, http_proxy… */
  variable: string;
  /** The URL as logs and messages show it: its password hidden. */
  shown: string;
  /** `Basic …` from the URL's user and password, for Proxy-Authorization; undefined without. */
  authorization?: string;
  /** The secret parts (password, Basic value) to register, so no log line shows them. */
  secrets: string[];
}

/**
 * NO_PROXY as curl reads it: a comma- or space-separated list; `*` alone: every host;
 * a name matches itself and every name under it (`example.com`, `.example.com`); an IP
 * address itself; a CIDR block its addresses; `host:port` only that port.
 */
export interface NoProxy {
  all: boolean;
  entries: Array<{ host?: string; block?: BlockList; port?: number }>;
}

const NONE: NoProxy = { all: false, entries: [] };

/** Reads the proxy variables; a malformed one is a configuration error (exit 64), named with its value's secrets hidden. */
export function getProxySettings(env: Record<string, string | undefined>): ProxySettings {
  const problems: string[] = [];
  const https = readProxy(env, ['https_proxy', 'HTTPS_PROXY'], problems);
  const http = readProxy(env, ['http_proxy', 'HTTP_PROXY'], problems);
  if (problems.length > 0) throw new ConfigError(problems);
  const noProxy = parseNoProxy(env.no_proxy ?? env.NO_PROXY ?? '');
  return { https, http, noProxy };
}

function readProxy(env: Record<string, string | undefined>, names: string[], problems: string[]): Proxy | undefined {
  const variable = names.find((name) => env[name] !== undefined && env[name]!.trim() !== '');
  if (!variable) return undefined;
  let raw = env[variable]!.trim();
  // curl takes a proxy without a scheme as http://.
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) raw = `http://${raw}`;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    problems.push(`${variable} is not a valid URL (${describeRejectedUrl(env[variable]!)})`);
    return undefined;
  }
  if (url.protocol !== 'http:') {
    problems.push(`${variable} must be an http:// proxy (${describeRejectedUrl(raw)}): sweep speaks to its proxy in plain HTTP, and TLS to the service through CONNECT`);
    return undefined;
  }
  const user = decodeURIComponent(url.username);
  const password = decodeURIComponent(url.password);
  const authorization = url.username || url.password ? `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` : undefined;
  return {
    url, variable, shown: redactUrl(raw), authorization,
    secrets: [...secretsOfUrl(raw), ...(authorization && url.password ? [authorization.slice('Basic '.length)] : [])],
  };
}

export function parseNoProxy(raw: string): NoProxy {
  const items = raw.split(/[\s,]+/).map((item) => item.trim().toLowerCase()).filter(Boolean);
  if (items.length === 0) return NONE;
  if (items.includes('*')) return { all: true, entries: [] };
  return {
    all: false,
    entries: items.map((item) => {
      let host = item;
      let port: number | undefined;
      const bracketed = host.match(/^\[([^\]]+)\](?::(\d+))?$/);
      if (bracketed) {
        host = bracketed[1]!;
        port = bracketed[2] ? Number(bracketed[2]) : undefined;
      } else if (/^[^:]+:\d+$/.test(host)) {
        const at = host.lastIndexOf(':');
        port = Number(host.slice(at + 1));
        host = host.slice(0, at);
      }
      const cidr = host.match(/^(.+)\/(\d{1,3})$/);
      if (cidr && isIP(cidr[1]!)) {
        const block = new BlockList();
        block.addSubnet(cidr[1]!, Number(cidr[2]), isIP(cidr[1]!) === 6 ? 'ipv6' : 'ipv4');
        return { block, port };
      }
      return { host: host.replace(/^\*?\./, ''), port };
    }),
  };
}

/** Whether NO_PROXY sends `hostname:port` straight to it. */
export function bypassesProxy(noProxy: NoProxy, hostname: string, port: number): boolean {
  if (noProxy.all) return true;
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
  const family = isIP(host);
  return noProxy.entries.some((entry) => {
    if (entry.port !== undefined && entry.port !== port) return false;
    if (entry.block) return family !== 0 && entry.block.check(host, family === 6 ? 'ipv6' : 'ipv4');
    return host === entry.host || (family === 0 && host.endsWith(`.${entry.host}`));
  });
}

/** The proxy a request to `url` goes through; undefined to go straight to it. */
export function proxyFor(settings: ProxySettings, url: URL): Proxy | undefined {
  const proxy = url.protocol === 'https:' ? settings.https : settings.http;
  if (!proxy) return undefined;
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  return bypassesProxy(settings.noProxy, url.hostname, port) ? undefined : proxy;
}

/** For the start line: which proxy the services' URL goes through, or why none. */
export function describeProxyUse(settings: ProxySettings, servicesUrl: string): string | undefined {
  let url: URL;
  try {
    url = new URL(servicesUrl);
  } catch {
    return undefined;
  }
  const configured = url.protocol === 'https:' ? settings.https : settings.http;
  if (!configured) return undefined;
  const proxy = proxyFor(settings, url);
  return proxy ? `through the proxy ${proxy.shown} (${proxy.variable})` : `directly: NO_PROXY names ${url.hostname} (${configured.variable} is set)`;
}
