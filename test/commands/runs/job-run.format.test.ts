import { describe, expect, it } from 'vitest';
import { formatRunDetail } from '../../../src/commands/runs/job-run.format.js';
import type { JobRunRow, RunFailureRow } from '../../../src/commands/runs/job-run.type.js';

const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

function runRow(overrides: Partial<JobRunRow> = {}): JobRunRow {
  return {
    id: '1bad1796-5607-40ab-8720-29a8e379de30', job: 'send-delay-notifications', parameters: { date: '2022-06-03' },
    status: 'partial', started_at: new Date('2022-06-03T10:00:00Z'), finished_at: new Date('2022-06-03T10:00:05Z'),
    heartbeat_at: null, counts: { sent: 1 }, error: null, host: 'runner-1', pid: 42, ...overrides,
  };
}

describe('formatRunDetail', () => {
  it('shows control characters of a stored error escaped, in the label-value lines and the failures', () => {
    const failure: RunFailureRow = {
      key: 'k-1', workspace_id: 'w-1', item_id: 'i-1', item_date: '2026-03-07', status: 'failed', attempts: 1, last_status: 400,
      last_error: 'refused \x1b]0;pwned\x07 \x08\x08\x08ok', next_attempt_at: null, updated_at: new Date(),
      time_zone: 'Mars/\x1b[31mOlympus', fell_due_local: null,
    };
    const text = formatRunDetail(runRow({ error: 'boom \x1b[2J\x1b[H', host: 'evil\x1b[31mhost', counts: { 'x\x07': 1 } }), [failure], 1);

    expect(text).not.toMatch(RAW_CONTROL);
    expect(text).toMatch(/^error\s+boom \\x1b\[2J\\x1b\[H$/m);
    expect(text).toMatch(/^host\s+evil\\x1b\[31mhost$/m);
    expect(text).toContain('refused \\x1b]0;pwned\\x07 \\x08\\x08\\x08ok');
    expect(text).toContain('Mars/\\x1b[31mOlympus');
  });

  it('shows each failure\'s workspace zone and the local time it fell due there', () => {
    const failure: RunFailureRow = {
      key: 'k-2', workspace_id: 'w-2', item_id: 'i-2', item_date: '2026-03-07', status: 'retry', attempts: 2, last_status: 503,
      last_error: null, next_attempt_at: null, updated_at: new Date(), time_zone: 'America/New_York', fell_due_local: '2026-03-08 00:00',
    };
    const text = formatRunDetail(runRow(), [failure], 1);

    expect(text).toMatch(/key\s+workspace\s+zone\s+fell due \(local\)\s+status/);
    expect(text).toMatch(/k-2\s+w-2\s+America\/New_York\s+2026-03-08 00:00\s+retry/);
  });
});
