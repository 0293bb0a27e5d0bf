import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createPrinter, formatTable } from '../../src/runner/printer.js';

function written(stream: PassThrough): string {
  stream.end();
  const chunks: string[] = [];
  let chunk: Buffer | string | null;
  while ((chunk = stream.read() as Buffer | string | null) !== null) chunks.push(chunk.toString());
  return chunks.join('');
}

const terminal = () => Object.assign(new PassThrough(), { isTTY: true });

describe('formatTable', () => {
  it('pads labels to the widest and right-aligns values between two rules', () => {
    expect(formatTable('Summary', [['sent', 12], ['failed', 3], ['already sent', '140']])).toBe(
      [
        '',
        'Summary',
        '------------------',
        'sent            12',
        'failed           3',
        'already sent   140',
        '------------------',
        '',
      ].join('\n'),
    );
  });

  it('makes the rules at least as wide as a long title', () => {
    const table = formatTable('send-delay-notifications: done', [['sent', 1]]);
    const lines = table.split('\n');
    expect(lines[2]).toBe('-'.repeat('send-delay-notifications: done'.length + 1 + 3));
    expect(lines[3]).toBe(`${'sent'.padEnd('send-delay-notifications: done'.length)}   1`);
  });
});

describe('createPrinter', () => {
  it('writes the table when enabled', () => {
    const stream = new PassThrough();
    const printer = createPrinter(stream, true);

    printer.table('Summary', [['sent', 2]]);

    expect(printer.enabled).toBe(true);
    expect(written(stream)).toBe(formatTable('Summary', [['sent', 2]]));
  });

  it('writes nothing when disabled', () => {
    const stream = terminal();
    const printer = createPrinter(stream, false);

    printer.table('Summary', [['sent', 2]]);

    expect(printer.enabled).toBe(false);
    expect(written(stream)).toBe('');
  });

  it('is disabled by default on a stream that is not a terminal', () => {
    const stream = new PassThrough();
    const printer = createPrinter(stream);

    printer.table('Summary', [['sent', 2]]);

    expect(printer.enabled).toBe(false);
    expect(written(stream)).toBe('');
  });

  it('is enabled by default on a terminal', () => {
    const stream = terminal();
    const printer = createPrinter(stream);

    printer.table('Summary', [['sent', 2]]);

    expect(printer.enabled).toBe(true);
    expect(written(stream)).toBe(formatTable('Summary', [['sent', 2]]));
  });
});
