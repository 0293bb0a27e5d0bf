/**
 * `npm run bench -- [options]`: how fast send-delay-notifications goes against a real
 * PostgreSQL and the mockserver, next to the same HTTP work without a database (the
 * ceiling) and the latency-bound ideal. See test/bench/README.md.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Knex } from 'knex';
import { hidePassword } from '../../mockserver/settings-from-env.js';
import { describeDatabaseError } from '../../src/database/database.js';
import { connectAdmin, createBenchDatabase } from './bench-database.js';
import { BenchUsageError, parseBenchOptions, USAGE, type BenchOptions } from './bench-options.js';
import { renderChart } from './chart.js';
import { PROJECT_ROOT, spawnTracked, stopChildren } from './child-processes.js';
import { loadConsoleLedger } from './load-console-ledger.js';
import { timePrune } from './measure-prune.js';
import { loadTodos } from './load-todos.js';
import { consoleRequests, CONSOLE_P95_TARGET_MS, formatConsoleTable, peakRssMb, startConsoleProcess, timeConsoleRequests } from './measure-console.js';
import { measureConcurrency } from './measure-concurrency.js';
import { HISTORY_RERUN_TARGET_SECONDS, measureHistory, RESUMABLE_SCANS_MIGRATION, type HistoryEnvironment, type HistoryResult } from './measure-history.js';
import { medianRows } from './medians.js';
import type { BenchContext, Measurement } from './measurement.type.js';
import { clockTicksPerSecond } from './measure-process.js';
import { startMockProcess } from './mock-process.js';
import { describeColumns, describeHistoryColumns, formatHistoryTable, formatTable, historyBaselines, writeResults } from './report.js';

const EXIT_USAGE = 64;
const EXIT_INTERRUPTED = 130;

/** What must be undone however the bench ends: children, the bench database, temp files. */
const owned: { admin?: Knex; databaseName?: string; logDir?: string } = {};
let cleaning: Promise<void> | undefined;
let interrupted = false;

const say = (line: string) => process.stderr.write(`bench: ${line}\n`);

async function main(argv: string[]): Promise<number> {
  let options: BenchOptions;
  try {
    options = parseBenchOptions(argv);
  } catch (error) {
    if (!(error instanceof BenchUsageError)) throw error;
    say(`${error.message} (npm run bench -- --help)`);
    return EXIT_USAGE;
  }
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const adminUrl = process.env.DATABASE_URL?.trim();
  if (!adminUrl) {
    say('DATABASE_URL is not set: the benchmark needs a PostgreSQL server (the embedded PGlite gives no real figures)');
    return EXIT_USAGE;
  }
  if (!isPostgresUrl(adminUrl)) {
    say(`DATABASE_URL must be a postgres://user@host:port/database URL (got ${JSON.stringify(hidePassword(adminUrl))})`);
    return EXIT_USAGE;
  }
  const outDir = resolve(options.outDir);
  try {
    mkdirSync(outDir, { recursive: true });
  } catch (error) {
    say(`cannot create --out ${options.outDir}: ${(error as Error).message}`);
    return EXIT_USAGE;
  }

  try {
    return await runBench(options, adminUrl, outDir);
  } catch (error) {
    if (interrupted) return EXIT_INTERRUPTED;
    say(`failed: ${describeDatabaseError(error)}`);
    return 1;
  } finally {
    await cleanUp();
  }
}

