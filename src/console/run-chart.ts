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

/**
 * A small inline SVG, drawn on the server (no script): per run, a bar of what it sent
 * (green) with what failed stacked on it (red), and a line of how long runs took (grey).
 * Presentation attributes only: the page's CSP allows no inline style.
 */
export function renderRunChart(runs: ChartRun[]): SafeHtml {
  if (runs.length === 0) return html`<span>no run in the last day</span>`;
  const most = Math.max(1, ...runs.map((run) => run.sent + run.failed));
  const longest = Math.max(1, ...runs.map((run) => run.durationMs ?? 0));
  // A day of 15-minute runs fills the width; a few runs stay thin bars at the right, the newest last.
  const slots = Math.max(runs.length, 24);
  const step = WIDTH / slots;
  const offset = (slots - runs.length) * step;
  const bar = Math.max(1, step - 1);
  const y = (value: number, max: number) => (HEIGHT - (value / max) * (HEIGHT - 2)).toFixed(1);
  const bars = runs.map((run, i) => {
    const x = (offset + i * step).toFixed(1);
    const sentTop = Number(y(run.sent, most));
    const failedTop = Number(y(run.sent + run.failed, most));
    return html`<rect x="${x}" y="${sentTop}" width="${bar.toFixed(1)}" height="${(HEIGHT - sentTop).toFixed(1)}" fill="#3a9a5b"></rect>${
      run.failed > 0 ? html`<rect x="${x}" y="${failedTop}" width="${bar.toFixed(1)}" height="${(sentTop - failedTop).toFixed(1)}" fill="#c0392b"></rect>` : ''}`;
  });
  const points = runs.filter((run) => run.durationMs !== null)
    .map((run) => `${(offset + runs.indexOf(run) * step + bar / 2).toFixed(1)},${y(run.durationMs!, longest)}`).join(' ');
  const total = runs.reduce((sum, run) => ({ sent: sum.sent + run.sent, failed: sum.failed + run.failed }), { sent: 0, failed: 0 });
  const label = `${runs.length} runs in the last day: ${total.sent} sent, ${total.failed} failed; longest ${(longest / 1000).toFixed(1)} s`;
  return html`<svg role="img" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" aria-label="${label}"><title>${label}</title>${bars}${
    points ? html`<polyline points="${points}" fill="none" stroke="#555" stroke-width="1"></polyline>` : ''}</svg>`;
}
