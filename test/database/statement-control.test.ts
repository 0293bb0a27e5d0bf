import { describe, expect, it, vi } from 'vitest';
import { DEFAULT_TRANSACTION_SETTINGS, describeStatement, StatementControl, type StatementInFlight } from '../../src/database/statement-control.js';

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
});
