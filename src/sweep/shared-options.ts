import { Option } from 'commander';
import { integerBetween, numberBetween, parseIsoDate, parseIsoInstant, parseLocalTime } from '../runner/option-parsers.js';

/**
 * The options every notification job has, with their environment variables and
 * defaults: declared once, so they behave the same in every job.
 */
export function sharedOptions(runDate: string, localTime?: string): Option[] {
  return [
    new Option('--date <YYYY-MM-DD>', `backfill of a local day in every workspace's zone, whatever the hour: ${runDate} `
      + '(default: none, the run sends what has fallen due by now; a day after today is refused without --allow-future-date)')
      .argParser(parseIsoDate).conflicts('at'),
    new Option('--at <instant>', 'run as of this instant (ISO-8601 with its offset, e.g. 2026-03-08T07:00:00Z): send what has '
      + 'fallen due by then in each workspace\'s zone (default: now, by the database\'s clock; a later instant is refused '
      + 'without --dry-run or --allow-future-date)').argParser(parseIsoInstant),
    ...(localTime ? [new Option('--local-time <HH:MM>', 'the local time of day, in each workspace\'s zone, its notifications '
      + 'fall due at').argParser(parseLocalTime).default(localTime)] : []),
    new Option('--concurrency <n>', 'notification requests in flight at most').argParser(integerBetween(1, 1024))
      .env('SWEEP_CONCURRENCY').default(16),
    new Option('--page-size <n>', 'items read per page').argParser(integerBetween(1, 10_000))
      .env('SWEEP_PAGE_SIZE').default(500),
    new Option('--allow-future-date', 'accept a --date after today or an --at after now (by the database\'s clock), refused '
      + 'otherwise (exit 64): a run would notify about what is not true yet').default(false),
    new Option('--dry-run', 'show what would be sent; send and record nothing (may take a future --date)').default(false),
    new Option('--lease-seconds <n>', 'how long a claim holds if its run dies; live runs renew theirs')
      .argParser(integerBetween(1, 86_400)).env('SWEEP_LEASE_SECONDS').default(120),
    new Option('--max-attempts <n>', 'runs that may try one notification before it is dead')
      .argParser(integerBetween(1, 1000)).env('SWEEP_MAX_ATTEMPTS').default(5),
    new Option('--retry-backoff-seconds <n>', 'wait before a later run retries a transient failure; doubles per attempt')
      .argParser(integerBetween(0, 86_400)).env('SWEEP_RETRY_BACKOFF_SECONDS').default(60),
    new Option('--max-rate <n>', 'notification requests per second at most for the whole job, retries included: '
      + 'its live runners share it, and a lone one has all of it').argParser(integerBetween(1, 100_000)).env('SWEEP_MAX_RATE'),
    new Option('--grace-seconds <n>', 'after SIGTERM/SIGINT, how long requests in flight may take to finish '
      + '(keep it below the pod\'s terminationGracePeriodSeconds)').argParser(integerBetween(0, 3600))
      .env('SWEEP_GRACE_SECONDS').default(20),
    // The brake on a storm (hold-check.ts): counted before the first send, against what is usual.
    new Option('--hold-factor <x>', 'hold, sending nothing, when the run would send more than this many times what is usual '
      + 'for the job at this time of day (learned from its run history)').argParser(numberBetween(1, 1_000_000))
      .env('SWEEP_HOLD_FACTOR').default(10),
    new Option('--hold-min <n>', 'never hold a run that would send this many or fewer; a job with no history holds above it')
      .argParser(integerBetween(0, 1_000_000_000)).env('SWEEP_HOLD_MIN').default(1000),
    new Option('--no-hold', 'turn the brake off for this run: send without counting first, whatever the count (a flag '
      + 'for one deliberate run: it has no environment variable, so it cannot stay on by mistake)'),
  ];
}
