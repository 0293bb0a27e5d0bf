import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url);
const ROLES_SQL = readFileSync(new URL('deploy/postgres/roles.sql', root), 'utf8');
const DEPLOYMENT = readFileSync(new URL('docs/deployment.md', root), 'utf8');
const blocks = (language: string) => [...DEPLOYMENT.matchAll(new RegExp('```' + language + '\\n([\\s\\S]*?)```', 'g'))].map((match) => match[1]!);

/** The roles and grants are written once, in deploy/postgres/roles.sql; the docs show that file, never a copy that drifts. */
describe('docs/deployment.md and deploy/postgres/roles.sql', () => {
  it('the docs\' SQL block is the file, whole', () => {
    expect(blocks('sql')).toContain(ROLES_SQL);
    // No other SQL block that a reader might take for the grants.
    expect(blocks('sql').filter((block) => /\bgrant\b/i.test(block))).toEqual([ROLES_SQL]);
  });

  it('the docs\' commands split the file into its two parts, which test/database/roles.integration.test.ts applies', () => {
    const commands = blocks('sh').flatMap((block) => block.split('\n')).filter((line) => line.includes('deploy/postgres/roles.sql'));
    expect(commands).toHaveLength(2);
    const parts = commands.map((line) => execFileSync('bash', ['-c', line.split(' | ')[0]!], { cwd: root, encoding: 'utf8' }));
    expect(parts[0]! + parts[1]!).toBe(ROLES_SQL);
    expect(parts[0]).toMatch(/create role sweep_runner login;/);
    expect(parts[1]).toMatch(/^-- Part 2/);
  });
});
