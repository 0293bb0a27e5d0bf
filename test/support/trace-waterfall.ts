import { escapeHtml } from '../../src/console/html.js';
import type { ReceivedSpan } from './otlp-receiver.js';

const ROW = 16;
const LABEL = 300;
const WIDTH = 960;
const COLOURS: Record<string, string> = { run: '#4b5563', page: '#2563eb', notify: '#059669', client: '#7c3aed', db: '#d97706', wait: '#9ca3af' };

/**
 * One trace as a trace UI draws it (Jaeger's timeline): a row per span, in tree order,
 * indented by depth, its bar placed on the trace's time axis, red when its status is an
 * error. Drawn from the spans a Collector received, for docs/operating.md; every text
 * escaped as the console escapes it.
 */
export function drawTraceWaterfall(spans: ReceivedSpan[], options: { maxRows?: number } = {}): string {
  const byParent = new Map<string, ReceivedSpan[]>();
  for (const span of spans) byParent.set(span.parentSpanId, [...(byParent.get(span.parentSpanId) ?? []), span]);
  const ids = new Set(spans.map((span) => span.spanId));
  const roots = spans.filter((span) => !ids.has(span.parentSpanId));
  const rows: Array<{ span: ReceivedSpan; depth: number }> = [];
  const visit = (span: ReceivedSpan, depth: number) => {
    rows.push({ span, depth });
    for (const child of (byParent.get(span.spanId) ?? []).sort((a, b) => a.startMs - b.startMs)) visit(child, depth + 1);
  };
  for (const root of roots.sort((a, b) => a.startMs - b.startMs)) visit(root, 0);
  const shown = rows.slice(0, options.maxRows ?? rows.length);
  const start = Math.min(...spans.map((span) => span.startMs));
  const end = Math.max(...spans.map((span) => span.endMs));
  const scale = (WIDTH - LABEL - 80) / Math.max(1, end - start);
  const height = (shown.length + 2) * ROW + 8;
  const lines = shown.map(({ span, depth }, index) => {
    const y = (index + 1) * ROW + 4;
    const x = LABEL + (span.startMs - start) * scale;
    const width = Math.max(1, (span.endMs - span.startMs) * scale);
    const colour = span.status.code === 2 ? '#dc2626' : COLOURS[kindOf(span)];
    const label = `${'  '.repeat(depth)}${span.name}`;
    return `<text x="4" y="${y + 11}" xml:space="preserve">${escapeHtml(label.length > 46 ? `${label.slice(0, 45)}…` : label)}</text>`
      + `<rect x="${x.toFixed(1)}" y="${y + 2}" width="${width.toFixed(1)}" height="${ROW - 5}" fill="${colour}"/>`
      + `<text x="${(x + width + 4).toFixed(1)}" y="${y + 11}" fill="#374151">${(span.endMs - span.startMs).toFixed(0)} ms</text>`;
  });
  const more = rows.length > shown.length ? `<text x="4" y="${(shown.length + 1) * ROW + 15}">… ${rows.length - shown.length} more spans</text>` : '';
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" font-family="monospace" font-size="11">`
    + `<rect width="100%" height="100%" fill="#ffffff"/>`
    + `<text x="4" y="12" font-weight="bold">trace ${escapeHtml(spans[0]?.traceId ?? '')}: ${spans.length} spans, ${(end - start).toFixed(0)} ms</text>`
    + `${lines.join('')}${more}</svg>\n`;
}

function kindOf(span: ReceivedSpan): string {
  if (span.name.startsWith('run ')) return 'run';
  if (span.name === 'page' || span.name === 'read page' || span.name === 'record outcomes') return 'page';
  if (span.attributes['sweep.notification.key'] !== undefined || span.name === 'fetch token') return 'notify';
  if (span.attributes['db.system'] !== undefined) return 'db';
  if (span.kind === 3) return 'client';
  return 'wait';
}
