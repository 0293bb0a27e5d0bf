import { parseArgs } from 'node:util';
import { MAX_BENCH_ZONES } from './bench-zones.js';

/** What one `npm run bench` measures; every field has a default. */
export interface BenchOptions {
  /** Delayed todos loaded into the bench database (--todos, default 20,000). */
  todos: number;
  /** Workspaces they are spread over, round-robin (--workspaces, default 200). */
  workspaces: number;
  /** The mock notify service's latency per notification, in ms (--latency, default 20). */
  latencyMs: number;
  /** Requests in flight per runner, one measurement each, ascending (--concurrency, default "64"). */
  concurrencies: number[];
  /** Measurements of each concurrency; the table shows the median one (--repeat, default 1). */
  repeat: number;
  /** Sweep processes started together on the same todos (--runners, default 1). */
  runners: number;
  /** The sweep's --page-size (--page-size, default 500). */
  pageSize: number;
  /** The sweep's --max-rate, per runner (--max-rate); undefined: no limit. */
  maxRate: number | undefined;
  /** Node flags for the runners only (--node-flags), e.g. heap flags or --cpu-prof. */
  nodeFlags: string[];
  /**
   * What the runners run (--build): 'dist', compiled first, as the container image runs
   * it; or 'tsx', the TypeScript sources as `npm run command` runs them.
   */
  build: 'dist' | 'tsx';
  /**
   * The history mode (--history LIST): for each history size H, ascending, a database with
   * H settled todos (and their sent deliveries) loaded before the resumable-scans migration,
   * the migration timed, a first run, reruns with nothing new, then --todos new ones.
   * Undefined: the concurrency mode.
   */
  history: number[] | undefined;
  /**
   * --history: todos due 1 to 30 days after the run date, written with the new ones
   * (--future-todos, default 0): a live service's other writes, in the window of changes a
   * run reads but not delayed.
   */
  futureTodos: number;
  /**
   * --history: the zones mode (--zones Z, 1 to 40; 0: off). Each history size is measured
   * twice, interleaved: its workspaces spread over Z time zones, and with no workspace row
   * (every workspace in UTC, as before zones); the runs go as of the database's clock, as
   * the CronJob runs them, not as a backfill of a --date.
   */
  zones: number;
  /**
   * The console mode (--console): a ledger of `deliveries` deliveries and `runs` runs, the
   * console started on it as deployed, and every page and API call timed `requests` times.
   */
  console: { deliveries: number; runs: number; requests: number; prune: boolean } | undefined;
  /**
   * A third sweep per concurrency, traced at 100% to an OTLP sink in the bench process
   * (--tracing): its rate and CPU per notification against the untraced sweep's.
   */
  tracing: boolean;
  /** The traced sweep's sampler (--trace-sampler): OTEL_TRACES_SAMPLER and, after a colon, its argument. */
  traceSampler: { name: string; arg?: string };
  /** Where results.jsonl and chart.svg go (--out, default bench-results/). */
  outDir: string;
  help: boolean;
}

/**
 * The node flags the sweep is deployed with (the image's NODE_OPTIONS, the crontab's
 * command line; a test keeps the three equal): the runners get them unless
 * --node-flags says otherwise, so the bench measures the sweep as it runs.
 */
export const DEPLOYED_NODE_FLAGS: readonly string[] = ['--max-old-space-size=256'];

/** A bad command line: one line names the problem, exit 64. */
export class BenchUsageError extends Error {
  override name = 'BenchUsageError';
}

/** The largest history the bench loads: 20,000,000 todos and as many deliveries take about 15 GB. */
export const MAX_HISTORY = 20_000_000;

