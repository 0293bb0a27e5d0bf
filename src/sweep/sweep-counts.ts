/** What a run counts, in one vocabulary for every notification job: the summary line, job_runs.counts and the metrics. */
export const newCounts = () => ({
  /** Items in the run's scope before it started, and how they stood (the job's survey). */
  inScope: 0,
  alreadySent: 0,
  previouslyFailed: 0,
  /** Items the scan found with no delivery yet. */
  found: 0,
  /** Deliveries the ledger owed (retry past its backoff, re-armed, a dead run's claim) that this run took up. */
  dueAgain: 0,
  /** Of those, not sent because their item no longer stood as it did (gone, moved): recorded superseded. */
  superseded: 0,
  claimed: 0,
  sent: 0,
  /** Of the sent, those the service had accepted before (409). */
  duplicates: 0,
  failedPermanently: 0,
  failedTransiently: 0,
  dead: 0,
  /** Held by another run as this one started, or claimed by another live run first. */
  claimedElsewhere: 0,
  /** Deliveries of the job waiting out a retry backoff when the run started. */
  backingOff: 0,
  workspacesWithoutToken: 0,
  /** Workspaces skipped because PostgreSQL does not know their time zone: their notifications stay owed. */
  workspacesInUnknownZone: 0,
  skippedWithoutToken: 0,
  released: 0,
  tokenFetches: 0,
});

export type SweepCounts = ReturnType<typeof newCounts>;

/** The counts of a job's survey: a job without one (its scope is all of history) keeps none of them. */
export const SURVEY_FIELDS = ['inScope', 'alreadySent', 'previouslyFailed'] as const;

/** The summary table at a terminal; `items` names the job's items ("delayed todos"). */
export function summaryTable(items: string): Array<[label: string, field: string]> {
  return [
    [`${items} in scope`, 'inScope'],
    ['already notified before this run', 'alreadySent'],
    ['counted to send before the first send', 'toSend'],
    ['  usual for the job now (it holds above --hold-factor x usual)', 'usual'],
    ['new: found this run', 'found'],
    ['due again: retries and re-armed', 'dueAgain'],
    ['  of which no longer true (superseded, not sent)', 'superseded'],
    ['sent', 'sent'],
    ['  of which already accepted (409)', 'duplicates'],
    ['failed permanently (recorded, skipped)', 'failedPermanently'],
    ['failed transiently (next run retries)', 'failedTransiently'],
    ['dead (out of attempts)', 'dead'],
    ['skipped: another run holds them', 'claimedElsewhere'],
    ['waiting out a retry backoff', 'backingOff'],
    ['skipped: no token for their workspace', 'skippedWithoutToken'],
    ['workspaces skipped: time zone unknown (owed)', 'workspacesInUnknownZone'],
    ['released unsent (run stopped early)', 'released'],
    ['tokens fetched', 'tokenFetches'],
    ['rate (notifications/s)', 'ratePerSecond'],
  ];
}

export function dryRunTable(items: string): Array<[label: string, field: string]> {
  return [[`${items} in scope`, 'inScope'], ['would send: new', 'found'], ['due again', 'dueAgain'],
    ['  of which no longer true (would not send)', 'superseded']];
}

/** The live line at a terminal: found so far, sent, failed, rate, elapsed. */
export function describeProgress(counts: SweepCounts, startedAt: number, now = performance.now()): string {
  const seconds = Math.max(0.001, (now - startedAt) / 1000);
  const failed = counts.failedPermanently + counts.failedTransiently;
  return `found ${counts.found + counts.dueAgain} · sent ${counts.sent} · failed ${failed} · ${Math.round(counts.sent / seconds)}/s · ${Math.round(seconds)} s`;
}

/** A run that leaves work for the next one ends with exit 75. */
export function leavesWork(counts: SweepCounts): boolean {
  return counts.failedTransiently > 0 || counts.skippedWithoutToken > 0 || counts.released > 0;
}
