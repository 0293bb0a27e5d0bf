import { closeSync, createReadStream, openSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { childEnv, PROJECT_ROOT, spawnTracked } from './child-processes.js';
import { startSampler } from './measure-process.js';

export interface SweepSettings {
  runners: number;
  concurrency: number;
  pageSize: number;
  maxRate: number | undefined;
  /** Node's own flags, before the entry point. */
  nodeFlags: string[];
  build: 'dist' | 'tsx';
  /** More environment for the runners (the OTEL_* variables of a traced sweep). */
  env?: Record<string, string>;
  /** The runs' --date; undefined: none, each run as of the database's clock, as the CronJob runs it. */
  runDate: string | undefined;
  databaseUrl: string;
  /** The bench database's name: its backends' CPU is sampled. */
  databaseName: string;
  servicesUrl: string;
  /** Where the runners' logs are written while they run; each is removed once read. */
  logDir: string;
}

export interface SweepProcessResult {
  pid: number;
  exitCode: number;
  seconds: number;
  peakRssKb: number;
  /** utime+stime at the last poll: a floor of its CPU. */
  polledCpuTicks: number;
  /** Lines it wrote to stdout and stderr (LOG_FORMAT=json, LOG_LEVEL=info). */
  logLines: number;
  /** Its summary log line, if it got that far. */
  summary: Record<string, unknown> | undefined;
  /** Its last error line, when it did not exit 0. */
  lastError: string | undefined;
}

export interface SweepRunResult {
  /** From the first spawn to the last exit. */
  wallSeconds: number;
  processes: SweepProcessResult[];
  /** CPU of the bench database's backends, polled. */
  backendCpuTicks: number;
}

/**
 * Runs `runners` sweeps at once as a scheduler would: `node bin/sweep.js
 * send-delay-notifications ...` with only DATABASE_URL, SERVICES_URL and the log settings
 * in its environment, its output to a file (as `>> /var/log/sweep.log` would).
 */
export async function runSweeps(settings: SweepSettings): Promise<SweepRunResult> {
  // dist: the image's entry point (bin/sweep.js runs dist/ when it is there). tsx: what
  // `npm run command` runs, without tsx's CLI wrapper process.
  const entry = settings.build === 'dist' ? [join(PROJECT_ROOT, 'bin/sweep.js')] : ['--import', 'tsx', join(PROJECT_ROOT, 'src/main.ts')];
  const args = [
    ...settings.nodeFlags, ...entry, 'send-delay-notifications',
    '--concurrency', String(settings.concurrency), '--page-size', String(settings.pageSize),
    ...(settings.runDate === undefined ? [] : ['--date', settings.runDate]),
    ...(settings.maxRate === undefined ? [] : ['--max-rate', String(settings.maxRate)]),
  ];
  const env = childEnv({
    DATABASE_URL: settings.databaseUrl, SERVICES_URL: settings.servicesUrl, LOG_FORMAT: 'json', LOG_LEVEL: 'info',
    // Each measurement is a first run over a freshly loaded database, with no history: above
    // --hold-min it would hold (issue 30's brake). It still counts first, so that is measured.
    SWEEP_HOLD_MIN: '1000000000',
    ...settings.env,
  });
  const logs = Array.from({ length: settings.runners }, (_, index) => join(settings.logDir, `sweep-${process.pid}-${index}.log`));
  const started = performance.now();
  const children = logs.map((log) => {
    const fd = openSync(log, 'w');
    try {
      return spawnTracked(process.execPath, args, { env, stdio: ['ignore', fd, fd] });
    } finally {
      closeSync(fd);
    }
  });
  const sampler = startSampler(children.map((child) => child.pid), settings.databaseName);
  const exitCodes = await Promise.all(children.map((child) => child.exited));
  const sampled = sampler.stop();
  const processes: SweepProcessResult[] = [];
  for (const [index, child] of children.entries()) {
    const log = logs[index] as string;
    const read = await readLog(log);
    rmSync(log, { force: true });
    const peak = sampled.processes.find((p) => p.pid === child.pid);
    processes.push({
      pid: child.pid,
      exitCode: exitCodes[index] ?? -1,
      seconds: ((child.exitedAt ?? performance.now()) - started) / 1000,
      peakRssKb: peak?.peakRssKb ?? 0,
      polledCpuTicks: peak?.cpuTicks ?? 0,
      ...read,
    });
  }
  const lastExit = Math.max(...children.map((child) => child.exitedAt ?? performance.now()));
  return { wallSeconds: (lastExit - started) / 1000, processes, backendCpuTicks: sampled.backendCpuTicks };
}

/** Counts the lines and keeps the summary and the last error, without holding the whole log. */
async function readLog(path: string): Promise<Pick<SweepProcessResult, 'logLines' | 'summary' | 'lastError'>> {
  let logLines = 0;
  let summary: Record<string, unknown> | undefined;
  let lastError: string | undefined;
  for await (const line of createInterface({ input: createReadStream(path), crlfDelay: Infinity })) {
    logLines += 1;
    if (line.includes('"summary":true')) summary = parseObject(line);
    else if (line.includes('"level":"error"') || line.includes('"level":"fatal"') || !line.startsWith('{')) {
      lastError = (parseObject(line)?.msg as string | undefined) ?? line.slice(0, 300);
    }
  }
  return { logLines, summary, lastError };
}

function parseObject(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
