import type { Knex } from 'knex';

/** History is loaded this many todos (and their deliveries) a statement: progress to print, no single giant transaction. */
export const HISTORY_CHUNK = 1_000_000;

/**
 * History's due dates: 2 to 366 days before the run date, cycling, so they span a year;
 * the new todos are due the day before it. A run as of now in every zone (--zones) is
 * sure of a delay only from two days back (UTC-11 may still be on yesterday), so there
 * the new todos are due two days before and history from three.
 */
export const DUE_DAYS_BACK = { asOfDate: { history: 2, newTodos: 1 }, asOfNow: { history: 3, newTodos: 2 } } as const;
const HISTORY_DAYS = 365;

const JOB = 'send-delay-notifications';

/** Day arithmetic on YYYY-MM-DD in UTC. */
export function daysBefore(date: string, days: number): string {
  const at = new Date(`${date}T00:00:00Z`);
  at.setUTCDate(at.getUTCDate() - days);
  return at.toISOString().slice(0, 10);
}

export interface LoadedHistory {
  /** The inserts alone. */
  seconds: number;
  /** VACUUM ANALYZE of todos and deliveries afterwards. */
  vacuumSeconds: number;
}

/**
 * Loads `history` settled todos: due 2 to 366 days before `runDate`, round-robin over
 * `workspaces`, each with its `sent` delivery in the ledger as the job writes it (key
 * `send-delay-notifications:<id>:<due_date>`, message `Todo <id> is delayed`, one attempt).
 * Server-side, HISTORY_CHUNK todos and their deliveries a statement (insert ... select from
 * generate_series, the deliveries from the todos the same statement returns), into the
 * tables as they are, with every index in place: the indexes grow by inserts, as a live
 * table's do. Each chunk is inserted in key order (todos by id, deliveries by key), which
 * turns the random-UUID index inserts into one pass over each index per chunk rather
 * than a random page per row; it changes nothing a query can tell but the heap's order.
 * Then VACUUM ANALYZE both, so that the sweep's plans are those of fresh statistics.
 *
 * `changed_at` is not written: the bench loads history before the migration that adds
 * it (the todos of a deployment that upgrades have none), and when the column exists it
 * is left to what a trigger-free insert gives, null. Either way history lies behind the
 * job's position and the changed-todos index holds none of it.
 */
export async function loadHistory(db: Knex, counts: { history: number; workspaces: number; runDate: string; firstDaysBack: number },
  progress: (done: number, seconds: number) => void): Promise<LoadedHistory> {
  const started = performance.now();
  const hasChangedAt = await db.schema.hasColumn('todos', 'changed_at');
  for (let from = 0; from < counts.history; from += HISTORY_CHUNK) {
    const to = Math.min(counts.history, from + HISTORY_CHUNK);
    const statement = `with t as (
        insert into todos (id, workspace_id, name, assignee, due_date)
        select id, md5('sweep-bench-workspace-' || (g % ?))::uuid, 'Bench todo ' || g, 'bench', ?::date - (? + g % ?)::int
          from (select gen_random_uuid() as id, g from generate_series(?::bigint, ?::bigint - 1) as g) as s
         order by id
        returning id, workspace_id, due_date)
      insert into deliveries (key, job, workspace_id, item_id, item_date, message, status, attempts, sent_at, created_at, updated_at)
      select '${JOB}:' || t.id || ':' || t.due_date::text, '${JOB}', t.workspace_id, t.id::text, t.due_date,
             'Todo ' || t.id || ' is delayed', 'sent', 1, s.at, s.at, s.at
        from t, lateral (select t.due_date + 1 + time '09:00' as at) as s
       order by 1`;
    const bindings = [counts.workspaces, counts.runDate, counts.firstDaysBack, HISTORY_DAYS, from, to];
    if (hasChangedAt) {
      // The triggers would stamp every history row as written now: behind the position,
      // yet in the changed-todos index. A replica session fires no ordinary trigger.
      await db.transaction(async (trx) => {
        await trx.raw('set local session_replication_role = replica');
        await trx.raw(statement, bindings);
      });
    } else {
      await db.raw(statement, bindings);
    }
    progress(to, (performance.now() - started) / 1000);
  }
  const seconds = (performance.now() - started) / 1000;
  const vacuumStarted = performance.now();
  await db.raw('vacuum analyze todos');
  await db.raw('vacuum analyze deliveries');
  return { seconds, vacuumSeconds: (performance.now() - vacuumStarted) / 1000 };
}

