import { Option } from 'commander';
import { defineJob } from '../../runner/job.type.js';
import { integerBetween, parseIsoDate } from '../../runner/option-parsers.js';
import type { SendDelayNotificationsOptions } from './delayed-todo.type.js';
import { JOB_NAME } from './notification-key.js';
import { sendDelayNotifications } from './send-delay-notifications.js';

export const sendDelayNotificationsJob = defineJob<SendDelayNotificationsOptions>({
  name: JOB_NAME,
  description: 'Sends one notification per todo past its due date, once, however often it runs.',
  options: () => [
    new Option('--date <YYYY-MM-DD>', 'run date: todos due before it are delayed (default: today, UTC)').argParser(parseIsoDate),
    new Option('--concurrency <n>', 'notification requests in flight at most').argParser(integerBetween(1, 1024))
      .env('SWEEP_CONCURRENCY').default(16),
    new Option('--page-size <n>', 'todos read and claimed per page').argParser(integerBetween(1, 10_000))
      .env('SWEEP_PAGE_SIZE').default(500),
    new Option('--dry-run', 'show what would be sent; send and record nothing').default(false),
    new Option('--lease-seconds <n>', 'how long a claim holds if its run dies; live runs renew theirs')
      .argParser(integerBetween(1, 86_400)).env('SWEEP_LEASE_SECONDS').default(120),
    new Option('--max-attempts <n>', 'runs that may try one notification before it is dead')
      .argParser(integerBetween(1, 1000)).env('SWEEP_MAX_ATTEMPTS').default(5),
    new Option('--retry-backoff-seconds <n>', 'wait before a later run retries a transient failure; doubles per attempt')
      .argParser(integerBetween(0, 86_400)).env('SWEEP_RETRY_BACKOFF_SECONDS').default(60),
    new Option('--max-rate <n>', 'notification requests per second at most, retries included; per run: '
      + 'K runners send up to K times this').argParser(integerBetween(1, 100_000)).env('SWEEP_MAX_RATE'),
    new Option('--grace-seconds <n>', 'after SIGTERM/SIGINT, how long requests in flight may take to finish '
      + '(keep it below the pod\'s terminationGracePeriodSeconds)').argParser(integerBetween(0, 3600))
      .env('SWEEP_GRACE_SECONDS').default(20),
  ],
  database: 'schema',
  recordsRun: (options) => !options.dryRun,
  run: sendDelayNotifications,
});
