/**
 * `npm start`: runs the mock of the token and notify services until SIGINT or SIGTERM.
 * Configured by environment variables (see settings-from-env.ts); steered at run time
 * through the control API it prints. A dev tool: it prints plain text, not log lines.
 */
import { startMockServer, type MockServer, type MockSettings } from './mock-server.js';
import { getMockServerConfig, MockEnvError } from './settings-from-env.js';

/** EX_USAGE of sysexits.h: the configuration is wrong, starting again will not help. */
const exitBadConfiguration = 64;

async function main(): Promise<number> {
  let config;
  try {
    config = getMockServerConfig(process.env);
  } catch (error) {
    if (!(error instanceof MockEnvError)) throw error;
    console.error(`mockserver: ${error.message}`);
    return exitBadConfiguration;
  }

  const server = await startMockServer({ host: config.host, port: config.port, ...config.settings });
  console.log(describeStartup(server, config.database));
  const signal = await nextStopSignal();
  await server.close();
  console.log(`mockserver: stopped (${signal})`);
  return 0;
}

function describeStartup(server: MockServer, database: string): string {
  const s = server.settings();
  return [
    `mockserver listening on ${server.url}`,
    '',
    'services (docs/services-contract.md):',
    `  POST ${server.url}/auth/token              client ${s.clientId}`,
    `  POST ${server.url}/notify/notifications`,
    '',
    'control:',
    `  GET  ${server.url}/_mock/journal[?endpoint=token|notify]`,
    `  GET  ${server.url}/_mock/stats`,
    `  GET  ${server.url}/_mock/settings`,
    `  PUT  ${server.url}/_mock/settings          JSON body: the settings to change`,
    `  POST ${server.url}/_mock/reset`,
    `  POST ${server.url}/_mock/revoke-tokens`,
    `  GET  ${server.url}/health`,
    '',
    `faults: ${describeFaults(s)}`,
    `jobs database: ${database}`,
    '',
    'Ctrl-C stops.',
  ].join('\n');
}

function describeFaults(s: MockSettings): string {
  const percent = (rate: number): string => `${Math.round(rate * 1000) / 10}%`;
  return [
    `latency ${s.latencyMs} ms`,
    `5xx ${percent(s.error5xxRate)}`,
    `429 ${percent(s.rateLimitRate)} (Retry-After ${s.retryAfterSeconds} s)`,
    `drop ${percent(s.dropRate)}`,
    `slow ${percent(s.slowRate)} (${s.slowMs} ms)`,
    `token ttl ${s.tokenTtlSeconds === null ? 'unstated (60 s)' : `${s.tokenTtlSeconds} s`}`,
    `seed ${s.seed}`,
  ].join(', ');
}

/** Resolves on the first SIGINT or SIGTERM; a second one gets Node's default: exit at once. */
function nextStopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const hint = (error as { code?: unknown }).code === 'EADDRINUSE' ? ' (set MOCK_PORT to a free port)' : '';
    console.error(`mockserver: cannot run: ${error instanceof Error ? error.message : String(error)}${hint}`);
    process.exitCode = 1;
  },
);