/**
 * `todos` new delayed todos due `daysBack` days before `runDate` (after every history todo, so
 * after the job's position), round-robin over `workspaces`, with no delivery: their
 * `changed_at` is the triggers' (now). And `future` todos due 1 to 30 days after
 * `runDate`: written now too, so in the window of changes a run reads, but not delayed.
 * Then ANALYZE todos, as the other loads do.
 */
export async function loadNewTodos(db: Knex, counts: { todos: number; future: number; workspaces: number; runDate: string; daysBack: number }):
Promise<{ seconds: number; dueDate: string }> {
  const started = performance.now();
  const dueDate = daysBefore(counts.runDate, counts.daysBack);
  await db.raw(
    `insert into todos (id, workspace_id, name, assignee, due_date)
     select gen_random_uuid(), md5('sweep-bench-workspace-' || (g % ?))::uuid, 'New bench todo ' || g, 'bench', ?::date
       from generate_series(0, ? - 1) as g`,
    [counts.workspaces, dueDate, counts.todos],
  );
  if (counts.future > 0) {
    await db.raw(
      `insert into todos (id, workspace_id, name, assignee, due_date)
       select gen_random_uuid(), md5('sweep-bench-workspace-' || (g % ?))::uuid, 'Future bench todo ' || g, 'bench', ?::date + (1 + g % 30)::int
         from generate_series(0, ? - 1) as g`,
      [counts.workspaces, counts.runDate, counts.future],
    );
  }
  await db.raw('analyze todos');
  return { seconds: (performance.now() - started) / 1000, dueDate };
}

/** Of the todos due on `dueDate`, how many have a `sent` delivery: through the todos' index and the ledger's key, not the whole ledger. */
export async function countSentOn(db: Knex, dueDate: string): Promise<number> {
  const row = await db.first<{ n: number }>(db.raw('count(*)::int as n')).from('todos as t')
    .join('deliveries as d', 'd.key', db.raw(`'${JOB}:' || t.id || ':' || t.due_date::text`))
    .where('t.due_date', dueDate).where('d.status', 'sent');
  return row?.n ?? 0;
}

/** The todos due on `dueDate` forget their deliveries: a repeat of the new-work sweep sends them again. */
export async function forgetDeliveriesOn(db: Knex, dueDate: string): Promise<number> {
  const result = await db.raw<{ rowCount: number }>(
    `delete from deliveries d using todos t
      where t.due_date = ? and d.key = '${JOB}:' || t.id || ':' || t.due_date::text`, [dueDate]);
  return result.rowCount;
}

/** The last todo in the job's order (due_date, id) due before `runDate`: where a run that settled them all is. */
export async function lastTodoBefore(db: Knex, runDate: string): Promise<string[] | undefined> {
  const row = await db('todos').where('due_date', '<', runDate)
    .select(db.raw(`to_char(due_date, 'YYYY-MM-DD') as due_date`), db.raw('id::text as id'))
    .orderBy([{ column: 'todos.due_date', order: 'desc' }, { column: 'todos.id', order: 'desc' }])
    .first<{ due_date: string; id: string } | undefined>();
  return row && [row.due_date, row.id];
}

export interface SavedPosition {
  position: string[];
  changesSince: Date | null;
  changesSnapshot: string | null;
}

export async function readPosition(db: Knex): Promise<SavedPosition | undefined> {
  const row = await db('job_positions').where({ job: JOB })
    .first<{ position: string[]; changes_since: Date | null; snapshot: string | null } | undefined>(
      'position', 'changes_since', db.raw('changes_snapshot::text as snapshot'));
  return row && { position: row.position, changesSince: row.changes_since, changesSnapshot: row.snapshot };
}

/** Puts the job's position back as it was (none: no row), for a repeat of the new-work sweep. */
export async function restorePosition(db: Knex, saved: SavedPosition | undefined): Promise<void> {
  await db('job_positions').where({ job: JOB }).delete();
  if (saved) {
    await db.raw('insert into job_positions (job, position, changes_since, changes_snapshot) values (?, ?::text[], ?, ?::pg_snapshot)',
      [JOB, saved.position as unknown as Knex.RawBinding, saved.changesSince, saved.changesSnapshot]);
  }
}
