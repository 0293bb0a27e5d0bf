import type { Knex } from 'knex';
import { HISTORY_CHUNK } from './load-history.js';

/** The three notification jobs, in the order a delivery's number picks them (g % 3). */
export const CONSOLE_BENCH_JOBS = ['send-delay-notifications', 'send-due-soon-reminders', 'send-workspace-digests'] as const;

/**
 * Per 1,000 deliveries: one dead, one failed, one waiting to retry, one superseded, the
 * rest sent. A ledger that has run for a year with a flaky week or two: 10,000,000
 * deliveries hold 10,000 of each, 3,333 per job, so a job's dead letters fit one re-arm.
 */
const STATUS_OF = `case g % 1000 when 0 then 'dead' when 1 then 'failed' when 2 then 'retry' when 3 then 'superseded' else 'sent' end`;

/** A run is every 15 minutes per job: 100,000 runs span about 347 days. */
const RUN_EVERY_MINUTES = 15;

export interface ConsoleLedger {
  /** Seconds the inserts took, and the VACUUM ANALYZE after them. */
  loadSeconds: number;
  vacuumSeconds: number;
  deliveriesMb: number;
  /** Values the requests name: a workspace, an item and a key that exist, a run with failures, a run cursor deep in the history. */
  sample: { workspaceId: string; itemId: string; key: string; runId: string; deepRunCursor: { startedAt: string; id: string } };
}

const runId = (expression: string) => `md5('sweep-bench-run-' || (${expression}))::uuid`;
const workspaceId = (expression: string, workspaces: number) => `md5('sweep-bench-workspace-' || ((${expression}) % ${workspaces}))::uuid`;

/**
 * A ledger as the console meets it after a year: `runs` runs in job_runs (every 15 minutes
 * per job, 1% partial, 0.5% failed, the newest of each job finished a few minutes ago) and
 * `deliveries` deliveries spread over the three jobs and their runs, with error texts on the
 * ones that failed, and 1,000 audit rows. Loaded server-side, HISTORY_CHUNK deliveries a
 * statement in key order, into the tables as the migrations left them (every index in
 * place), then VACUUM ANALYZE, as autovacuum would have done by then.
 */
