import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/*
 * What /proc tells about processes: CPU in clock ticks (utime+stime, and cutime+cstime
 * for children the process has reaped) and memory (VmHWM: the peak resident set; VmRSS).
 * Linux only; a process gone between listing and reading is skipped.
 */

/** Clock ticks per second of /proc's CPU figures (`getconf CLK_TCK`, usually 100). */
export function clockTicksPerSecond(): number {
  try {
    const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(ticks) && ticks > 0 ? ticks : 100;
  } catch {
    return 100;
  }
}

export interface CpuTicks {
  /** utime + stime: the process's own CPU. */
  own: number;
  /** cutime + cstime: its children's, once reaped. */
  children: number;
}

export function readCpuTicks(pid: number | 'self'): CpuTicks | undefined {
  const stat = readText(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  // The command name, in parentheses, may contain spaces: count fields after its ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const at = (field: number) => Number(fields[field - 3] ?? 0);
  return { own: at(14) + at(15), children: at(16) + at(17) };
}

/** Peak and current resident set, in kB. */
export function readMemoryKb(pid: number): { peak: number; current: number } | undefined {
  const status = readText(`/proc/${pid}/status`);
  if (status === undefined) return undefined;
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  const current = field('VmRSS');
  return { peak: Math.max(field('VmHWM'), current), current };
}

/**
 * CPU of every process named `postgres` on this machine, the reaped backends included
 * (they land in the postmaster's cutime): the delta over a measurement is what the
 * server spent, whoever it served.
 */
export function postgresCpuTicks(): number {
  let total = 0;
  for (const pid of postgresPids()) {
    const ticks = readCpuTicks(pid);
    if (ticks) total += ticks.own + ticks.children;
  }
  return total;
}

function postgresPids(): number[] {
  return readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map(Number)
    .filter((pid) => readText(`/proc/${pid}/comm`)?.trim() === 'postgres');
}

export interface ProcessPeak {
  pid: number;
  peakRssKb: number;
  /** utime+stime at the last poll before it exited. */
  cpuTicks: number;
}

export interface SampleResult {
  processes: ProcessPeak[];
  /** CPU of the PostgreSQL backends serving `database`, each at its last poll. */
  backendCpuTicks: number;
}

/**
 * Polls `pids` every `intervalMs` for their peak RSS and CPU, and the backends whose
 * process title names `database` (postgres: <cluster>: <user> <database> <client> ...).
 * A backend's last moments and a process's last `intervalMs` are not seen: polling is a floor.
 */
export function startSampler(pids: number[], database: string, intervalMs = 50): { stop(): SampleResult } {
  const peaks = new Map<number, ProcessPeak>(pids.map((pid) => [pid, { pid, peakRssKb: 0, cpuTicks: 0 }]));
  const backends = new Map<number, number>();
  const title = new RegExp(`^postgres: .*? ${database} `);
  let tick = 0;
  const poll = () => {
    for (const peak of peaks.values()) {
      const memory = readMemoryKb(peak.pid);
      const cpu = readCpuTicks(peak.pid);
      if (memory) peak.peakRssKb = Math.max(peak.peakRssKb, memory.peak);
      if (cpu) peak.cpuTicks = cpu.own;
    }
    // New backends appear as runners connect; listing /proc costs more than reading a few files.
    if (tick++ % 4 === 0) {
      for (const pid of postgresPids()) {
        if (!backends.has(pid) && title.test(readText(`/proc/${pid}/cmdline`)?.replaceAll('\0', ' ') ?? '')) backends.set(pid, 0);
      }
    }
    for (const pid of backends.keys()) {
      const cpu = readCpuTicks(pid);
      if (cpu) backends.set(pid, cpu.own);
    }
  };
  poll();
  const timer = setInterval(poll, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      poll();
      return { processes: [...peaks.values()], backendCpuTicks: [...backends.values()].reduce((a, b) => a + b, 0) };
    },
  };
}

/** The 1, 5 and 15 minute load averages (/proc/loadavg): how busy the machine was, whoever made it so. */
export function readLoadAverage(): number[] {
  return (readText('/proc/loadavg') ?? '').split(' ').slice(0, 3).map(Number);
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
