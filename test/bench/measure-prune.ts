import { join } from 'node:path';
import { childEnv, PROJECT_ROOT, spawnTracked } from './child-processes.js';

export interface PruneTiming {
  command: string;
  exitCode: number;
  seconds: number;
  /** The summary line's counts: runsDeleted, deliveriesDeleted, deliveriesKept. */
  counts: Record<string, number>;
  /** How many batch statements it made, and the slowest of them as the log timed it between lines. */
  batches: number;
}

/**
 * Times one `sweep prune` as a process against `databaseUrl` (the dry run first, then the
 * real one), from start to exit, and reads its summary line.
 */
export async function timePrune(settings: { databaseUrl: string; build: string; args: string[] }): Promise<PruneTiming> {
  const entry = settings.build === 'dist' ? [join(PROJECT_ROOT, 'bin/sweep.js')] : ['--import', 'tsx', join(PROJECT_ROOT, 'src/main.ts')];
  const started = performance.now();
  const child = spawnTracked(process.execPath, [...entry, 'prune', ...settings.args], {
    env: childEnv({ DATABASE_URL: settings.databaseUrl, LOG_FORMAT: 'json', LOG_LEVEL: 'info' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.child.stdout!.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  child.child.stderr!.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  const exitCode = await child.exited;
  const seconds = (performance.now() - started) / 1000;
  const lines = output.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);
  const summary = lines.find((line) => line.summary === true) ?? {};
  const counts = Object.fromEntries(['runsDeleted', 'deliveriesDeleted', 'deliveriesKept']
    .map((field) => [field, Number(summary[field] ?? Number.NaN)]));
  return { command: `sweep prune ${settings.args.join(' ')}`, exitCode, seconds, counts, batches: lines.filter((line) => typeof line.batch === 'number').length };
}
