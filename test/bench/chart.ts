import type { Measurement } from './measurement.type.js';

const WIDTH = 760;
const HEIGHT = 460;
const MARGIN = { left: 80, right: 190, top: 48, bottom: 58 };
const COLORS = { sweep: '#1f77b4', ceiling: '#ff7f0e', ideal: '#7f7f7f', failed: '#d62728', grid: '#e5e5e5', axis: '#333' };

/**
 * rate/s against concurrency, both on log scales (the ideal K x C / L is then a straight
 * line): the sweep's points, the ceiling's, and the ideal. Hand-written SVG, no dependency.
 */
export function renderChart(measurements: Measurement[]): string {
  const sweeps = measurements.filter((m) => m.kind === 'sweep' && m.ratePerSecond !== null);
  const ceilings = measurements.filter((m) => m.kind === 'ceiling' && m.ratePerSecond !== null);
  const first = measurements[0];
  if (!first || sweeps.length === 0) throw new Error('nothing to chart');
  const concurrencies = [...new Set(measurements.map((m) => m.concurrency))].sort((a, b) => a - b);
  const ideal = (c: number) => (first.latencyMs > 0 ? (first.runners * c) / (first.latencyMs / 1000) : undefined);

  // Half a doubling of room on each side, so no point sits on the frame.
  const xMin = (concurrencies[0] as number) / Math.SQRT2;
  const xMax = Math.max(concurrencies.at(-1) as number, (concurrencies[0] as number) * 2) * Math.SQRT2;
  const rates = [...sweeps, ...ceilings].map((m) => m.ratePerSecond as number);
  for (const c of [xMin, xMax]) {
    const value = ideal(c);
    if (value !== undefined) rates.push(value);
  }
  const yMin = 10 ** Math.floor(Math.log10(Math.max(1e-3, Math.min(...rates)) * 0.8));
  const yMax = 10 ** Math.ceil(Math.log10(Math.max(...rates) * 1.25));

  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (c: number) => MARGIN.left + ((Math.log2(c) - Math.log2(xMin)) / (Math.log2(xMax) - Math.log2(xMin))) * plotW;
  const y = (r: number) => MARGIN.top + plotH - ((Math.log10(r) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) * plotH;
  const out: string[] = [];

  const xTicks = new Set(concurrencies);
  for (let c = 2 ** Math.ceil(Math.log2(xMin)); c <= xMax; c *= 2) xTicks.add(c);
  for (const c of [...xTicks].sort((a, b) => a - b)) {
    out.push(line(x(c), MARGIN.top, x(c), MARGIN.top + plotH, COLORS.grid));
    out.push(text(x(c), MARGIN.top + plotH + 18, String(c), 'middle'));
  }
  for (const tick of yTicks(yMin, yMax)) {
    out.push(line(MARGIN.left, y(tick), MARGIN.left + plotW, y(tick), COLORS.grid));
    out.push(text(MARGIN.left - 8, y(tick) + 4, formatRate(tick), 'end'));
  }
  out.push(`<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="${COLORS.axis}"/>`);
  out.push(text(MARGIN.left + plotW / 2, HEIGHT - 14, 'concurrency per runner, C (log scale)', 'middle'));
  out.push(`<text x="20" y="${MARGIN.top + plotH / 2}" text-anchor="middle" transform="rotate(-90 20 ${MARGIN.top + plotH / 2})" `
    + `font-size="13">notifications per second (log scale)</text>`);
  out.push(text(MARGIN.left, 24, `send-delay-notifications: N=${first.todos}, W=${first.workspaces}, `
    + `L=${first.latencyMs} ms, K=${first.runners}, page ${first.pageSize}`, 'start', 15));

  if (first.latencyMs > 0) {
    out.push(`<line x1="${x(xMin)}" y1="${y(ideal(xMin) as number)}" x2="${x(xMax)}" y2="${y(ideal(xMax) as number)}" `
      + `stroke="${COLORS.ideal}" stroke-width="1.5" stroke-dasharray="6 4"/>`);
  }
  out.push(polyline(ceilings.map((m) => [x(m.concurrency), y(m.ratePerSecond as number)]), COLORS.ceiling, '2 3'));
  for (const m of ceilings) {
    const [px, py] = [x(m.concurrency), y(m.ratePerSecond as number)];
    out.push(`<rect x="${px - 4}" y="${py - 4}" width="8" height="8" fill="${COLORS.ceiling}"/>`);
    out.push(text(px, py - 9, formatRate(m.ratePerSecond as number), 'middle', 11, COLORS.ceiling));
  }
  out.push(polyline(sweeps.map((m) => [x(m.concurrency), y(m.ratePerSecond as number)]), COLORS.sweep));
  for (const m of sweeps) {
    const [px, py] = [x(m.concurrency), y(m.ratePerSecond as number)];
    out.push(m.verdict.startsWith('FAILED')
      ? `<path d="M${px - 5} ${py - 5}L${px + 5} ${py + 5}M${px - 5} ${py + 5}L${px + 5} ${py - 5}" stroke="${COLORS.failed}" stroke-width="2.5"/>`
      : `<circle cx="${px}" cy="${py}" r="4.5" fill="${COLORS.sweep}"/>`);
    out.push(text(px, py + 18, formatRate(m.ratePerSecond as number), 'middle', 11, COLORS.sweep));
  }

  const legendX = MARGIN.left + plotW + 16;
  const legend: Array<[string, string]> = [
    ['sweep (K processes)', `<circle cx="${legendX + 12}" cy="0" r="4.5" fill="${COLORS.sweep}"/>`],
    ['ceiling (HTTP only)', `<rect x="${legendX + 8}" y="-4" width="8" height="8" fill="${COLORS.ceiling}"/>`],
    ...(first.latencyMs > 0 ? [[`ideal K x C / L`, `<line x1="${legendX}" y1="0" x2="${legendX + 24}" y2="0" stroke="${COLORS.ideal}" `
      + `stroke-width="1.5" stroke-dasharray="6 4"/>`] as [string, string]] : []),
    ['sweep FAILED', `<path d="M${legendX + 7} -5L${legendX + 17} 5M${legendX + 7} 5L${legendX + 17} -5" stroke="${COLORS.failed}" stroke-width="2.5"/>`],
  ];
  legend.forEach(([label, mark], i) => {
    const ly = MARGIN.top + 14 + i * 22;
    out.push(`<g transform="translate(0 ${ly})">${mark}</g>`, text(legendX + 32, ly + 4, label, 'start', 12));
  });

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" `
      + `font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    ...out,
    '</svg>',
    '',
  ].join('\n');
}

/** 1, 2 and 5 times each power of ten in range; only the powers when the range is wide. */
function yTicks(min: number, max: number): number[] {
  const decades = Math.log10(max / min);
  const steps = decades > 3 ? [1] : [1, 2, 5];
  const ticks: number[] = [];
  for (let power = min; power <= max; power *= 10) {
    for (const step of steps) if (power * step <= max * 1.0001) ticks.push(power * step);
  }
  return ticks;
}

function formatRate(rate: number): string {
  if (rate >= 10_000) return `${Math.round(rate / 1000)}k`;
  if (rate >= 1000) return `${(rate / 1000).toFixed(1)}k`;
  return rate >= 10 ? String(Math.round(rate)) : rate.toPrecision(2);
}

function line(x1: number, y1: number, x2: number, y2: number, color: string): string {
  return `<line x1="${x1.toFixed(1)}" y1="${y1.toFixed(1)}" x2="${x2.toFixed(1)}" y2="${y2.toFixed(1)}" stroke="${color}"/>`;
}

function polyline(points: Array<[number, number]>, color: string, dash?: string): string {
  if (points.length < 2) return '';
  return `<polyline points="${points.map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`).join(' ')}" fill="none" `
    + `stroke="${color}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`;
}

function text(tx: number, ty: number, content: string, anchor: 'start' | 'middle' | 'end', size = 12, color = '#222'): string {
  const escaped = content.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
  return `<text x="${tx.toFixed(1)}" y="${ty.toFixed(1)}" text-anchor="${anchor}" font-size="${size}" fill="${color}">${escaped}</text>`;
}
