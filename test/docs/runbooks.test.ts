import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VFile } from 'vfile';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { brokenLinks } from './check-links.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

interface AlertRule { alert: string; annotations?: Record<string, string> }

/** Every alerting rule of deploy/prometheus/sweep.rules.yaml (an alert may have several rules). */
function alertRules(): AlertRule[] {
  const { groups } = parse(readFileSync(join(root, 'deploy/prometheus/sweep.rules.yaml'), 'utf8')) as { groups: Array<{ rules: AlertRule[] }> };
  return groups.flatMap((group) => group.rules);
}

/** The runbook section of an alert in docs/operating.md: its `### <alert>` heading to the next heading. */
function runbookSection(alert: string): string | undefined {
  const page = readFileSync(join(root, 'docs/operating.md'), 'utf8');
  const start = page.indexOf(`\n### ${alert}\n`);
  if (start < 0) return undefined;
  const rest = page.slice(start + 1);
  const end = rest.slice(1).search(/\n#{1,3} /);
  return end < 0 ? rest : rest.slice(0, end + 1);
}

describe('runbooks: every alert links to its section of docs/operating.md', () => {
  const rules = alertRules();

  it.each(rules.map((rule, index) => [`${rule.alert} (rule ${index + 1})`, rule] as const))('%s has a runbook_url into docs/operating.md', (_name, rule) => {
    expect(rule.annotations?.runbook_url).toBe(`docs/operating.md#${rule.alert.toLowerCase()}`);
  });

  it('each runbook_url names a heading that docs/operating.md has (checked as a link, by the same link checker)', async () => {
    // The URLs are repo-relative: as links of a file at the repository's root they
    // resolve as a reader's checkout would, and the checker computes the page's anchors
    // with the slugger it uses for every other link.
    const urls = [...new Set(rules.map((rule) => rule.annotations?.runbook_url ?? `(no runbook_url for ${rule.alert})`))];
    const links = new VFile({
      path: join(root, 'runbook-urls.md'),
      value: urls.map((url) => `- [runbook](${url})`).join('\n') + '\n',
    });
    expect(urls.length).toBeGreaterThan(0);
    expect(await brokenLinks(root, [links])).toEqual([]);
  });

  it.each([...new Set(rules.map((rule) => rule.alert))].map((alert) => [alert] as const))(
    'the runbook of %s says what it means, where to look first and what fixes it', (alert) => {
      const section = runbookSection(alert);
      expect(section, `no "### ${alert}" in docs/operating.md`).toBeDefined();
      expect(section).toContain('**What it means.**');
      expect(section).toContain('**Look first.**');
      expect(section).toContain('**What fixes it.**');
      // Where to look: a console page and a command.
      expect(section).toMatch(/Console: `\/[a-z]/);
      expect(section).toMatch(/`(sweep|kubectl) [^`]+`/);
    });
});
