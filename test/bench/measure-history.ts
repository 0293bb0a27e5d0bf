import type { Knex } from 'knex';
import { migratorConfig } from '../../src/database/migrations.js';
import { createBenchDatabase, type BenchDatabase } from './bench-database.js';
import type { BenchOptions } from './bench-options.js';
import { placeWorkspaces } from './bench-zones.js';
import {
  countSentOn, DUE_DAYS_BACK, forgetDeliveriesOn, lastTodoBefore, loadHistory, loadNewTodos, readPosition, restorePosition,
} from './load-history.js';
import {
  describeRun, exitProblems, jobRateOf, measureSweepRun, mockCpuMeter, mockProblems, mockRssMb, sumOf, verdictOf,
  type BenchSetup, type SweepMeasurement,
} from './measure-concurrency.js';
import { readLoadAverage } from './measure-process.js';
import type { HistorySetup, Measurement } from './measurement.type.js';
import { pickMedian, withVerdict } from './medians.js';
import type { MockProcess } from './mock-process.js';

/** The migration whose cost on a live table the history mode measures: history is loaded before it. */
export const RESUMABLE_SCANS_MIGRATION = '20261202000000_resumable_scans';

/** The issue's target for a rerun with nothing new, node's start-up included, whatever the history. */
export const HISTORY_RERUN_TARGET_SECONDS = 1.5;

export interface HistoryEnvironment {
  options: BenchOptions;
  admin: Knex;
  adminUrl: string;
  /** The bench database's name: created for each history size, dropped after it. */
  name: string;
  /** Told when the database exists (so an interruption drops it) and once it is dropped. */
  created(): void;
  dropped(): void;
  mock: MockProcess;
  logDir: string;
  ticksPerSecond: number;
  runDate: string;
  say(line: string): void;
}

/**
 * How the workspaces are placed for a measurement: `zones` of the bench's zones, or 0, no
 * workspace row (UTC). `label` names it in the table; '' when the mode has one variant.
 */
export interface ZoneVariant {
  label: string;
  zones: number;
}

/**
 * What one history size is measured as: one variant as the history mode always did (runs
 * backfilling the run date, no workspace row); with --zones Z two, interleaved repeat by
 * repeat, so that a load that comes and goes weighs on both alike: Z zones and UTC only,
 * runs as of now.
 */
export function zoneVariantsOf(options: Pick<BenchOptions, 'zones'>): ZoneVariant[] {
  return options.zones > 0 ? [{ label: `${options.zones} zones`, zones: options.zones }, { label: 'UTC', zones: 0 }] : [{ label: '', zones: 0 }];
}

/** One history size as one variant measured it. */
export interface HistoryResult {
  history: number;
  /** The variant's label ('' when there is one). */
  variant: string;
  setup: HistorySetup;
  /** Every measurement: the first run, each rerun, each sweep of the new todos. */
  measurements: Measurement[];
  /** One of each kind for the table: the first run (only the first variant has one), the median rerun and the median sweep. */
  firstRun: Measurement | undefined;
  rerun: Measurement;
  /** The median rerun with nothing new after the new todos' sweep: their changes still in the window. */
  rerunAfter: Measurement;
  sweep: Measurement;
  serverVersion: string;
  autovacuum: string;
}

/**
 * One history size H: a database migrated up to the migration before resumable scans, H
 * settled todos and their sent deliveries loaded, VACUUM ANALYZE; then the migration,
 * timed (what an existing deployment's upgrade costs), ANALYZE todos; a first run with
 * nothing new (it pays the one pass over history that finds where to start, and
 * remembers the position); reruns with nothing new; --todos new delayed todos and the
 * sweep of them; reruns after it, the new todos' changes still in the window a run reads.
 * The database is dropped at the end, so the next H starts from nothing.
 */
export async function measureHistory(env: HistoryEnvironment, history: number): Promise<HistoryResult[]> {
  const database = await createBenchDatabase(env.admin, env.adminUrl, env.name, env.created, RESUMABLE_SCANS_MIGRATION);
  try {
    return await measureOn(env, database, history);
  } finally {
    await database.drop();
    env.dropped();
    env.say(`H=${history}: dropped database ${env.name}`);
  }
}

