import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { childEnv, PROJECT_ROOT, spawnTracked, type TrackedChild } from './child-processes.js';
import { CONSOLE_BENCH_JOBS, type ConsoleLedger } from './load-console-ledger.js';
import { freePort } from './mock-process.js';

/** One route the console bench times: what a person's browser or a script asks for. */
export interface ConsoleRequest {
  name: string;
  method: 'GET' | 'POST';
  path: string;
  body?: unknown;
}

export interface ConsoleTiming {
  name: string;
  path: string;
  status: number;
  bytes: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
}

/** The issue's bound: every page and API call, p95. */
export const CONSOLE_P95_TARGET_MS = 300;

const cursor = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Every list, page and lookup an operator uses, with filters that exist in the loaded ledger. */
export function consoleRequests(sample: ConsoleLedger['sample']): ConsoleRequest[] {
  const [delays] = CONSOLE_BENCH_JOBS;
  const get = (name: string, path: string): ConsoleRequest => ({ name, method: 'GET', path });
  const key = encodeURIComponent(sample.key);
  return [
    get('jobs page', '/jobs'),
    get('jobs API', '/api/v1/jobs'),
    get('runs page', '/runs'),
    get('runs API, newest', '/api/v1/runs'),
    get('runs API, one job failed or partial', `/api/v1/runs?job=${delays}&status=failed,partial`),
    get('runs API, a page deep in history', `/api/v1/runs?cursor=${cursor(sample.deepRunCursor)}`),
    get('run page', `/runs/${sample.runId}`),
    get('run API', `/api/v1/runs/${sample.runId}`),
    get('dead letters page', '/deliveries?status=dead,failed'),
    get('dead letters API', '/api/v1/deliveries?status=dead,failed'),
    get('deliveries API, one job dead', `/api/v1/deliveries?job=${delays}&status=dead`),
    get('deliveries API, a workspace', `/api/v1/deliveries?workspace=${sample.workspaceId}`),
    get('deliveries API, an item', `/api/v1/deliveries?itemId=${sample.itemId}`),
    get('deliveries API, an item never notified', `/api/v1/deliveries?itemId=${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}`),
    get('deliveries API, a key', `/api/v1/deliveries?key=${key}`),
    get('deliveries API, no filter', '/api/v1/deliveries'),
    get('delivery page', `/delivery?key=${key}`),
    get('delivery API', `/api/v1/deliveries/${key}`),
    get('audit page', '/audit'),
    get('audit API', '/api/v1/audit'),
    get('OpenAPI document', '/api/openapi.json'),
    get('readiness', '/readyz'),
    { name: 're-arm preview, one job\'s dead', method: 'POST', path: '/api/v1/deliveries/rearm/preview', body: { job: delays, status: 'dead' } },
  ];
}

export interface ConsoleProcess {
  url: string;
  token: string;
  child: TrackedChild;
  log: string;
}

/** The console as the Deployment runs it: the compiled build (or tsx), its own process, the deployed node flags. */
export async function startConsoleProcess(settings: { databaseUrl: string; build: 'dist' | 'tsx'; nodeFlags: string[]; logDir: string }):
Promise<ConsoleProcess> {
  const port = await freePort();
  const token = randomBytes(24).toString('base64url');
  const entry = settings.build === 'dist' ? [join(PROJECT_ROOT, 'bin/sweep.js')] : ['--import', 'tsx', join(PROJECT_ROOT, 'src/main.ts')];
  const log = join(settings.logDir, `console-${process.pid}.log`);
  const fd = openSync(log, 'w');
  let child: TrackedChild;
  try {
    child = spawnTracked(process.execPath, [...settings.nodeFlags, ...entry, 'console', '--port', String(port)], {
      env: childEnv({ DATABASE_URL: settings.databaseUrl, SWEEP_CONSOLE_TOKENS: `bench:operator:${token}`, LOG_FORMAT: 'json', LOG_LEVEL: 'info' }),
      stdio: ['ignore', fd, fd],
    });
  } finally {
    closeSync(fd);
  }
  const url = `http://127.0.0.1:${port}`;
  const deadline = performance.now() + 30_000;
  for (;;) {
    if (child.exitedAt !== undefined) throw new Error(`the console exited at start (${await child.exited}): ${readFileSync(log, 'utf8').slice(-500)}`);
    const ready = await fetch(`${url}/readyz`).then((response) => response.ok, () => false);
    if (ready) return { url, token, child, log };
    if (performance.now() > deadline) throw new Error(`the console did not answer /readyz within 30 s: ${readFileSync(log, 'utf8').slice(-500)}`);
    await sleep(100);
  }
}

/**
 * Each request `repeat` times, one at a time (a person's browser, or a script), after
 * three unmeasured ones that warm the plan cache and the pool; p50, p95 and max of the
 * time to the whole body.
 */
export async function timeConsoleRequests(console_: ConsoleProcess, requests: ConsoleRequest[], repeat: number): Promise<ConsoleTiming[]> {
  const timings: ConsoleTiming[] = [];
  for (const request of requests) {
    const send = async () => {
      const started = performance.now();
      const response = await fetch(`${console_.url}${request.path}`, {
        method: request.method,
        headers: { authorization: `Bearer ${console_.token}`, ...(request.body ? { 'content-type': 'application/json' } : {}) },
        body: request.body ? JSON.stringify(request.body) : undefined,
      });
      const body = await response.arrayBuffer();
      return { ms: performance.now() - started, status: response.status, bytes: body.byteLength };
    };
    for (let warm = 0; warm < 3; warm += 1) await send();
    const samples: number[] = [];
    let last = { status: 0, bytes: 0 };
    for (let i = 0; i < repeat; i += 1) {
      const { ms, ...rest } = await send();
      samples.push(ms);
      last = rest;
    }
    samples.sort((a, b) => a - b);
    timings.push({ name: request.name, path: request.path, ...last,
      p50Ms: percentile(samples, 0.5), p95Ms: percentile(samples, 0.95), maxMs: samples.at(-1) ?? 0 });
  }
  return timings;
}

/** The nearest-rank percentile of sorted samples. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

export function formatConsoleTable(timings: ConsoleTiming[]): string {
  const rows = timings.map((t) => [t.name, String(t.status), `${(t.bytes / 1024).toFixed(1)} KB`, t.p50Ms.toFixed(1), t.p95Ms.toFixed(1),
    t.maxMs.toFixed(1), t.status >= 400 ? 'FAILED: an error status' : t.p95Ms <= CONSOLE_P95_TARGET_MS ? 'ok' : `over ${CONSOLE_P95_TARGET_MS} ms`]);
  const header = ['request', 'status', 'body', 'p50 ms', 'p95 ms', 'max ms', 'verdict'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) => `| ${cells.map((cell, column) => (column === 0 || column === 6 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join(' | ')} |`;
  return [line(header), `| ${widths.map((width, column) => (column === 0 || column === 6 ? '-'.repeat(width) : `${'-'.repeat(width - 1)}:`)).join(' | ')} |`,
    ...rows.map(line)].join('\n');
}

/** The console process's peak resident memory (VmHWM), in MB; undefined once it has exited or off Linux. */
export function peakRssMb(pid: number): number | undefined {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}
