import { Writable } from 'node:stream';
import { printable } from './printable.js';

/**
 * Output for a person at a terminal, kept apart from the log stream: written to
 * stderr, and only when stderr is a terminal, so pipes and collectors see logs only.
 */
export interface Printer {
  readonly enabled: boolean;
  table(title: string, rows: Array<[string, string | number]>): void;
  /** Shows one live status line in place of the previous one. */
  progress(text: string): void;
  /** Removes the status line (before a table, at the end of a run). */
  clearProgress(): void;
  /**
   * The log's destination, wrapped so that a log line never lands in the middle of
   * the status line: the line is cleared, the log written, the line drawn again.
   */
  guard(destination: NodeJS.WritableStream): NodeJS.WritableStream;
}

const CLEAR_LINE = '\r\x1b[2K';

export function createPrinter(stream: NodeJS.WritableStream & { isTTY?: boolean }, enabled = Boolean(stream.isTTY)): Printer {
  let status = '';
  const clear = () => {
    if (status) stream.write(CLEAR_LINE);
  };
  const redraw = () => {
    if (status) stream.write(`${CLEAR_LINE}${status}`);
  };
  return {
    enabled,
    table(title, rows) {
      if (!enabled) return;
      clear();
      status = '';
      stream.write(formatTable(title, rows));
    },
    progress(text) {
      if (!enabled) return;
      status = text;
      redraw();
    },
    clearProgress() {
      clear();
      status = '';
    },
    guard(destination) {
      if (!enabled) return destination;
      return new Writable({
        write(chunk, _encoding, done) {
          clear();
          destination.write(chunk);
          redraw();
          done();
        },
      });
    },
  };
}

export function formatTable(rawTitle: string, rawRows: Array<[string, string | number]>): string {
  const title = printable(rawTitle);
  const rows = rawRows.map(([label, value]): [string, string] => [printable(label), printable(String(value))]);
  const width = Math.max(title.length, ...rows.map(([label]) => label.length));
  const valueWidth = Math.max(0, ...rows.map(([, value]) => String(value).length));
  const rule = '-'.repeat(width + valueWidth + 3);
  const lines = rows.map(([label, value]) => `${label.padEnd(width)}   ${String(value).padStart(valueWidth)}`);
  return `\n${title}\n${rule}\n${lines.join('\n')}\n${rule}\n`;
}

/** Rows as aligned columns under a header line: for listings on stdout. */
export function formatColumns(columns: string[], rows: Array<Array<string | number | null>>): string {
  const cells = [columns.map(printable), ...rows.map((row) => row.map((cell) => (cell === null ? '-' : printable(String(cell)))))];
  const widths = columns.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? '').length)));
  return `${cells.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ')).join('\n')}\n`;
}
