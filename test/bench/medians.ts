import type { Measurement, MeasurementKind } from './measurement.type.js';

/**
 * One row per kind out of R repeats of the same concurrency: the repeat with the median
 * rate (the median wall time for a rerun), so every figure in the row comes from one
 * real measurement. Its ratio to the ceiling is recomputed from the two medians, and a
 * problem in any repeat is kept in the verdict: a median never hides a failure.
 */
export function medianRows(repeats: Measurement[][]): Measurement[] {
  if (repeats.length === 1) return repeats[0] ?? [];
  const ofKind = (kind: MeasurementKind) => repeats.flatMap((rows) => rows.filter((m) => m.kind === kind));
  const ceiling = pickMedian(ofKind('ceiling'), (m) => m.ratePerSecond ?? 0);
  const sweep = pickMedian(ofKind('sweep'), (m) => m.ratePerSecond ?? 0);
  const rerun = pickMedian(ofKind('rerun'), (m) => -m.wallSeconds);
  const rows: Measurement[] = [];
  if (ceiling) rows.push(withVerdict(ceiling, ofKind('ceiling')));
  if (sweep) {
    const ratio = ceiling?.ratePerSecond && sweep.ratePerSecond !== null ? sweep.ratePerSecond / ceiling.ratePerSecond : null;
    rows.push(withVerdict({ ...sweep, ratioToCeiling: ratio }, ofKind('sweep')));
  }
  // Traced at 100%: the repeat with the median rate; each repeat's verdict compares it with its own untraced sweep.
  const traced = pickMedian(ofKind('traced'), (m) => m.ratePerSecond ?? 0);
  if (traced) rows.push(withVerdict(tracedAgainstUntraced(traced, ofKind('traced')), ofKind('traced')));
  if (rerun) rows.push(withVerdict(rerun, ofKind('rerun')));
  return rows;
}

/**
 * The traced row's comparison as the median of each repeat's own ratio (traced against
 * the untraced sweep run just before it): on a shared machine, pairing keeps a ratio
 * meaningful while the machine's speed drifts between repeats.
 */
function tracedAgainstUntraced(row: Measurement, all: Measurement[]): Measurement {
  const pairs = all.map((m) => m.vsUntraced).filter((v): v is NonNullable<Measurement['vsUntraced']> => v !== undefined);
  if (pairs.length === 0) return row;
  const rate = pickMedian(pairs.map((p) => p.rate), (v) => v)!;
  const cpu = pickMedian(pairs.map((p) => p.cpuPerNotification), (v) => v)!;
  const text = `median of ${pairs.length} paired ratios: rate x${rate.toFixed(3)}, CPU/n x${cpu.toFixed(3)} vs untraced`;
  return { ...row, vsUntraced: { rate, cpuPerNotification: cpu },
    verdict: row.verdict.startsWith('FAILED') ? row.verdict : `${rate < 0.97 || cpu > 1.1 ? 'OVER TARGET' : 'ok'}: ${text}` };
}

/** The middle element by `score` (the lower middle for an even count). */
export function pickMedian<T>(items: T[], score: (item: T) => number): T | undefined {
  const sorted = [...items].sort((a, b) => score(a) - score(b));
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

export function withVerdict(row: Measurement, all: Measurement[]): Measurement {
  const failed = all.filter((m) => m.verdict.startsWith('FAILED'));
  if (failed.length > 0) return { ...row, verdict: `FAILED in ${failed.length} of ${all.length} repeats: ${failed[0]?.verdict.replace(/^FAILED: /, '')}` };
  const slow = all.filter((m) => m.verdict.startsWith('SLOW'));
  if (slow.length > 0 && row.verdict === 'ok') return { ...row, verdict: `ok (SLOW in ${slow.length} of ${all.length} repeats)` };
  return row;
}
