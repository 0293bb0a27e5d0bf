import { describe, expect, it } from 'vitest';
import { safeNext } from '../../src/console/safe-next.js';

describe('where a sign-in may send a person', () => {
  it('keeps a path of this console, with its query', () => {
    expect(safeNext('/runs?job=a&status=failed')).toBe('/runs?job=a&status=failed');
    expect(safeNext('/deliveries?status=dead,failed#top')).toBe('/deliveries?status=dead,failed#top');
  });

  it('sends anything that a browser could read as another site to /jobs', () => {
    for (const next of ['//evil.example/', '/\t/evil.example/', '/\n/evil.example/', '/\r/evil.example', '/\\evil.example',
      '/\\/evil.example', '\\\\evil.example', 'https://evil.example/', 'evil.example', '/%09/x\u0000', '/\u202e/evil', ' /jobs', '', undefined]) {
      expect(safeNext(next), JSON.stringify(next)).toBe('/jobs');
    }
  });

  it('encodes what it keeps to ASCII, so that the Location header can be written', () => {
    expect(safeNext('/deliveries?key=é"<')).toBe('/deliveries?key=%C3%A9%22%3C');
    expect(safeNext('/runs/../jobs')).toBe('/jobs');
  });
});
