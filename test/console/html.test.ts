import { describe, expect, it } from 'vitest';
import { html } from '../../src/console/html.js';

describe('html``', () => {
  it('escapes markup in every value', () => {
    expect(html`<td>${'<script>x</script>'}</td><a title="${'" onclick="x'}">`.value)
      .toBe('<td>&lt;script&gt;x&lt;/script&gt;</td><a title="&quot; onclick=&quot;x">');
  });

  it('shows a bidirectional control as its code point: an RLO cannot turn "evil" into "live"', () => {
    expect(html`<td>${'\u202eevil\u202c'}</td>`.value).toBe('<td>[U+202E]evil[U+202C]</td>');
    expect(html`${'a\u2066b\u2069\u200f\u061c'}`.value).toBe('a[U+2066]b[U+2069][U+200F][U+061C]');
  });
});
