import type { Knex } from 'knex';
import { SweepError } from '../runner/errors.js';
import { ExitCode } from '../runner/exit-codes.js';

export type TablePrivilege = 'SELECT' | 'INSERT' | 'UPDATE' | 'DELETE';
/** USAGE lets a role take a sequence's next value (an insert into a bigserial column). */
export type SequencePrivilege = 'USAGE';
/** Per table or sequence, what a command needs of it. */
export type TablePrivileges = Readonly<Record<string, readonly (TablePrivilege | SequencePrivilege)[]>>;

const READ_WRITE: readonly TablePrivilege[] = ['SELECT', 'INSERT', 'UPDATE', 'DELETE'];

/**
 * What the jobs, the operator commands and the console run with (the role `sweep_runner`
 * of deploy/postgres/roles.sql, whose part 2 grants exactly this: test/database/privileges.test.ts):
 * they read todos, read and write the sweep's own tables, and read the migrations'
 * bookkeeping to check that the schema is current. No DDL.
 */
export const RUNNER_PRIVILEGES: TablePrivileges = {
  todos: ['SELECT'],
  // Each workspace's time zone, which decides when its notifications fall due.
  workspaces: ['SELECT'],
  deliveries: READ_WRITE,
  job_runs: READ_WRITE,
  job_pauses: READ_WRITE,
  job_positions: READ_WRITE,
  // A hold its runners share and the approval that releases it (sweep approve).
  job_holds: READ_WRITE,
  // Who paused, resumed or re-armed what: written with the change, never changed after.
  console_audit: ['SELECT', 'INSERT'],
  // Its id's sequence: without it the audit's insert fails, and with it the pause it records.
  console_audit_id_seq: ['USAGE'],
  knex_migrations: ['SELECT'],
  knex_migrations_lock: ['SELECT'],
};

/** The GRANT that gives `role` `privilege` on `name`. */
export function grantStatement(privilege: string, name: string, role: string): string {
  return privilege === 'USAGE' ? `GRANT USAGE ON SEQUENCE ${name} TO ${role};` : `GRANT ${privilege} ON ${name} TO ${role};`;
}

/** The role lacks grants a job needs: a configuration error, which a retry would meet again. */
export class MissingPrivilegeError extends SweepError {
  constructor(readonly role: string, readonly missing: Array<{ table: string; privilege: string }>) {
    super(`the role ${role} lacks ${missing.map((m) => `${m.privilege} on ${m.table}`).join(', ')}: `
      + `${missing.map((m) => grantStatement(m.privilege, m.table, role)).join(' ')} (see deploy/postgres/roles.sql)`,
    ExitCode.USAGE, { role, missing: missing.map((m) => `${m.privilege} on ${m.table}`) });
  }
}

/**
 * Refuses, before anything is touched, to run with a role that lacks what the job needs,
 * naming every missing grant. One statement. A table that does not exist is left to the
 * schema check (pending migrations).
 */
export async function requirePrivileges(db: Knex, needed: TablePrivileges): Promise<void> {
  const pairs = Object.entries(needed).flatMap(([table, privileges]) => privileges.map((privilege) => [table, privilege] as const));
  if (pairs.length === 0) return;
  const result = await db.raw<{ rows: Array<{ role: string; missing: string[] }> }>(
    `select quote_ident(current_user) as role,
            array(select p.privilege || ' ' || p.name from unnest(?::text[], ?::text[]) with ordinality as p(name, privilege, n)
                   where to_regclass(p.name) is not null
                     and not case when p.privilege = 'USAGE' then has_sequence_privilege(to_regclass(p.name), p.privilege)
                                  else has_table_privilege(to_regclass(p.name), p.privilege) end
                   order by p.n) as missing`,
    [pairs.map(([table]) => table), pairs.map(([, privilege]) => privilege)] as unknown as readonly Knex.RawBinding[]);
  const row = result.rows[0];
  if (!row || row.missing.length === 0) return;
  throw new MissingPrivilegeError(row.role, row.missing.map((text) => {
    const [privilege, table] = text.split(' ') as [string, string];
    return { table, privilege };
  }));
}
