import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { grantStatement, MissingPrivilegeError, RUNNER_PRIVILEGES } from '../../src/database/privileges.js';

const ROLES_SQL = readFileSync(new URL('../../deploy/postgres/roles.sql', import.meta.url), 'utf8');

/** Every `grant <privileges> on [sequence] <names> to sweep_runner` of roles.sql, as name -> privileges. */
function grantedToRunner(sql: string): Record<string, string[]> {
  const granted: Record<string, string[]> = {};
  for (const match of sql.matchAll(/^grant (.+?) on (sequence )?(.+?) to sweep_runner;$/gm)) {
    const [, privileges, , names] = match as unknown as [string, string, string | undefined, string];
    if (names === 'schema public') continue;
    for (const name of names.split(',').map((n) => n.trim())) {
      granted[name] = [...(granted[name] ?? []), ...privileges.split(',').map((p) => p.trim().toUpperCase())];
    }
  }
  return granted;
}

describe('the runner\'s grants', () => {
  it('deploy/postgres/roles.sql grants sweep_runner exactly what the start-up check requires', () => {
    const expected = Object.fromEntries(Object.entries(RUNNER_PRIVILEGES).map(([name, privileges]) => [name, [...privileges].sort()]));
    const granted = Object.fromEntries(Object.entries(grantedToRunner(ROLES_SQL)).map(([name, privileges]) => [name, privileges.sort()]));
    expect(granted).toEqual(expected);
  });

  it('names the GRANT for a sequence with its keyword, and a table\'s without', () => {
    expect(grantStatement('USAGE', 'console_audit_id_seq', 'r')).toBe('GRANT USAGE ON SEQUENCE console_audit_id_seq TO r;');
    expect(new MissingPrivilegeError('r', [{ table: 'console_audit_id_seq', privilege: 'USAGE' }, { table: 'todos', privilege: 'SELECT' }]).message)
      .toBe('the role r lacks USAGE on console_audit_id_seq, SELECT on todos: GRANT USAGE ON SEQUENCE console_audit_id_seq TO r; '
        + 'GRANT SELECT ON todos TO r; (see deploy/postgres/roles.sql)');
  });
});