export const USAGE = `usage: npm run bench -- [options]     (needs DATABASE_URL: a PostgreSQL server)

  --todos N           delayed todos to load (default 20000; 1 to 1000000)
  --workspaces W      workspaces they belong to, round-robin (default 200, at most N)
  --latency L         the mock notify service's latency per request, ms (default 20)
  --concurrency LIST  requests in flight per runner, e.g. 1,4,16,64 (default 64; 1 to 1024)
  --runners K         sweep processes run at once on the same todos (default 1; 1 to 16)
  --repeat R          measure each concurrency R times; the table shows the median (default 1)
  --page-size P       the sweep's --page-size (default 500; 1 to 10000)
  --max-rate R        the sweep's --max-rate, per runner; the table shows the achieved rate
  --build dist|tsx    run the compiled build, compiled first (default, as the image runs it),
                      or the sources through tsx (as \`npm run command\` runs them)
  --node-flags=S      node's own flags for the runners, instead of the deployed ones (${DEPLOYED_NODE_FLAGS.join(' ')}),
                      e.g. --node-flags="--cpu-prof --cpu-prof-dir=prof --max-old-space-size=256"; "" for none
  --history LIST      the history mode: for each H (e.g. 0,1000000,10000000; 0 to ${MAX_HISTORY}) load H
                      settled todos and their sent deliveries, time the resumable-scans migration on
                      them, a first run, a rerun with nothing new, then a sweep of --todos new ones;
                      one --concurrency; --repeat applies to the rerun and the new todos' sweep
  --future-todos N    with --history: also write N todos due 1 to 30 days after the run date with the
                      new ones, a live service's other writes (default 0; at most 1000000)
  --zones Z           with --history: measure each H twice, interleaved: the workspaces spread over Z time
                      zones (1 to ${MAX_BENCH_ZONES}: UTC-11 to UTC+14, half and quarter hours, DST both sides) and in UTC only;
                      runs as of now, as scheduled; the zoned rate against the UTC one (target 0.95)
  --console           the console mode: load --deliveries deliveries and --runs runs, start
                      \`sweep console\` on them and time every page and API call (p50, p95, max)
  --deliveries N      with --console: deliveries in the ledger (default 10000000; 5000 to ${MAX_HISTORY})
  --runs N            with --console: runs in job_runs (default 100000; 3 to 1000000)
  --requests N        with --console: timed requests per route, one at a time (default 40; 1 to 1000)
  --prune             with --console: instead of the console's routes, time \`sweep prune --older-than 1h\`
                      over that ledger, its --dry-run first (every delivery's item is gone: all go)
  --tracing           also a sweep traced at 100% (OTLP/HTTP to a sink in the bench), with its rate and
                      CPU per notification against the untraced sweep's (each repeat alternates which goes first)
  --trace-sampler S   with --tracing: the traced sweep's OTEL_TRACES_SAMPLER, its argument after a colon
                      (default always_on; e.g. parentbased_traceidratio:0.1, always_off)
  --out DIR           results.jsonl, and chart.svg for several concurrencies (default bench-results/)

A dedicated database sweep_bench_<pid> is created on DATABASE_URL's server and dropped
at the end; nothing else on the server is read or written.`;

