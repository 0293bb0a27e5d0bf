import { describe, expect, it, vi } from 'vitest';
import { ABANDON_AFTER_GRACE_MS, CLIENT_MARGIN_MS, DEFAULT_TRANSACTION_SETTINGS, describeOperation, describeStatement, StatementControl,
  type StatementInFlight } from '../../src/database/statement-control.js';
import { DatabaseUnresponsiveError } from '../../src/database/statement-errors.js';

const entry = (statement = 'a statement on todos'): StatementInFlight & { cancel: ReturnType<typeof vi.fn<() => void>> } =>
  ({ statement, startedAt: Date.now(), cancelReason: undefined, cancel: vi.fn<() => void>() });

describe('describeStatement', () => {
  it('names the tables a statement reads or writes, not its CTEs, functions or subqueries', () => {
    expect(describeStatement(`with claimed as (insert into deliveries (key) select v.key from unnest(?::text[]) as v(key)
      on conflict (key) do update set status = 'pending' where not exists (select 1 from job_runs r) returning key)
      select v.key from unnest(?::text[]) as v(key) where not exists (select 1 from claimed c where c.key = v.key)`))
      .toMatch(/^a statement on deliveries, job_runs \(with claimed as \(insert into deliveries/);
    expect(describeStatement('select "t"."id" from "todos" as "t" where not exists (select 1 from "deliveries" as "d")'))
      .toMatch(/^a statement on todos, deliveries \(/);
    expect(describeStatement('update "job_runs" set "heartbeat_at" = now()')).toMatch(/^a statement on job_runs /);
  });

  it('keeps a long statement to one short line', () => {
    const text = describeStatement(`select ${'x, '.repeat(200)} 1 from todos`);
    expect(text.length).toBeLessThan(140);
    expect(text).toMatch(/…\)$/);
  });
});

describe('describeOperation', () => {
  it('names a statement by its operation and tables only: no text, no parameters, no comments', () => {
    expect(describeOperation(`/* claim */ with claimed as (insert into deliveries (key) select v.key from unnest(?::text[]) as v(key)
      returning key) select key from claimed`)).toBe('insert on deliveries');
    expect(describeOperation('select "t"."id" from "todos" as "t" where "t"."id" = ? -- page')).toBe('select on todos');
    expect(describeOperation('update "job_runs" set "heartbeat_at" = now() where "id" = ?')).toBe('update on job_runs');
    expect(describeOperation('select 1')).toBe('select');
  });
});

describe('StatementControl', () => {
  it('sets every bound, no workers, no JIT and ISO dates per transaction; the long bound and workers on request', () => {
    const control = new StatementControl({ ...DEFAULT_TRANSACTION_SETTINGS, lockTimeoutMs: 2000, statementTimeoutMs: 30_000 });
    expect(control.settingsSql()).toBe(`set local datestyle = 'ISO, YMD'; set local max_parallel_workers_per_gather = 0; `
      + 'set local jit = off; set local lock_timeout = 2000; set local statement_timeout = 30000; '
      + 'set local idle_in_transaction_session_timeout = 60000');
    expect(control.settingsSql({ long: true })).toMatch(/max_parallel_workers_per_gather = 2; .*statement_timeout = 3600000;/);
  });

  it('on stop, cancels what is in flight at once, bounds what follows by the grace period, and cancels what is left at its end', () => {
    vi.useFakeTimers();
    try {
      const control = new StatementControl({ ...DEFAULT_TRANSACTION_SETTINGS, slowStatementMs: 60_000 });
      const waiting = entry();
      const doneWaiting = control.track(waiting);
      control.stop('stopped by SIGTERM', 3000);
      expect(waiting.cancel).toHaveBeenCalledTimes(1);
      expect(waiting.cancelReason).toBe('stopped by SIGTERM');
      doneWaiting();

      vi.advanceTimersByTime(1000);
      expect(control.settingsSql()).toMatch(/lock_timeout = 2000; set local statement_timeout = 2000;/);
      const last = entry();
      control.track(last);
      vi.advanceTimersByTime(2000);
      expect(last.cancel).toHaveBeenCalledTimes(1);
      expect(last.cancelReason).toMatch(/grace period is over/);
      // After the grace period, the run's last records still get a short bound.
      expect(control.settingsSql()).toMatch(/statement_timeout = 500;/);
      control.dispose();
    } finally {
      vi.useRealTimers();
    }
  });

  it('logs a statement that waits longer than the slow threshold, once', () => {
    vi.useFakeTimers();
    try {
      const warn = vi.fn();
      const control = new StatementControl({ ...DEFAULT_TRANSACTION_SETTINGS, slowStatementMs: 5000 }, { warn } as never);
      const done = control.track(entry('a statement on todos (select …)'));
      vi.advanceTimersByTime(4999);
      expect(warn).not.toHaveBeenCalled();
      vi.advanceTimersByTime(1);
      expect(warn).toHaveBeenCalledWith(expect.objectContaining({ statement: 'a statement on todos (select …)' }),
        expect.stringMatching(/^still waiting for the database after 5 s/));
      done();
    } finally {
      vi.useRealTimers();
    }
  });

  it('abandons every statement in flight once one has no answer 2 s past its bound, and refuses the ones after', () => {
    vi.useFakeTimers();
    try {
      const error = vi.fn();
      const control = new StatementControl({ ...DEFAULT_TRANSACTION_SETTINGS, slowStatementMs: 60_000 }, { error, warn: vi.fn() } as never);
      const abandoned: DatabaseUnresponsiveError[] = [];
      const track = (boundMs: number, statement: string) => control.track({ ...entry(statement), boundMs, abandon: (e) => abandoned.push(e) });
      track(1000, 'a statement on deliveries (insert …)');
      track(60_000, 'a statement on job_runs (update …)');
      vi.advanceTimersByTime(1000 + CLIENT_MARGIN_MS - 1);
      expect(abandoned).toEqual([]);
      vi.advanceTimersByTime(1);

      expect(abandoned.map((e) => [e.statement, e.exitCode])).toEqual([
        ['a statement on deliveries (insert …)', 75], ['a statement on job_runs (update …)', 75]]);
      expect(abandoned[0]!.message).toMatch(/^the database stopped answering: no answer to a statement on deliveries .* within 3\.0 s, past its server-side bound/);
      expect(error).toHaveBeenCalledTimes(1);
      expect(control.unresponsive).toBe(abandoned[0]);
      expect(() => control.refuseIfUnresponsive('a statement on todos')).toThrow(DatabaseUnresponsiveError);
    } finally {
      vi.useRealTimers();
    }
  });

  it('on stop, abandons half a second after the grace period what a cancel did not end, and bounds a wait for a connection the same way', async () => {
    vi.useFakeTimers();
    try {
      const control = new StatementControl({ ...DEFAULT_TRANSACTION_SETTINGS, slowStatementMs: 60_000 });
      const abandoned: DatabaseUnresponsiveError[] = [];
      const frozen = { ...entry(), boundMs: 120_000, abandon: (e: DatabaseUnresponsiveError) => abandoned.push(e) };
      control.track(frozen);
      const connection = control.waitBound('a connection from the pool');
      const given = connection.given.catch((e: unknown) => e);
      control.stop('stopped by SIGTERM', 2000);
      expect(frozen.cancel).toHaveBeenCalledTimes(1);
      vi.advanceTimersByTime(2000);
      expect(frozen.cancel).toHaveBeenCalledTimes(1);
      expect(abandoned).toEqual([]);
      vi.advanceTimersByTime(ABANDON_AFTER_GRACE_MS);

      expect(abandoned).toHaveLength(1);
      expect(abandoned[0]!.message).toMatch(/of a stopping run's grace period/);
      expect(await given).toBeInstanceOf(DatabaseUnresponsiveError);
      expect(String(await given)).toMatch(/no connection from the pool within/);
      control.dispose();
    } finally {
      vi.useRealTimers();
    }
  });
});