async function measureOn(env: HistoryEnvironment, database: BenchDatabase, history: number): Promise<HistoryResult[]> {
  const { options, say } = env;
  const label = `H=${history}`;
  const variants = zoneVariantsOf(options);
  const asOfNow = options.zones > 0;
  const daysBack = asOfNow ? DUE_DAYS_BACK.asOfNow : DUE_DAYS_BACK.asOfDate;
  say(`${label}: database ${env.name} migrated up to the one before ${RESUMABLE_SCANS_MIGRATION}; loading ${history} settled todos `
    + `and their sent deliveries (load average ${loadText()}) ...`);
  const loaded = await database.use((db) => loadHistory(db, { history, workspaces: options.workspaces, runDate: env.runDate, firstDaysBack: daysBack.history },
    (done, seconds) => {
      if (history > 1_000_000) say(`${label}: ${done} todos and deliveries in ${seconds.toFixed(0)} s`);
    }));
  say(`${label}: loaded ${history} todos and ${history} deliveries in ${loaded.seconds.toFixed(1)} s, `
    + `VACUUM ANALYZE in ${loaded.vacuumSeconds.toFixed(1)} s (load average ${loadText()})`);

  const loadBefore = readLoadAverage();
  const migrationStarted = performance.now();
  await database.use((db) => db.migrate.up({ ...migratorConfig, name: RESUMABLE_SCANS_MIGRATION }));
  const migrationSeconds = (performance.now() - migrationStarted) / 1000;
  say(`migration ${RESUMABLE_SCANS_MIGRATION.split('_')[0]} on ${history} todos: ${migrationSeconds.toFixed(2)} s `
    + `(load average ${loadBefore.join(' ')} before, ${loadText()} after)`);
  const laterStarted = performance.now();
  await database.use((db) => db.migrate.latest(migratorConfig));
  const laterMigrationsSeconds = (performance.now() - laterStarted) / 1000;
  say(`the migrations after it on ${history} todos: ${laterMigrationsSeconds.toFixed(2)} s (load average ${loadText()})`);
  const analyzeStarted = performance.now();
  await database.use((db) => db.raw('analyze todos'));
  const analyzeSeconds = (performance.now() - analyzeStarted) / 1000;
  const sizes = await database.use((db) => db.first<{ todos: number; deliveries: number }>(
    db.raw(`pg_total_relation_size('todos') / 1048576.0 as todos, pg_total_relation_size('deliveries') / 1048576.0 as deliveries`)));
  const setup: HistorySetup = { todos: history, loadSeconds: loaded.seconds, vacuumSeconds: loaded.vacuumSeconds, migrationSeconds,
    laterMigrationsSeconds,
    analyzeSeconds, todosMb: Number(sizes?.todos ?? 0), deliveriesMb: Number(sizes?.deliveries ?? 0) };

  const bench: BenchSetup = { options, database, mock: env.mock, runDate: env.runDate, asOfNow, logDir: env.logDir, ticksPerSecond: env.ticksPerSecond };
  /** Places the workspaces as `variant` has them: a no-op in the plain history mode, which has no workspace row. */
  let placed: ZoneVariant | undefined;
  const place = async (variant: ZoneVariant) => {
    if (!asOfNow || placed === variant) return;
    await database.use((db) => placeWorkspaces(db, { workspaces: options.workspaces, zones: variant.zones }));
    placed = variant;
  };
  const labelOf = (variant: ZoneVariant) => (variant.label === '' ? label : `${label} ${variant.label}`);
  const concurrency = options.concurrencies[0] ?? 64;
  const base = {
    concurrency, runners: options.runners, workspaces: options.workspaces, latencyMs: options.latencyMs, pageSize: options.pageSize,
    idealRatePerSecond: options.latencyMs > 0 ? (options.runners * concurrency) / (options.latencyMs / 1000) : null,
    maxRate: options.maxRate === undefined ? null : options.maxRate * options.runners, history: setup,
  };
  const mockCpu = mockCpuMeter(env.mock, env.ticksPerSecond);
  const measured = async () => {
    await env.mock.reset();
    mockCpu.lap();
    const before = readLoadAverage();
    const run = await measureSweepRun(bench, concurrency);
    return { run, mockCpuSeconds: mockCpu.lap(), loadAverage: { before, after: readLoadAverage() } };
  };
  /** A run that had nothing to send: a first run or a rerun. */
  const nothingNew = (kind: 'first-run' | 'rerun', m: { run: SweepMeasurement; mockCpuSeconds: number | null;
    loadAverage: { before: number[]; after: number[] } }, problems: string[], otherwise: string): Measurement => {
    const found = sumOf(m.run.run, 'found');
    return {
      ...base, ...describeRun(m.run, options.todos, env.ticksPerSecond), kind, todos: 0, roundTripsPer1000: null,
      ratePerSecond: null, ratioToCeiling: null, ratioToIdeal: null, jobRatePerSecond: null, mock: m.run.mock,
      mockCpuSeconds: m.mockCpuSeconds, mockRssMb: mockRssMb(env.mock), loadAverage: m.loadAverage,
      verdict: verdictOf([
        ...exitProblems(m.run.run),
        ...(m.run.mock.notificationRequests > 0 ? [`${m.run.mock.notificationRequests} notifications sent`] : []),
        ...(found > 0 ? [`found ${found} todos to notify`] : []),
        ...problems,
      ], otherwise),
    };
  };
  const positionProblems = async (expected: string[] | undefined, what: string): Promise<string[]> => {
    const position = (await database.use(readPosition))?.position;
    if (JSON.stringify(position) === JSON.stringify(expected)) return [];
    return [`the job's position is ${JSON.stringify(position)} after ${what}, not ${JSON.stringify(expected)}`];
  };

  // The first run after the upgrade: no position yet, nothing new; in the first variant.
  const lastHistoryTodo = await database.use((db) => lastTodoBefore(db, env.runDate));
  await place(variants[0]!);
  const first = await measured();
  const firstRun = { ...nothingNew('first-run', first, await positionProblems(lastHistoryTodo, 'the first run'), 'ok'), ...zonesOf(variants[0]!) };
  say(`${labelOf(variants[0]!)}: first run after the upgrade ${firstRun.wallSeconds.toFixed(2)} s, PG CPU ${firstRun.pgCpuSeconds?.toFixed(2)} s, `
    + `RSS ${firstRun.peakRssMb?.toFixed(0)} MB${firstRun.verdict === 'ok' ? '' : ` (${firstRun.verdict})`} (load average ${loadsText(first.loadAverage)})`);

  /** `--repeat` reruns with nothing new in each variant, interleaved; the job's position must stay at `expected`. */
  const rerunsAt = async (expected: string[] | undefined, what: string): Promise<Measurement[][]> => {
    const rows: Measurement[][] = variants.map(() => []);
    for (let repeat = 1; repeat <= options.repeat; repeat += 1) {
      for (const [index, variant] of variants.entries()) {
        await place(variant);
        const m = await measured();
        const slow = m.run.run.wallSeconds > HISTORY_RERUN_TARGET_SECONDS ? `SLOW: over the ${HISTORY_RERUN_TARGET_SECONDS} s target` : 'ok';
        const row = { ...nothingNew('rerun', m, await positionProblems(expected, what), slow), rerunOf: what, ...zonesOf(variant) };
        rows[index]!.push(options.repeat > 1 ? { ...row, repeat } : row);
        say(`${labelOf(variant)}: ${what} ${row.wallSeconds.toFixed(2)} s, PG CPU ${row.pgCpuSeconds?.toFixed(2)} s${countedIn(m.run)}`
          + `${row.verdict === 'ok' ? '' : ` (${row.verdict})`} (load average ${loadsText(m.loadAverage)})`);
      }
    }
    return rows;
  };
  const reruns = await rerunsAt(lastHistoryTodo, 'rerun with nothing new');

  const n = options.todos;
  const fresh = await database.use((db) => loadNewTodos(db, { todos: n, future: options.futureTodos,
    workspaces: Math.min(options.workspaces, n), runDate: env.runDate, daysBack: daysBack.newTodos }));
  say(`${label}: loaded ${n} new delayed todos due ${fresh.dueDate}`
    + `${options.futureTodos > 0 ? ` and ${options.futureTodos} due 1 to 30 days after ${env.runDate}` : ''} in ${fresh.seconds.toFixed(2)} s`);
  const positionBefore = await database.use(readPosition);
  const lastNewTodo = await database.use((db) => lastTodoBefore(db, env.runDate));
  const sweeps: Measurement[][] = variants.map(() => []);
  for (let round = 0; round < options.repeat * variants.length; round += 1) {
    const repeat = Math.floor(round / variants.length) + 1;
    const variant = variants[round % variants.length]!;
    if (round > 0) {
      // The same new work again: its deliveries forgotten, the position back where the reruns left it.
      await database.use(async (db) => {
        await forgetDeliveriesOn(db, fresh.dueDate);
        await restorePosition(db, positionBefore);
        // The last sweep's claims (pending, then sent) and the deletes left dead rows: gone, as autovacuum would.
        await db.raw('vacuum deliveries');
      });
    }
    await place(variant);
    const m = await measured();
    const sent = await database.use((db) => countSentOn(db, fresh.dueDate));
    const rate = n / m.run.run.wallSeconds;
    const jobRate = jobRateOf(m.run.run, n);
    const row: Measurement = {
      ...base, ...describeRun(m.run, n, env.ticksPerSecond), kind: 'sweep', todos: n, ratePerSecond: rate, ratioToCeiling: null,
      ratioToIdeal: base.idealRatePerSecond === null ? null : rate / base.idealRatePerSecond, jobRatePerSecond: jobRate,
      mock: m.run.mock, mockCpuSeconds: m.mockCpuSeconds, mockRssMb: mockRssMb(env.mock), loadAverage: m.loadAverage,
      verdict: verdictOf([
        ...exitProblems(m.run.run),
        ...mockProblems(m.run.mock, n),
        ...(sumOf(m.run.run, 'sent') === n ? [] : [`runners report ${sumOf(m.run.run, 'sent')} sent`]),
        ...(sent === n ? [] : [`the ledger has ${sent} of the ${n} new todos sent`]),
        ...(base.maxRate !== null && jobRate !== null && jobRate > base.maxRate * 1.01 ? [`${jobRate.toFixed(1)}/s is over --max-rate ${base.maxRate}/s`] : []),
        ...(await positionProblems(lastNewTodo, 'the sweep of the new todos')),
      ]),
      ...zonesOf(variant),
    };
    sweeps[variants.indexOf(variant)]!.push(options.repeat > 1 ? { ...row, repeat } : row);
    say(`${labelOf(variant)}: ${n} new todos in ${row.wallSeconds.toFixed(2)} s${countedIn(m.run)}, ${rate.toFixed(0)}/s, RSS ${row.peakRssMb?.toFixed(0)} MB, `
      + `PG CPU ${row.pgCpuPercentOfSweep?.toFixed(0)} %${row.verdict === 'ok' ? '' : ` (${row.verdict})`} (load average ${loadsText(m.loadAverage)})`);
  }

  // Nothing new again after the new todos: the steady state of a live service, where every
  // run reads the changes the run before could not see (here: none left).
  const rerunsAfter = await rerunsAt(lastNewTodo, 'rerun after the new todos');

  const median = (rows: Measurement[]) => withVerdict(pickMedian(rows, (m) => -m.wallSeconds) as Measurement, rows);
  return variants.map((variant, index) => {
    const own = { reruns: reruns[index]!, sweeps: sweeps[index]!, rerunsAfter: rerunsAfter[index]!, firstRun: index === 0 ? firstRun : undefined };
    return {
      history, variant: variant.label, setup,
      measurements: [...(own.firstRun ? [own.firstRun] : []), ...own.reruns, ...own.sweeps, ...own.rerunsAfter],
      firstRun: own.firstRun, rerun: median(own.reruns), rerunAfter: median(own.rerunsAfter),
      sweep: withVerdict(pickMedian(own.sweeps, (m) => m.ratePerSecond ?? 0) as Measurement, own.sweeps),
      serverVersion: database.serverVersion, autovacuum: database.autovacuum,
    };
  });
}

/** The zones a measurement ran with, on its line of results.jsonl: none in the plain history mode. */
const zonesOf = (variant: ZoneVariant): Pick<Measurement, 'zones'> => (variant.label === '' ? {} : { zones: variant.zones });

const loadText = () => readLoadAverage().join(' ');
const loadsText = (load: { before: number[]; after: number[] }) => `${load.before.join(' ')} before, ${load.after.join(' ')} after`;

/** The brake's count before the first send, as the runners' summaries report it (countMs): ", counted first in 0.12 s". */
function countedIn(measurement: SweepMeasurement): string {
  const counts = measurement.run.processes.map((p) => Number(p.summary?.countMs)).filter((ms) => Number.isFinite(ms));
  return counts.length === 0 ? '' : `, counted first in ${counts.map((ms) => (ms / 1000).toFixed(2)).join(', ')} s`;
}
