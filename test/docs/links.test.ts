import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { brokenLinks } from './check-links.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

describe('the documentation\'s links', () => {
  it('every relative link and heading anchor in README.md and docs/ resolves', async () => {
    // test/bench/README.md too: docs/performance.md links to its headings.
    expect(await brokenLinks(root, ['README.md', 'docs', 'test/bench/README.md'])).toEqual([]);
  });

  it('the check finds a missing file, a missing heading in another file and a missing heading in the same file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sweep-links-'));
    try {
      mkdirSync(join(dir, 'docs'));
      writeFileSync(join(dir, 'docs', 'a.md'), '# A\n\n## Known heading\n\nSee [b](b.md#known-heading) and [here](#known-heading).\n');
      writeFileSync(join(dir, 'docs', 'b.md'), '# B\n\n## Known heading\n');
      writeFileSync(join(dir, 'README.md'), [
        '# Readme', '',
        '[a file that is not there](docs/gone.md)', '',
        '[a heading b has not](docs/b.md#no-such-heading)', '',
        '[a heading this file has not](#nowhere)', '',
        '[an external link, never fetched](https://example.invalid/x)', '',
      ].join('\n'));

      const broken = await brokenLinks(dir, ['README.md', 'docs']);

      expect(broken, broken.join("\n")).toHaveLength(3);
      expect(broken.join('\n')).toMatch(/README\.md:3:.*gone\.md/);
      expect(broken.join('\n')).toMatch(/README\.md:5:.*no-such-heading/);
      expect(broken.join('\n')).toMatch(/README\.md:7:.*nowhere/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
