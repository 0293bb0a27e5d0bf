import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sendJson } from './http-io.js';
import { parseSettingsPatch } from './mock-settings.js';
import type { MockServer, MockServerOptions } from './mock-server.type.js';
import { MockState } from './mock-state.js';
import { routeRequest } from './routes.js';

export type {
  JournalEntry,
  JournalOutcome,
  MockEndpoint,
  MockRule,
  MockServer,
  MockServerOptions,
  MockSettings,
  MockStats,
  NotificationKind,
} from './mock-server.type.js';
export { defaultMockSettings, MockSettingsError } from './mock-settings.js';

/**
 * Starts the mock of the token and notify services (docs/services-contract.md) on
 * `host` (default 127.0.0.1) and `port` (default 0: a free one, read it from `url`).
 * Rejects with MockSettingsError on bad settings, and when the port cannot be bound.
 */
export async function startMockServer(options: MockServerOptions = {}): Promise<MockServer> {
  const { port = 0, host = '127.0.0.1', ...settings } = options;
  const state = new MockState(parseSettingsPatch(settings));
  const server = createServer((req, res) => {
    routeRequest(state, req, res).catch((error: unknown) => {
      // A bug in the mock must show, but must not take the server down with it.
      console.error('mockserver: unexpected error', error);
      if (res.headersSent) res.destroy();
      else sendJson(res, 500, { error: 'mock_failure' });
    });
  });
  await listen(server, port, host);
  const boundPort = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;

  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${boundPort}`,
    port: boundPort,
    journal: () => state.journal(),
    stats: () => state.stats(),
    settings: () => structuredClone(state.settings),
    configure: (patch) => state.configure(parseSettingsPatch(patch)),
    reset: () => state.reset(),
    revokeTokens: () => {
      state.revokeTokens();
    },
    close: () =>
      (closing ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error === undefined ? resolve() : reject(error)));
        // server.close() alone waits for idle keep-alive sockets and slow answers.
        server.closeAllConnections();
      })),
  };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
