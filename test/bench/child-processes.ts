import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The project's root: children run there, as `npm run` would run them. */
export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface TrackedChild {
  child: ChildProcess;
  pid: number;
  /** Resolves with the exit code, or 128 + the signal's number. */
  exited: Promise<number>;
  /** performance.now() at exit; undefined while it runs. */
  readonly exitedAt: number | undefined;
}

const SIGNAL_NUMBERS: Record<string, number> = { SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };
const live = new Set<TrackedChild>();

/** Spawns a child the bench stops on its way out (failure, Ctrl-C), by its own pid only. */
export function spawnTracked(command: string, args: string[], options: SpawnOptions): TrackedChild {
  const child = spawn(command, args, { cwd: PROJECT_ROOT, ...options });
  if (child.pid === undefined) throw new Error(`could not start ${command} ${args.join(' ')}`);
  let exitedAt: number | undefined;
  const tracked: TrackedChild = {
    child,
    pid: child.pid,
    exited: new Promise<number>((resolve) => {
      child.once('exit', (code, signal) => {
        exitedAt = performance.now();
        live.delete(tracked);
        resolve(code ?? 128 + (SIGNAL_NUMBERS[signal ?? ''] ?? 0));
      });
      child.once('error', () => {
        exitedAt ??= performance.now();
        live.delete(tracked);
        resolve(127);
      });
    }),
    get exitedAt() {
      return exitedAt;
    },
  };
  live.add(tracked);
  return tracked;
}

/** Asks every child still running to stop (SIGTERM), then kills what is left after `graceMs`. */
export async function stopChildren(graceMs = 3000): Promise<void> {
  const running = [...live];
  for (const tracked of running) tracked.child.kill('SIGTERM');
  const timeout = new Promise<'timeout'>((resolve) => setTimeout(resolve, graceMs, 'timeout').unref());
  const all = Promise.all(running.map((tracked) => tracked.exited));
  if ((await Promise.race([all, timeout])) === 'timeout') {
    for (const tracked of live) tracked.child.kill('SIGKILL');
    await all;
  }
}

/** The environment children get: only what they need, so the user's SWEEP_* or HTTP_* cannot skew a run. */
export function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const inherited: Record<string, string> = {};
  for (const name of ['PATH', 'HOME', 'TMPDIR', 'LANG']) {
    const value = process.env[name];
    if (value !== undefined) inherited[name] = value;
  }
  return { ...inherited, ...extra };
}
