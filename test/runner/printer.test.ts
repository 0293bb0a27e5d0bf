import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createPrinter, formatColumns, formatTable } from '../../src/runner/printer.js';

/** ESC (a screen clear), BEL, backspace, a C1 CSI, a right-to-left override. */
const HOSTILE = 'clear\x1b[2Jbell\x07back\x08csi\x9bright\u202eleft';
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

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

describe('text that could drive a terminal', () => {
  it('is shown escaped in a table: title, labels and values', () => {
    const table = formatTable(`title ${HOSTILE}`, [[`label ${HOSTILE}`, `value ${HOSTILE}`]]);
    expect(table).not.toMatch(RAW_CONTROL);
    expect(table).toContain('clear\\x1b[2Jbell\\x07back\\x08csi\\x9bright\\u202eleft');
  });

  it('is shown escaped in columns, headers and cells alike, and a line break stays in its cell', () => {
    const text = formatColumns(['key', `error ${HOSTILE}`], [['k-1', `line one\nline two ${HOSTILE}`], ['k-2', null]]);
    expect(text).not.toMatch(RAW_CONTROL);
    expect(text.trimEnd().split('\n')).toHaveLength(3);
    expect(text).toContain('line one\\nline two clear\\x1b[2J');
  });

  it('keeps the columns aligned by what is shown', () => {
    const [header, first, second] = formatColumns(['a', 'B'], [['\x1b', 'Y'], ['long cell', 'Z']]).split('\n');
    expect(header!.indexOf('B')).toBe(first!.indexOf('Y'));
    expect(first!.indexOf('Y')).toBe(second!.indexOf('Z'));
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
