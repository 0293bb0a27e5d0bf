/**
 * A job's health in one word, as Sidekiq's and Oban's dashboards give it, with the
 * reason a person reads beside it. Worst first: the order the jobs page lists them in.
 */
export const HEALTH_STATES = ['storm', 'failing', 'overdue', 'held', 'paused', 'healthy'] as const;
export type HealthState = (typeof HEALTH_STATES)[number];

export interface JobHealth {
  state: HealthState;
  reason: string;
}

/**
 * How often each job is meant to succeed: its CronJob's schedule in deploy/ (a test keeps
 * the two the same). A job not listed is taken as daily.
 */
export const EXPECTED_INTERVAL_SECONDS: Record<string, number> = {
  'send-delay-notifications': 15 * 60,
  // Every 15 minutes since each workspace's notifications fall due at its own local hour (issue 29).
  'send-due-soon-reminders': 15 * 60,
  'send-workspace-digests': 15 * 60,
};
const DAILY = 86_400;
/** A run may start late or take a while: overdue once half an interval more has passed without a success. */
const SLACK = 1.5;

export interface HealthInput {
  job: string;
  paused: { by: string; reason: string | null } | null;
  /** Its runs hold on a storm (the brake): what they would send against usual, waiting for an approval or a fix. */
  storm?: { count: number; usual: number } | null;
  /** The last runs that went through (succeeded, partial or failed; not a paused or interrupted one), newest first: two are enough. */
  recentRuns: Array<{ status: string; error: string | null }>;
  secondsSinceLastSuccess: number | null;
  /** Deliveries that wait for an operator: dead, and failed for good. */
  waitingForOperator: number;
}

/**
 * storm: its runs hold, sending nothing: far more to send than usual (sweep approve).
 * paused: an operator paused it (that explains the rest, and says who to ask). failing:
 * the last run that went through failed, or the last two did not succeed (failed or
 * partial). overdue: no success within the job's expected interval (with its slack), or
 * never one. held: runs succeed but the ledger holds dead or failed deliveries that no
 * run will send until an operator re-arms them. Else healthy.
 */
export function judgeHealth(input: HealthInput): JobHealth {
  // First: a storm waits for a person, whatever else (a pause shows beside it on the page).
  if (input.storm) {
    return { state: 'storm', reason: `runs hold: ${input.storm.count.toLocaleString('en-US')} to send where `
      + `${input.storm.usual.toLocaleString('en-US')} are usual (approve, or fix the data)` };
  }
  if (input.paused) return { state: 'paused', reason: `paused by ${input.paused.by}${input.paused.reason ? `: ${input.paused.reason}` : ''}` };
  const [last, before] = input.recentRuns;
  const interval = EXPECTED_INTERVAL_SECONDS[input.job] ?? DAILY;
  if (last?.status === 'failed' || (last && before && last.status !== 'succeeded' && before.status !== 'succeeded')) {
    const what = last.status === 'failed' && before?.status !== 'failed' ? 'the last run failed' : `the last two runs ${last.status === before?.status ? last.status : 'did not succeed'}`;
    return { state: 'failing', reason: `${what}${last.error ? `: ${firstLine(last.error)}` : ''}` };
  }
  if (input.secondsSinceLastSuccess === null || input.secondsSinceLastSuccess > interval * SLACK) {
    const expected = `expected every ${describeSeconds(interval)}`;
    return { state: 'overdue', reason: input.secondsSinceLastSuccess === null ? `no successful run yet (${expected})`
      : `no success for ${describeSeconds(input.secondsSinceLastSuccess)} (${expected})` };
  }
  if (input.waitingForOperator > 0) {
    return { state: 'held', reason: `${input.waitingForOperator.toLocaleString('en-US')} dead or failed deliveries wait for a re-arm` };
  }
  return { state: 'healthy', reason: `succeeded ${describeSeconds(input.secondsSinceLastSuccess)} ago` };
}

function firstLine(text: string): string {
  const line = text.split('\n', 1)[0]!;
  return line.length > 160 ? `${line.slice(0, 159)}…` : line;
}

export function describeSeconds(seconds: number): string {
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86_400)} d`;
}
