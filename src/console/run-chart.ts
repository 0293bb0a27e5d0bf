import type { Knex } from 'knex';
import { html, type SafeHtml } from './html.js';

/** One finished run of the last day, as the jobs page draws it. */
export interface ChartRun {
  job: string;
  startedAt: Date;
  durationMs: number | null;
  sent: number;
  failed: number;
}

/** Runs drawn per job at most: the newest. */
const MAX_RUNS = 96;

/** The runs of the last day, per job (the newest 96 each), oldest first: read off job_runs' (job, started_at) index. */
export async function getRecentRuns(db: Knex, jobs: string[]): Promise<Map<string, ChartRun[]>> {
  const result = await db.raw<{ rows: Array<{ job: string; started_at: Date; finished_at: Date | null; counts: Record<string, number> | string | null }> }>(
    `select job, started_at, finished_at, counts from (
       select job, started_at, finished_at, counts, row_number() over (partition by job order by started_at desc) as n
         from job_runs where job = any(?::text[]) and started_at > now() - interval '1 day') as recent
      where n <= ? order by started_at`, [jobs as unknown as Knex.RawBinding, MAX_RUNS]);
  const byJob = new Map(jobs.map((job): [string, ChartRun[]] => [job, []]));
  for (const row of result.rows) {
    const counts = (typeof row.counts === 'string' ? JSON.parse(row.counts) : row.counts ?? {}) as Record<string, number>;
    byJob.get(row.job)?.push({
      job: row.job, startedAt: new Date(row.started_at),
      durationMs: row.finished_at ? new Date(row.finished_at).getTime() - new Date(row.started_at).getTime() : null,
      sent: counts.sent ?? 0, failed: (counts.failedPermanently ?? 0) + (counts.failedTransiently ?? 0) + (counts.dead ?? 0),
    });
  }
  return byJob;
}

const WIDTH = 240;
const HEIGHT = 48;

/** One day of a job's last week: its runs summed, the longest of them. */
export interface ChartDay {
  job: string;
  day: string;
  runs: number;
  sent: number;
  failed: number;
  longestMs: number | null;
}

const DAYS = 7;

/** Per job, the last seven days (today's so far included) summed per UTC day: one range of job_runs' (job, started_at) index each. */
export async function getRunsByDay(db: Knex, jobs: string[]): Promise<Map<string, ChartDay[]>> {
  const result = await db.raw<{ rows: Array<{ job: string; day: string; runs: number; sent: number; failed: number; longest_ms: number | null }> }>(
    `select r.job, to_char(date_trunc('day', r.started_at at time zone 'UTC'), 'YYYY-MM-DD') as day, count(*)::int as runs,
            coalesce(sum((r.counts->>'sent')::int), 0)::int as sent,
            coalesce(sum(coalesce((r.counts->>'failedPermanently')::int, 0) + coalesce((r.counts->>'failedTransiently')::int, 0)
              + coalesce((r.counts->>'dead')::int, 0)), 0)::int as failed,
            max(extract(epoch from r.finished_at - r.started_at) * 1000)::float8 as longest_ms
       from unnest(?::text[]) as j(job)
       join job_runs r on r.job = j.job and r.started_at >= date_trunc('day', now() at time zone 'UTC') at time zone 'UTC' - interval '${DAYS - 1} days'
      group by 1, 2 order by 2`, [jobs as unknown as Knex.RawBinding]);
  const byJob = new Map(jobs.map((job): [string, ChartDay[]] => [job, []]));
  for (const row of result.rows) {
    byJob.get(row.job)?.push({ job: row.job, day: row.day, runs: row.runs, sent: row.sent, failed: row.failed,
      longestMs: row.longest_ms === null ? null : Number(row.longest_ms) });
  }
  return byJob;
}

interface Bar { sent: number; failed: number; durationMs: number | null }

/**
 * A small inline SVG, drawn on the server (no script): per run, a bar of what it sent
 * (green) with what failed stacked on it (red), and a line of how long runs took (grey).
 * Presentation attributes only: the page's CSP allows no inline style.
 */
export function renderRunChart(runs: ChartRun[]): SafeHtml {
  if (runs.length === 0) return html`<span>no run in the last day</span>`;
  const total = runs.reduce((sum, run) => ({ sent: sum.sent + run.sent, failed: sum.failed + run.failed }), { sent: 0, failed: 0 });
  const longest = Math.max(1, ...runs.map((run) => run.durationMs ?? 0));
  // A day of 15-minute runs fills the width; a few runs stay thin bars at the right, the newest last.
  return drawBars(runs, Math.max(runs.length, 24),
    `${runs.length} runs in the last day: ${total.sent} sent, ${total.failed} failed; longest ${(longest / 1000).toFixed(1)} s`);
}

/** The same drawing for the last week: a bar per UTC day (sent and failed summed), the line its longest run. */
export function renderWeekChart(days: ChartDay[], today = new Date().toISOString().slice(0, 10)): SafeHtml {
  if (days.length === 0) return html`<span>no run in the last 7 days</span>`;
  const byDay = new Map(days.map((day) => [day.day, day]));
  const slots: Bar[] = Array.from({ length: DAYS }, (_, i) => {
    const date = new Date(`${today}T00:00:00Z`);
    date.setUTCDate(date.getUTCDate() - (DAYS - 1 - i));
    const day = byDay.get(date.toISOString().slice(0, 10));
    return { sent: day?.sent ?? 0, failed: day?.failed ?? 0, durationMs: day?.longestMs ?? null };
  });
  const runs = days.reduce((sum, day) => sum + day.runs, 0);
  const sent = days.reduce((sum, day) => sum + day.sent, 0);
  const failed = days.reduce((sum, day) => sum + day.failed, 0);
  const longest = Math.max(1, ...days.map((day) => day.longestMs ?? 0));
  return drawBars(slots, DAYS, `${runs} runs in the last 7 days: ${sent} sent, ${failed} failed; longest ${(longest / 1000).toFixed(1)} s`);
}

function drawBars(runs: Bar[], slots: number, label: string): SafeHtml {
  const most = Math.max(1, ...runs.map((run) => run.sent + run.failed));
  const longest = Math.max(1, ...runs.map((run) => run.durationMs ?? 0));
  const step = WIDTH / slots;
  const offset = (slots - runs.length) * step;
  const bar = Math.max(1, step - 1);
  const y = (value: number, max: number) => (HEIGHT - (value / max) * (HEIGHT - 2)).toFixed(1);
  const bars = runs.map((run, i) => {
    if (run.sent + run.failed === 0) return '';
    const x = (offset + i * step).toFixed(1);
    const sentTop = Number(y(run.sent, most));
    const failedTop = Number(y(run.sent + run.failed, most));
    return html`<rect x="${x}" y="${sentTop}" width="${bar.toFixed(1)}" height="${(HEIGHT - sentTop).toFixed(1)}" fill="#3a9a5b"></rect>${
      run.failed > 0 ? html`<rect x="${x}" y="${failedTop}" width="${bar.toFixed(1)}" height="${(sentTop - failedTop).toFixed(1)}" fill="#c0392b"></rect>` : ''}`;
  });
  const points = runs.map((run, i) => (run.durationMs === null ? undefined : `${(offset + i * step + bar / 2).toFixed(1)},${y(run.durationMs, longest)}`))
    .filter((point) => point !== undefined).join(' ');
  return html`<svg role="img" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" aria-label="${label}"><title>${label}</title>${bars}${
    points ? html`<polyline points="${points}" fill="none" stroke="#555" stroke-width="1"></polyline>` : ''}</svg>`;
}
