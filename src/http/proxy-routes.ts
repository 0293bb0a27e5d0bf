import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { proxyFor, type Proxy, type ProxySettings } from './proxy-settings.js';

/**
 * The agents that reach the services through the egress proxy, kept per run beside the
 * direct ones: keep-alive to the proxy for http URLs (absolute-form requests), and for
 * https a tunnel per connection (CONNECT host:port), inside which TLS is verified against
 * the service's own name exactly as without a proxy. The proxy never sees the requests,
 * the tokens or the answers of an https service.
 */
export interface ProxyRoute {
  proxy: Proxy;
  agent: http.Agent;
}

export class ProxyRoutes {
  private readonly agents = new Map<Proxy, { http: http.Agent; https: https.Agent }>();

  constructor(readonly settings: ProxySettings, private readonly agentOptions: https.AgentOptions, private readonly connectTimeoutMs: number) {}

  /** How a request to `url` goes out: through a proxy, or undefined for straight to it. */
  route(url: URL): ProxyRoute | undefined {
    const proxy = proxyFor(this.settings, url);
    if (!proxy) return undefined;
    let agents = this.agents.get(proxy);
    if (!agents) {
      agents = { http: new http.Agent(this.agentOptions), https: new TunnelAgent(proxy, this.agentOptions, this.connectTimeoutMs) };
      this.agents.set(proxy, agents);
    }
    return { proxy, agent: url.protocol === 'https:' ? agents.https : agents.http };
  }

  destroy(): void {
    for (const { http: plain, https: tunnel } of this.agents.values()) {
      plain.destroy();
      tunnel.destroy();
    }
  }
}

/** A failure on the way through the proxy: named with the proxy, transient as a socket error is. */
export class ProxyError extends Error {
  readonly code = 'EPROXY';
  constructor(message: string, readonly proxy: string) {
    super(message);
  }
}

/**
 * An https.Agent whose connections are CONNECT tunnels through `proxy`. Pooled by the
 * service's host, port and TLS options as https.Agent pools (keep-alive per origin).
 */
class TunnelAgent extends https.Agent {
  constructor(private readonly proxy: Proxy, options: https.AgentOptions, private readonly connectTimeoutMs: number) {
    super(options);
  }

  override createConnection(options: tls.ConnectionOptions & { host?: string; port?: number }, callback: (error: Error | null, socket?: Duplex) => void): Duplex | undefined {
    const target = `${options.host?.includes(':') ? `[${options.host}]` : options.host}:${options.port ?? 443}`;
    const { proxy } = this;
    const shown = `${proxy.shown} (${proxy.variable})`;
    const connect = http.request({
      host: proxy.url.hostname.replace(/^\[|\]$/g, ''),
      port: proxy.url.port || 80,
      method: 'CONNECT',
      path: target,
      headers: { host: target, ...(proxy.authorization ? { 'proxy-authorization': proxy.authorization } : {}) },
      agent: false,
    });
    let done = false;
    const finish = (error: Error | null, socket?: Duplex) => {
      if (done) return;
      done = true;
      connect.setTimeout(0);
      callback(error, socket);
    };
    // The request's own deadline ends the request; this ends a CONNECT nobody waits for any more.
    connect.setTimeout(this.connectTimeoutMs, () => connect.destroy(new ProxyError(`the proxy ${shown} did not answer CONNECT ${target} in time`, proxy.shown)));
    connect.once('connect', (answer, socket, head) => {
      if (answer.statusCode !== 200) {
        socket.destroy();
        return finish(new ProxyError(`the proxy ${shown} refused CONNECT ${target}: ${answer.statusCode} ${answer.statusMessage ?? ''}`.trim(), proxy.shown));
      }
      if (head.length > 0) socket.unshift(head);
      // TLS to the service inside the tunnel, verified against its name: the options https gave (servername, ca, rejectUnauthorized).
      // Without the request's path, which tls.connect would take for a local socket to open.
      const { path: _path, ...tlsOptions } = options as tls.ConnectionOptions & { path?: string };
      const secure = tls.connect({ ...tlsOptions, socket });
      finish(null, secure);
    });
    connect.once('error', (error: NodeJS.ErrnoException) => {
      finish(error instanceof ProxyError ? error : new ProxyError(`the proxy ${shown} cannot be reached: ${error.message}`, proxy.shown));
    });
    connect.end();
    return undefined;
  }
}