export function parseBenchOptions(argv: string[]): BenchOptions {
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: true,
      options: {
        todos: { type: 'string' },
        workspaces: { type: 'string' },
        latency: { type: 'string' },
        concurrency: { type: 'string' },
        runners: { type: 'string' },
        repeat: { type: 'string' },
        'page-size': { type: 'string' },
        'max-rate': { type: 'string' },
        build: { type: 'string' },
        'node-flags': { type: 'string' },
        history: { type: 'string' },
        'future-todos': { type: 'string' },
        zones: { type: 'string' },
        console: { type: 'boolean' },
        deliveries: { type: 'string' },
        runs: { type: 'string' },
        requests: { type: 'string' },
        prune: { type: 'boolean' },
        tracing: { type: 'boolean' },
        'trace-sampler': { type: 'string' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    // parseArgs' messages are long and name how to pass positionals; keep the first sentence.
    const message = (error as Error).message;
    const ambiguous = /^Option '(--[\w-]+)' argument is ambiguous/.exec(message);
    if (ambiguous) throw new BenchUsageError(`${ambiguous[1]}'s value starts with a dash: write ${ambiguous[1]}="..."`);
    throw new BenchUsageError(message.split('. ')[0] ?? message);
  }
  if (positionals.length > 0) throw new BenchUsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);

  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const raw = values[name];
    if (raw === undefined) return fallback;
    return parseInteger(`--${name}`, String(raw), min, max);
  };
  const todos = integer('todos', 20_000, 1, 1_000_000);
  // The default never asks for more workspaces than todos; an explicit --workspaces must not either.
  const workspaces = integer('workspaces', Math.min(200, todos), 1, 100_000);
  if (workspaces > todos) throw new BenchUsageError(`--workspaces ${workspaces} is more than --todos ${todos}`);
  const rawList = values.concurrency === undefined ? '64' : String(values.concurrency);
  const concurrencies = [...new Set(rawList.split(',').map((part) => parseInteger('--concurrency', part.trim(), 1, 1024)))]
    .sort((a, b) => a - b);
  const out = values.out === undefined ? 'bench-results' : String(values.out);
  if (out.trim() === '') throw new BenchUsageError('--out must name a directory');
  const build = values.build === undefined ? 'dist' : String(values.build);
  if (build !== 'dist' && build !== 'tsx') throw new BenchUsageError(`--build must be dist or tsx (got ${JSON.stringify(build)})`);
  const nodeFlags = values['node-flags'] === undefined ? [...DEPLOYED_NODE_FLAGS] : String(values['node-flags']).split(/\s+/).filter(Boolean);
  const notAFlag = nodeFlags.find((flag) => !flag.startsWith('-'));
  if (notAFlag !== undefined) throw new BenchUsageError(`--node-flags takes node's own flags, each starting with a dash (got ${JSON.stringify(notAFlag)})`);
  let history: number[] | undefined;
  if (values.history !== undefined) {
    history = [...new Set(String(values.history).split(',').map((part) => parseInteger('--history', part.trim(), 0, MAX_HISTORY)))]
      .sort((a, b) => a - b);
    if (concurrencies.length > 1) throw new BenchUsageError(`--history measures one --concurrency (got ${concurrencies.join(',')})`);
  }
  const futureTodos = integer('future-todos', 0, 0, 1_000_000);
  if (futureTodos > 0 && history === undefined) throw new BenchUsageError('--future-todos goes with --history');
  const zones = integer('zones', 0, 1, MAX_BENCH_ZONES);
  if (values.zones !== undefined && history === undefined) throw new BenchUsageError('--zones goes with --history');
  let consoleMode: BenchOptions['console'];
  if (values.console === true) {
    if (history !== undefined) throw new BenchUsageError('--console and --history are two modes: choose one');
    consoleMode = { deliveries: integer('deliveries', 10_000_000, 5000, MAX_HISTORY), runs: integer('runs', 100_000, 3, 1_000_000),
      requests: integer('requests', 40, 1, 1000), prune: values.prune === true };
  } else {
    const stray = ['deliveries', 'runs', 'requests', 'prune'].find((name) => values[name] !== undefined);
    if (stray) throw new BenchUsageError(`--${stray} goes with --console`);
  }
  const traceSampler = parseSampler(values['trace-sampler'] === undefined ? 'always_on' : String(values['trace-sampler']));
  if (values['trace-sampler'] !== undefined && values.tracing !== true) throw new BenchUsageError('--trace-sampler goes with --tracing');
  return {
    todos,
    workspaces,
    latencyMs: integer('latency', 20, 0, 10_000),
    concurrencies,
    runners: integer('runners', 1, 1, 16),
    repeat: integer('repeat', 1, 1, 25),
    pageSize: integer('page-size', 500, 1, 10_000),
    maxRate: values['max-rate'] === undefined ? undefined : integer('max-rate', 0, 1, 100_000),
    nodeFlags,
    build,
    history,
    futureTodos,
    zones,
    console: consoleMode,
    tracing: values.tracing === true,
    traceSampler,
    outDir: out,
    help: values.help === true,
  };
}

const SAMPLERS = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'];

function parseSampler(raw: string): BenchOptions['traceSampler'] {
  const [name = '', arg, ...rest] = raw.split(':');
  if (!SAMPLERS.includes(name) || rest.length > 0) {
    throw new BenchUsageError(`--trace-sampler must be one of ${SAMPLERS.join(', ')}, a ratio after a colon (got ${JSON.stringify(raw)})`);
  }
  if (arg === undefined) return { name };
  const ratio = /^(0(\.\d+)?|1(\.0+)?)$/.test(arg) ? Number(arg) : Number.NaN;
  if (!name.endsWith('traceidratio') || Number.isNaN(ratio)) {
    throw new BenchUsageError(`--trace-sampler takes a ratio from 0 to 1 after a traceidratio sampler (got ${JSON.stringify(raw)})`);
  }
  return { name, arg };
}

function parseInteger(name: string, raw: string, min: number, max: number): number {
  const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new BenchUsageError(`${name} must be an integer from ${min} to ${max} (got ${JSON.stringify(raw)})`);
  }
  return value;
}
