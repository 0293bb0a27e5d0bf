/**
 * Output for a person at a terminal, kept apart from the log stream: written to
 * stderr, and only when stderr is a terminal, so pipes and collectors see logs only.
 */
export interface Printer {
  readonly enabled: boolean;
  table(title: string, rows: Array<[string, string | number]>): void;
}

export function createPrinter(stream: NodeJS.WritableStream & { isTTY?: boolean }, enabled = Boolean(stream.isTTY)): Printer {
  return {
    enabled,
    table(title, rows) {
      if (!enabled) return;
      stream.write(formatTable(title, rows));
    },
  };
}

export function formatTable(title: string, rows: Array<[string, string | number]>): string {
  const width = Math.max(title.length, ...rows.map(([label]) => label.length));
  const valueWidth = Math.max(0, ...rows.map(([, value]) => String(value).length));
  const rule = '-'.repeat(width + valueWidth + 3);
  const lines = rows.map(([label, value]) => `${label.padEnd(width)}   ${String(value).padStart(valueWidth)}`);
  return `\n${title}\n${rule}\n${lines.join('\n')}\n${rule}\n`;
}

/** Rows as aligned columns under a header line: for listings on stdout. */
export function formatColumns(columns: string[], rows: Array<Array<string | number | null>>): string {
  const cells = [columns, ...rows.map((row) => row.map((cell) => (cell === null ? '-' : String(cell))))];
  const widths = columns.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? '').length)));
  return `${cells.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ')).join('\n')}\n`;
}
