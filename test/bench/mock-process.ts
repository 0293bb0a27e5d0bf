import { createServer } from 'node:net';
import type { MockStats } from '../../mockserver/mock-server.type.js';
import { childEnv, spawnTracked, type TrackedChild } from './child-processes.js';

/** The mockserver as its own process, steered through its control API. */
export interface MockProcess {
  url: string;
  pid: number;
  stats(): Promise<MockStats>;
  /** Forgets keys, tokens and counts; the journal stays off. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts `node --import tsx mockserver/main.ts` on a free port with MOCK_LATENCY_MS, and
 * turns its journal off: one entry per request would grow its memory with every run.
 */
export async function startMockProcess(latencyMs: number): Promise<MockProcess> {
  const port = await freePort();
  const mock = spawnTracked(process.execPath, ['--import', 'tsx', 'mockserver/main.ts'], {
    env: childEnv({ MOCK_HOST: '127.0.0.1', MOCK_PORT: String(port), MOCK_LATENCY_MS: String(latencyMs) }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const url = `http://127.0.0.1:${port}`;
  await waitUntilListening(mock, url);

  const control = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`mockserver: ${method} ${path} answered ${response.status}`);
    return response.json();
  };
  // reset() restores the settings given at start, and the journal is on by default.
  const journalOff = () => control('PUT', '/_mock/settings', { journal: false });
  await journalOff();

  return {
    url,
    pid: mock.pid,
    stats: async () => (await control('GET', '/_mock/stats')) as MockStats,
    async reset() {
      await control('POST', '/_mock/reset');
      await journalOff();
    },
    async stop() {
      mock.child.kill('SIGTERM');
      await mock.exited;
    },
  };
}

async function waitUntilListening(mock: TrackedChild, url: string): Promise<void> {
  let output = '';
  mock.child.stdout?.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  mock.child.stderr?.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  const deadline = Date.now() + 30_000;
  let exitCode: number | undefined;
  void mock.exited.then((code) => { exitCode = code; });
  while (Date.now() < deadline) {
    if (exitCode !== undefined) throw new Error(`mockserver exited with ${exitCode}: ${output.trim().split('\n').at(-1) ?? ''}`);
    try {
      if ((await fetch(`${url}/health`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('mockserver did not answer /health within 30 s');
}

/** A port free right now on 127.0.0.1 (the mock, or the console, binds it a moment later). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
