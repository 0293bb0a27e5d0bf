/**
 * Text for a person's terminal. What a table shows comes partly from others: an error
 * text a service answered, stored in the ledger. Control characters (C0, DEL, C1) could
 * clear the screen, rewrite a line, set the window title or ring the bell, and the
 * bidirectional overrides could make one key read as another; each is shown escaped
 * (`\x1b`, `\n`, `\u202e`) instead, so a cell stays on its line and says what it holds.
 */
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (char) => {
    const code = char.charCodeAt(0);
    return NAMED[char] ?? (code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`);
  });
}
