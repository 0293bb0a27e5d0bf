import { describe, expect, it } from 'vitest';
import { renderRunChart, renderWeekChart, type ChartRun } from '../../src/console/run-chart.js';

const run = (overrides: Partial<ChartRun>): ChartRun =>
  ({ job: 'send-delay-notifications', startedAt: new Date('2026-12-04T10:00:00Z'), durationMs: 1000, sent: 0, failed: 0, ...overrides });

describe('renderRunChart', () => {
  it('draws a bar per run, failed stacked on sent, and a duration line, with a summary for screen readers', () => {
    const svg = renderRunChart([run({ sent: 10, durationMs: 2000 }), run({ sent: 5, failed: 5, durationMs: 4000 }), run({ durationMs: null })]).value;
    expect(svg).toMatch(/^<svg role="img" width="240" height="48"/);
    expect(svg).toContain('aria-label="3 runs in the last day: 15 sent, 5 failed; longest 4.0 s"');
    // The third run sent nothing: no bar, only its place.
    expect(svg.match(/fill="#3a9a5b"/g)).toHaveLength(2);
    expect(svg.match(/fill="#c0392b"/g)).toHaveLength(1);
    // 24 slots of 10 px, the three runs in the last three; the second run's bar reaches the top: 10 of 10 at most.
    expect(svg).toContain('<rect x="220.0" y="2" width="9.0" height="23.0" fill="#c0392b">');
    expect(svg).toContain('<polyline points="214.5,25.0 224.5,2.0"');
    expect(svg).not.toContain('style=');
  });

  it('says so when there was no run', () => {
    expect(renderRunChart([]).value).toBe('<span>no run in the last day</span>');
  });

  it('draws the last week as a bar per UTC day, oldest first, a day without runs left empty', () => {
    const day = (date: string, sent: number, failed: number, longestMs: number) => ({ job: 'send-delay-notifications', day: date, runs: 96, sent, failed, longestMs });
    const svg = renderWeekChart([day('2026-11-28', 100, 0, 2000), day('2026-12-04', 50, 50, 8000)], '2026-12-04').value;
    expect(svg).toContain('aria-label="192 runs in the last 7 days: 150 sent, 50 failed; longest 8.0 s"');
    // 7 slots of 240/7 px: the first day at x=0, today at the last slot; 2026-11-29 to 12-03 drew nothing.
    expect(svg.match(/<rect /g)).toHaveLength(3);
    expect(svg).toContain('<rect x="0.0" y="2" width="33.3"');
    expect(svg).toContain('<rect x="205.7" y="25" width="33.3" height="23.0" fill="#3a9a5b"></rect><rect x="205.7" y="2" width="33.3" height="23.0" fill="#c0392b">');
    expect(svg).toContain('<polyline points="16.6,36.5 222.4,2.0"');
    expect(renderWeekChart([]).value).toBe('<span>no run in the last 7 days</span>');
  });
});
