import { describe, expect, it } from 'vitest';
import { bypassesProxy, describeProxyUse, getProxySettings, parseNoProxy, proxyFor } from '../../src/http/proxy-settings.js';
import { ConfigError } from '../../src/runner/errors.js';

const url = (text: string) => new URL(text);

describe('the proxy variables', () => {
  it('takes HTTPS_PROXY for https URLs and HTTP_PROXY for http ones, the lower-case names first', () => {
    const settings = getProxySettings({ HTTPS_PROXY: 'http://upper:3128', https_proxy: 'http://lower:3128', HTTP_PROXY: 'http://plain:8080' });
    expect(proxyFor(settings, url('https://notify.example/x'))?.url.host).toBe('lower:3128');
    expect(proxyFor(settings, url('https://notify.example/x'))?.variable).toBe('https_proxy');
    expect(proxyFor(settings, url('http://notify.example/x'))?.url.host).toBe('plain:8080');
  });

  it('reads a proxy without a scheme as http://, as curl does, and none from empty values', () => {
    expect(getProxySettings({ HTTPS_PROXY: 'egress.corp:3128' }).https?.url.href).toBe('http://egress.corp:3128/');
    expect(getProxySettings({ HTTPS_PROXY: '  ', HTTP_PROXY: '' })).toMatchObject({ https: undefined, http: undefined });
  });

  it('keeps the proxy\'s credentials for Proxy-Authorization and as secrets, and shows the URL without its password', () => {
    const proxy = getProxySettings({ HTTPS_PROXY: 'http://egress:p%40ss@proxy:3128' }).https!;
    expect(proxy.authorization).toBe(`Basic ${Buffer.from('egress:p@ss').toString('base64')}`);
    expect(proxy.shown).toBe('http://egress:***@proxy:3128');
    expect(proxy.secrets).toEqual(expect.arrayContaining(['p%40ss', 'p@ss', Buffer.from('egress:p@ss').toString('base64')]));
  });

  it('refuses, as a configuration error naming every bad variable, a malformed or non-http proxy, never showing a password', () => {
    let error: unknown;
    try {
      getProxySettings({ HTTPS_PROXY: 'https://u:hunter2@proxy:443', HTTP_PROXY: 'http://[broken' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).exitCode).toBe(64);
    expect((error as ConfigError).problems).toEqual([
      'HTTPS_PROXY must be an http:// proxy (got \'https://u:***@proxy:443\'): sweep speaks to its proxy in plain HTTP, and TLS to the service through CONNECT',
      'HTTP_PROXY is not a valid URL (got \'http://[broken\')',
    ]);
    expect((error as Error).message).not.toContain('hunter2');
  });
});

describe('NO_PROXY, as curl reads it', () => {
  const bypass = (noProxy: string, host: string, port = 443) => bypassesProxy(parseNoProxy(noProxy), host, port);

  it('matches a name and every name under it, with or without a leading dot, whatever the case', () => {
    expect(bypass('example.com', 'example.com')).toBe(true);
    expect(bypass('example.com', 'notify.Example.com')).toBe(true);
    expect(bypass('.example.com', 'notify.example.com')).toBe(true);
    expect(bypass('.example.com', 'example.com')).toBe(true);
    expect(bypass('example.com', 'badexample.com')).toBe(false);
    expect(bypass('example.com', 'example.com.evil')).toBe(false);
  });

  it('matches only the port named with one', () => {
    expect(bypass('notify.internal:8443', 'notify.internal', 8443)).toBe(true);
    expect(bypass('notify.internal:8443', 'notify.internal', 443)).toBe(false);
    expect(bypass('[::1]:8080', '[::1]', 8080)).toBe(true);
  });

  it('matches every host with *, and none with an empty list', () => {
    expect(bypass('*', 'anything.example')).toBe(true);
    expect(bypass('', 'anything.example')).toBe(false);
  });

  it('matches IP addresses exactly and CIDR blocks by address, IPv4 and IPv6, never a name', () => {
    expect(bypass('10.1.2.3', '10.1.2.3')).toBe(true);
    expect(bypass('10.1.2.3', '10.1.2.4')).toBe(false);
    expect(bypass('10.0.0.0/8, 192.168.0.0/16', '10.200.3.4')).toBe(true);
    expect(bypass('10.0.0.0/8', '11.0.0.1')).toBe(false);
    expect(bypass('fd00::/8', '[fd12::1]')).toBe(true);
    expect(bypass('10.0.0.0/8', '10.example')).toBe(false);
  });

  it('leaves a URL NO_PROXY names to go straight, and says so on the start line', () => {
    const settings = getProxySettings({ HTTPS_PROXY: 'http://u:pw@proxy:3128', NO_PROXY: '.svc.cluster.local' });
    expect(proxyFor(settings, url('https://notify.default.svc.cluster.local/x'))).toBeUndefined();
    expect(describeProxyUse(settings, 'https://notify.default.svc.cluster.local'))
      .toBe('directly: NO_PROXY names notify.default.svc.cluster.local (HTTPS_PROXY is set)');
    expect(describeProxyUse(settings, 'https://notify.example.com')).toBe('through the proxy http://u:***@proxy:3128 (HTTPS_PROXY)');
    expect(describeProxyUse(settings, 'http://notify.example.com')).toBeUndefined();
  });
});
