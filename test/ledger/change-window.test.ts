import { describe, expect, it } from 'vitest';
import { changedSince, LEGACY_CHANGE_LAG_MS, parseSnapshot } from '../../src/ledger/change-window.js';

describe('change windows', () => {
  it('reads a pg_snapshot as PostgreSQL writes it', () => {
    expect(parseSnapshot('740:745:740,742')).toMatchObject({ xmax: '745', inProgress: ['740', '742'] });
    expect(parseSnapshot('745:745:')).toMatchObject({ xmax: '745', inProgress: [] });
    expect(parseSnapshot('4294967400:4294967410:4294967401')).toMatchObject({ xmax: '4294967410', inProgress: ['4294967401'] });
  });

  it('refuses anything else', () => {
    for (const text of ['', '1:2', '1:2:3,', 'a:b:', '1:2:3 ; drop table todos']) expect(() => parseSnapshot(text), text).toThrow(/not a pg_snapshot/);
  });

  it('asks for the transactions a snapshot could not see: from its xmax on, and those in progress then', () => {
    const [sql, bindings] = changedSince({ snapshot: parseSnapshot('740:745:740,742') }, { xid: 't.changed_xid', time: 't.changed_at' });
    expect(sql).toBe('(t.changed_xid >= ?::xid8 or t.changed_xid = any(?::xid8[]))');
    expect(bindings).toEqual(['745', ['740', '742']]);
  });

  it('reads a position saved before snapshots with the window of its release, and every stamp since the upgrade', () => {
    const since = new Date('2026-12-01T12:00:00Z');
    const [sql, bindings] = changedSince({ legacySince: since }, { xid: 't.changed_xid', time: 't.changed_at' });
    expect(sql).toBe('(t.changed_xid is not null or t.changed_at >= ?::timestamptz)');
    expect(bindings).toEqual([new Date(since.getTime() - LEGACY_CHANGE_LAG_MS).toISOString()]);
  });
});