async function runBench(options: BenchOptions, adminUrl: string, outDir: string): Promise<number> {
  const startedAt = new Date().toISOString();
  if (options.build === 'dist') {
    // Always compile, into an empty dist/: one left from an older checkout would measure
    // older code, and a file renamed since (a migration) would linger in it.
    const started = performance.now();
    rmSync(join(PROJECT_ROOT, 'dist'), { recursive: true, force: true });
    const compiled = spawnTracked(process.execPath, [join(PROJECT_ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
    if ((await compiled.exited) !== 0) {
      say('npm run build failed: the compiled sweep cannot be measured (--build tsx measures the sources)');
      return 1;
    }
    say(`compiled dist/ in ${((performance.now() - started) / 1000).toFixed(1)} s (tsc -p tsconfig.build.json): the runners run it, as the image does`);
  }
  owned.admin = connectAdmin(adminUrl);
  const name = `sweep_bench_${process.pid}`;
  if (options.console) return runConsoleBench(options, options.console, adminUrl, outDir, owned.admin, name, startedAt);
  if (options.history) return runHistoryBench(options, options.history, adminUrl, outDir, owned.admin, name, startedAt);
  const database = await createBenchDatabase(owned.admin, adminUrl, name, () => {
    owned.databaseName = name;
  });
  say(`PostgreSQL ${database.serverVersion.split(' ')[0]} at ${hidePassword(adminUrl)}: created and migrated database ${name} (dropped at the end)`);

  const loaded = await database.use((db) => loadTodos(db, options));
  say(`loaded ${options.todos} delayed todos over ${options.workspaces} workspaces in ${loaded.seconds.toFixed(2)} s `
    + `(one insert ... select from generate_series); run date ${loaded.runDate}`);

  const mock = await startMockProcess(options.latencyMs);
  say(`mockserver (pid ${mock.pid}) at ${mock.url}, latency ${options.latencyMs} ms, journal off`);
  owned.logDir = mkdtempSync(join(tmpdir(), 'sweep-bench-'));

  const sweepBuild = options.build;
  const context: BenchContext = { startedAt, postgres: database.serverVersion, autovacuum: database.autovacuum, sweepBuild,
    nodeFlags: options.nodeFlags, loadSeconds: loaded.seconds, cpus: availableParallelism() };
  const setup = { options, database, mock, runDate: loaded.runDate, logDir: owned.logDir, ticksPerSecond: clockTicksPerSecond() };
  const measurements: Measurement[] = [];
  const medians: Measurement[] = [];
  for (const concurrency of options.concurrencies) {
    const repeats: Measurement[][] = [];
    for (let repeat = 1; repeat <= options.repeat; repeat += 1) {
      const of = options.repeat > 1 ? ` (repeat ${repeat} of ${options.repeat})` : '';
      say(`concurrency ${concurrency} x ${options.runners} runner(s): ceiling, sweep, rerun${of} ...`);
      const rows = (await measureConcurrency(setup, concurrency, repeat)).map((m) => (options.repeat > 1 ? { ...m, repeat } : m));
      repeats.push(rows);
      measurements.push(...rows);
      say(`concurrency ${concurrency}: ${rows.map((m) => `${m.kind} ${m.wallSeconds.toFixed(2)} s${m.verdict === 'ok' ? '' : ` (${m.verdict})`}`).join(', ')}`);
    }
    medians.push(...medianRows(repeats));
  }

  process.stdout.write([
    '',
    `send-delay-notifications: N=${options.todos} todos, W=${options.workspaces} workspaces, L=${options.latencyMs} ms, `
      + `K=${options.runners} runner(s), page ${options.pageSize}; load ${loaded.seconds.toFixed(2)} s; `
      + `PostgreSQL ${database.serverVersion.split(' ')[0]} (autovacuum ${database.autovacuum}); sweep via ${sweepBuild}`
      + `${options.nodeFlags.length > 0 ? ` with node ${options.nodeFlags.join(' ')}` : ''}`
      + `${options.maxRate ? `, --max-rate ${options.maxRate} per runner` : ''}; ${context.cpus} CPUs`,
    '',
    ...(options.repeat > 1 ? [`median of ${options.repeat} repeats per kind (every repeat is in results.jsonl):`] : []),
    formatTable(medians),
    '',
    describeColumns({ latencyMs: options.latencyMs }),
    '',
  ].join('\n'));
  const results = join(outDir, 'results.jsonl');
  writeResults(results, context, measurements);
  say(`wrote ${results}`);
  if (options.concurrencies.length > 1) {
    const chart = join(outDir, 'chart.svg');
    writeFileSync(chart, renderChart(medians));
    say(`wrote ${chart}`);
  }
  return measurements.some((m) => m.verdict.startsWith('FAILED')) ? 1 : 0;
}

/**
 * --history: for each history size, a database of its own (created, loaded, dropped in
 * turn), the migration, a first run, reruns and the new todos' sweep; the issue's table.
 */
async function runHistoryBench(options: BenchOptions, histories: number[], adminUrl: string, outDir: string, admin: Knex,
  name: string, startedAt: string): Promise<number> {
  const mock = await startMockProcess(options.latencyMs);
  say(`mockserver (pid ${mock.pid}) at ${mock.url}, latency ${options.latencyMs} ms, journal off`);
  owned.logDir = mkdtempSync(join(tmpdir(), 'sweep-bench-'));
  // The run date of a daily run today: history lies 2 to 366 days before it, the new todos the day before
  // (with --zones, runs as of now: a day further back each, so due in every zone).
  const runDate = new Date().toISOString().slice(0, 10);
  const env: HistoryEnvironment = {
    options, admin, adminUrl, name, mock, logDir: owned.logDir, ticksPerSecond: clockTicksPerSecond(), runDate, say,
    created: () => { owned.databaseName = name; },
    dropped: () => { owned.databaseName = undefined; },
  };
  say(`history mode: H = ${histories.join(', ')}; run date ${runDate}; ${options.todos} new todos, C=${options.concurrencies[0]}, `
    + `K=${options.runners}, R=${options.repeat}${options.zones > 0 ? `; W=${options.workspaces} workspaces over ${options.zones} zones, then in UTC only, in turn; runs as of now` : ''}`);
  const results: HistoryResult[] = [];
  for (const history of histories) results.push(...await measureHistory(env, history));

  const first = results[0];
  const context: BenchContext = { startedAt, postgres: first?.serverVersion ?? '', autovacuum: first?.autovacuum ?? '', sweepBuild: options.build,
    nodeFlags: options.nodeFlags, loadSeconds: results.reduce((total, r) => total + r.setup.loadSeconds, 0), cpus: availableParallelism() };
  const rows = results.map((r) => ({ history: r.history, variant: r.variant, setup: r.setup, firstRun: r.firstRun, rerun: r.rerun,
    rerunAfter: r.rerunAfter, sweep: r.sweep }));
  process.stdout.write([
    '',
    `send-delay-notifications against its history: ${options.todos} new todos`
      + `${options.futureTodos > 0 ? ` (and ${options.futureTodos} due 1 to 30 days ahead, written with them)` : ''}, W=${options.workspaces} workspaces, L=${options.latencyMs} ms, `
      + `C=${options.concurrencies[0]}, K=${options.runners} runner(s), page ${options.pageSize}; PostgreSQL ${context.postgres.split(' ')[0]} `
      + `(autovacuum ${context.autovacuum}, statistics fresh: VACUUM ANALYZE after the load, ANALYZE after the migration and the new todos); `
      + `sweep via ${options.build}${options.nodeFlags.length > 0 ? ` with node ${options.nodeFlags.join(' ')}` : ''}`
      + `${options.maxRate ? `, --max-rate ${options.maxRate} per runner` : ''}; ${context.cpus} CPUs`,
    '',
    ...(options.repeat > 1 ? [`rerun and new: median of ${options.repeat} repeats (every repeat is in results.jsonl):`] : []),
    formatHistoryTable(rows, historyBaselines(rows), options.todos),
    '',
    ...results.filter((r, index) => index === 0 || results[index - 1]?.history !== r.history).map((r) => `migration ${RESUMABLE_SCANS_MIGRATION.split('_')[0]} on ${r.history} todos: ${r.setup.migrationSeconds.toFixed(2)} s, the ones after it ${r.setup.laterMigrationsSeconds.toFixed(2)} s`
      + ` (todos ${r.setup.todosMb.toFixed(0)} MB, deliveries ${r.setup.deliveriesMb.toFixed(0)} MB; load ${r.setup.loadSeconds.toFixed(1)} s`
      + ` + VACUUM ANALYZE ${r.setup.vacuumSeconds.toFixed(1)} s)`),
    '',
    describeHistoryColumns({ newTodos: options.todos, rerunTarget: HISTORY_RERUN_TARGET_SECONDS, zones: options.zones }),
    '',
  ].join('\n'));
  const file = join(outDir, 'results.jsonl');
  writeResults(file, context, results.flatMap((r) => r.measurements));
  say(`wrote ${file}`);
  const failed = results.some((r) => r.measurements.some((m) => m.verdict.startsWith('FAILED')));
  return failed ? 1 : 0;
}

/**
 * --console: a ledger of the given size, the console started on it as the Deployment runs
 * it, every page and API call timed one at a time; the issue's p95 bound per route.
 */
async function runConsoleBench(options: BenchOptions, sizes: NonNullable<BenchOptions['console']>, adminUrl: string, outDir: string,
  admin: Knex, name: string, startedAt: string): Promise<number> {
  const database = await createBenchDatabase(admin, adminUrl, name, () => {
    owned.databaseName = name;
  });
  say(`PostgreSQL ${database.serverVersion.split(' ')[0]}: created and migrated database ${name} (dropped at the end); `
    + `loading ${sizes.deliveries} deliveries and ${sizes.runs} runs ...`);
  const ledger = await database.use((db) => loadConsoleLedger(db, { ...sizes, workspaces: options.workspaces }, (done, seconds) => {
    if (done % 5_000_000 === 0 || done === sizes.deliveries) say(`  ${done} deliveries in ${seconds.toFixed(0)} s`);
  }));
  say(`loaded in ${ledger.loadSeconds.toFixed(1)} s + VACUUM ANALYZE ${ledger.vacuumSeconds.toFixed(1)} s; deliveries ${ledger.deliveriesMb.toFixed(0)} MB`);
  if (sizes.prune) return runPruneBench(options, sizes, database.url, outDir, startedAt, database.serverVersion, ledger.loadSeconds);
  owned.logDir = mkdtempSync(join(tmpdir(), 'sweep-bench-'));
  const server = await startConsoleProcess({ databaseUrl: database.url, build: options.build, nodeFlags: options.nodeFlags, logDir: owned.logDir });
  say(`console (pid ${server.child.pid}) at ${server.url}; ${sizes.requests} timed requests per route, one at a time ...`);
  const timings = await timeConsoleRequests(server, consoleRequests(ledger.sample), sizes.requests);
  const rssMb = peakRssMb(server.child.pid);
  process.stdout.write([
    '',
    `sweep console over ${sizes.deliveries} deliveries (${ledger.deliveriesMb.toFixed(0)} MB with indexes) and ${sizes.runs} runs; `
      + `PostgreSQL ${database.serverVersion.split(' ')[0]} (autovacuum ${database.autovacuum}); console via ${options.build}`
      + `${options.nodeFlags.length > 0 ? ` with node ${options.nodeFlags.join(' ')}` : ''}; ${availableParallelism()} CPUs; `
      + `${sizes.requests} requests per route after 3 warm-ups, one at a time; peak RSS ${rssMb === undefined ? '?' : rssMb.toFixed(0)} MB`,
    '',
    formatConsoleTable(timings),
    '',
    `time to the whole body, measured by the bench's client over loopback; the bound is p95 <= ${CONSOLE_P95_TARGET_MS} ms per route`,
    '',
  ].join('\n'));
  const context: BenchContext = { startedAt, postgres: database.serverVersion, autovacuum: database.autovacuum, sweepBuild: options.build,
    nodeFlags: options.nodeFlags, loadSeconds: ledger.loadSeconds, cpus: availableParallelism() };
  const file = join(outDir, 'results.jsonl');
  writeFileSync(file, `${JSON.stringify({ context, console: { ...sizes, deliveriesMb: ledger.deliveriesMb, peakRssMb: rssMb, timings } })}\n`, { flag: 'a' });
  say(`wrote ${file}`);
  return timings.some((timing) => timing.status >= 400 || timing.p95Ms > CONSOLE_P95_TARGET_MS) ? 1 : 0;
}

/** --console --prune: prune's dry run, then prune, over the loaded ledger; each must finish within its statements' bounds. */
async function runPruneBench(options: BenchOptions, sizes: NonNullable<BenchOptions['console']>, databaseUrl: string, outDir: string,
  startedAt: string, serverVersion: string, loadSeconds: number): Promise<number> {
  const timings = [];
  for (const args of [['--older-than', '1h', '--dry-run'], ['--older-than', '1h']]) {
    say(`timing sweep prune ${args.join(' ')} over ${sizes.deliveries} deliveries ...`);
    const timing = await timePrune({ databaseUrl, build: options.build, args });
    timings.push(timing);
    process.stdout.write(`${timing.command}: exit ${timing.exitCode} in ${timing.seconds.toFixed(1)} s, ${timing.batches} batches; `
      + `${JSON.stringify(timing.counts)}\n`);
  }
  const context: BenchContext = { startedAt, postgres: serverVersion, autovacuum: 'as the server has it', sweepBuild: options.build,
    nodeFlags: options.nodeFlags, loadSeconds, cpus: availableParallelism() };
  const file = join(outDir, 'results.jsonl');
  writeFileSync(file, `${JSON.stringify({ context, prune: { ...sizes, timings } })}\n`, { flag: 'a' });
  say(`wrote ${file}`);
  return timings.every((timing) => timing.exitCode === 0) ? 0 : 1;
}

/** Once, whoever asks first: the normal end, a failure or a signal. */
function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    await stopChildren();
    const { admin, databaseName, logDir } = owned;
    if (admin && databaseName) {
      await admin.raw(`drop database if exists ${databaseName} with (force)`).catch((error: unknown) => {
        say(`could not drop database ${databaseName} (${(error as Error).message}): drop it by hand`);
      });
    }
    await admin?.destroy().catch(() => undefined);
    if (logDir) rmSync(logDir, { recursive: true, force: true });
  })();
  return cleaning;
}

function isPostgresUrl(raw: string): boolean {
  try {
    const url = new URL(raw);
    return (url.protocol === 'postgres:' || url.protocol === 'postgresql:') && url.hostname !== '';
  } catch {
    return false;
  }
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) {
      say(`second ${signal}: exiting now${owned.databaseName ? `; database ${owned.databaseName} may be left behind` : ''}`);
      process.exit(EXIT_INTERRUPTED);
    }
    interrupted = true;
    say(`${signal}: stopping the runners and the mockserver, dropping the bench database`);
    void cleanUp().finally(() => process.exit(EXIT_INTERRUPTED));
  });
}

process.exitCode = await main(process.argv.slice(2));
