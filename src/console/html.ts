/**
 * HTML built by a tagged template that escapes every value it is given: text from the
 * database (an error message holding `<script>`) can only ever be text. Only another
 * `html` result passes through as markup.
 */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

/**
 * Unicode's bidirectional controls (LRE, RLE, PDF, LRO, RLO, LRI, RLI, FSI, PDI, LRM, RLM,
 * ALM): an RLO turns "evil" into "live" on screen. Shown as their code point instead.
 */
const BIDI_CONTROLS = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (char) => ESCAPES[char]!)
    .replace(BIDI_CONTROLS, (char) => `[U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}]`);
}

function render(value: unknown): string {
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === undefined || value === null || value === false) return '';
  if (value instanceof Date) return escapeHtml(value.toISOString().replace('T', ' ').slice(0, 19));
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0]!;
  values.forEach((value, index) => { out += render(value) + strings[index + 1]!; });
  return new SafeHtml(out);
}

/** A query string from the filters that are set, for links that reproduce a view. */
export function queryString(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined && value !== '') search.set(name, String(value));
  const text = search.toString();
  return text ? `?${text}` : '';
}

export const CONSOLE_CSS = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #1b1b1b; background: #fafafa; }
header { background: #23313f; color: #fff; padding: .6em 1.2em; display: flex; flex-wrap: wrap; gap: .4em 1.2em; align-items: center; }
header a { color: #fff; text-decoration: none; } header .who, header .refresh { margin-left: auto; } header .refresh + .who { margin-left: 0; }
main { padding: 1em 1.2em; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { text-align: left; padding: .3em .6em; border-bottom: 1px solid #ddd; vertical-align: top; }
td.error { font-family: ui-monospace, monospace; white-space: pre-wrap; max-width: 40em; min-width: 12em; overflow-wrap: anywhere; }
/* A table scrolls inside itself: the page never gets wider than the screen. */
.scroll { overflow-x: auto; max-width: 100%; } main { max-width: 100%; box-sizing: border-box; } h1 { overflow-wrap: anywhere; }
details.long summary { cursor: pointer; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; max-width: 40em; }
table.jobs td:nth-child(2) { min-width: 13em; } table.jobs input[type=text] { width: 10em; }
.state { display: inline-block; padding: 0 .5em; border-radius: 1em; font-weight: 600; color: #fff; }
.state-failing { background: #b00020; } .state-overdue { background: #b35c00; } .state-held { background: #6a3d9a; } .state-storm { background: #7a0040; }
.state-paused { background: #5f6b76; } .state-healthy { background: #1e7b4a; }
tr.health-failing td:first-child { border-left: 4px solid #b00020; } tr.health-overdue td:first-child { border-left: 4px solid #b35c00; }
a.run-failed, .delivery-dead, .delivery-failed { color: #b00020; font-weight: 600; } a.run-partial { color: #b35c00; font-weight: 600; }
a.run-succeeded { color: #1e7b4a; } a.run-interrupted, a.run-paused { color: #5f6b76; } .forced { color: #b00020; }
.stale { background: #b00020; color: #fff; margin: 0; padding: .5em 1.2em; font-weight: 600; }
.paused { color: #a33; font-weight: 600; } .ok { color: #276; }
form.inline { display: inline-flex; gap: .3em; } input[type=text] { width: 16em; }
.notice { background: #fff3cd; padding: .6em; border: 1px solid #e0c36a; }
.filters { margin-bottom: 1em; display: flex; gap: .6em; flex-wrap: wrap; }
`;