export async function loadConsoleLedger(db: Knex, counts: { deliveries: number; runs: number; workspaces: number },
  progress: (done: number, seconds: number) => void): Promise<ConsoleLedger> {
  const started = performance.now();
  const jobs = `(array['${CONSOLE_BENCH_JOBS.join("','")}'])`;
  const perJob = Math.floor(counts.runs / 3);
  await db.raw(
    `insert into job_runs (id, job, parameters, status, started_at, finished_at, heartbeat_at, counts, error, host, pid)
     select ${runId('r')}, ${jobs}[r % 3 + 1], '{}'::jsonb,
            case when r % 200 = 7 then 'failed' when r % 100 = 5 then 'partial' else 'succeeded' end,
            at, at + interval '40 seconds', at + interval '40 seconds',
            jsonb_build_object('sent', 90 + r % 20, 'failedTransiently', case when r % 100 = 5 then 3 else 0 end,
              'dead', case when r % 100 = 5 then 1 else 0 end, 'skipped', r % 4),
            case when r % 200 = 7 then 'the notify service answered 503 <b>Service Unavailable</b> for 12 calls in a row' end,
            'bench-host', 1000 + r % 1000
       from generate_series(0, ?::int - 1) as r,
            lateral (select now() - interval '3 minutes' - (r / 3) * interval '${RUN_EVERY_MINUTES} minutes' as at) as t`,
    [perJob * 3]);
  for (let from = 0; from < counts.deliveries; from += HISTORY_CHUNK) {
    const to = Math.min(counts.deliveries, from + HISTORY_CHUNK);
    // A delivery g belongs to job g % 3 and to a run of that job (its run's number is g % 3 modulo 3).
    await db.raw(
      `insert into deliveries (key, job, workspace_id, item_id, item_date, message, status, attempts, run_id,
                               next_attempt_at, last_status, last_error, sent_at, created_at, updated_at, forced)
       select ${jobs}[g % 3 + 1] || ':' || item || ':' || day::text, ${jobs}[g % 3 + 1], ws, item, day,
              'Todo ' || item || ' is delayed', status, case when status = 'sent' then 1 else 5 end,
              ${runId(`3 * ((g / 3) % ${Math.max(1, perJob)}) + g % 3`)},
              case when status = 'retry' then now() + interval '10 minutes' end,
              case when status = 'sent' then 202 when status = 'dead' then 500 when status = 'failed' then 400 when status = 'retry' then 503 end,
              case when status in ('dead', 'failed', 'retry') then 'the notify service answered ' || case status when 'failed' then '400: workspace '
                || ws || ' has no channel <script>alert(1)</script>' else '503 after 5 attempts' end end,
              case when status = 'sent' then at end, at, at, false
         from (select g, md5('sweep-bench-item-' || g)::uuid::text as item, ${workspaceId('g', counts.workspaces)} as ws,
                      date '2026-01-01' + (g % 330)::int as day, ${STATUS_OF} as status,
                      timestamptz '2026-01-01 09:00Z' + (g % 330) * interval '1 day' as at
                 from generate_series(?::bigint, ?::bigint - 1) as g) as s
        order by 1`,
      [from, to]);
    progress(to, (performance.now() - started) / 1000);
  }
  await db.raw(
    `insert into console_audit (at, actor, source, action, job, reason, details, deliveries_touched)
     select now() - a * interval '7 hours', case when a % 2 = 0 then 'alice' else 'bob@ops-host' end,
            case when a % 2 = 0 then 'console' else 'cli' end, (array['pause','resume','rearm'])[a % 3 + 1],
            ${jobs}[a % 3 + 1], 'incident ' || a || ': the notify service was down', '{}'::jsonb, case when a % 3 = 2 then 40 else 0 end
       from generate_series(1, 1000) as a`);
  const loadSeconds = (performance.now() - started) / 1000;
  const vacuumStarted = performance.now();
  for (const table of ['deliveries', 'job_runs', 'console_audit']) await db.raw(`vacuum analyze ${table}`);
  const vacuumSeconds = (performance.now() - vacuumStarted) / 1000;

  const size = await db.first<{ mb: number }>(db.raw(`pg_total_relation_size('deliveries') / 1048576.0 as mb`));
  // The 4,321st delivery: failed (g % 1000 = 1), of job 4321 % 3 = 1, in run 3 * (1440 % perJob) + 1.
  const g = 4321;
  const sampleRow = await db('deliveries')
    .where('key', db.raw(`${jobs}[?::int % 3 + 1] || ':' || md5('sweep-bench-item-' || ?::int)::uuid::text || ':' || (date '2026-01-01' + (?::int % 330))::text`, [g, g, g]))
    .first<{ key: string; item_id: string; workspace_id: string; run_id: string }>('key', 'item_id', 'workspace_id', 'run_id');
  if (!sampleRow) throw new Error('the console bench ledger has no delivery 4321: load fewer than 4,322 deliveries?');
  const deep = await db('job_runs').orderBy([{ column: 'started_at', order: 'desc' }, { column: 'id', order: 'desc' }])
    .offset(Math.floor((perJob * 3) / 2)).first<{ id: string; started_at_exact: string }>('id',
      db.raw(`to_char(started_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as started_at_exact`));
  return {
    loadSeconds, vacuumSeconds, deliveriesMb: Number(size?.mb ?? 0),
    sample: {
      workspaceId: sampleRow.workspace_id, itemId: sampleRow.item_id, key: sampleRow.key, runId: sampleRow.run_id,
      deepRunCursor: { startedAt: deep!.started_at_exact, id: deep!.id },
    },
  };
}
