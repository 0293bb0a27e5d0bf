import type { DeliveryLedger } from '../ledger/deliveries.js';
import { activeSpan, startSpan, tracingEnabled, withinSpan, withSpan, type TraceSpan } from '../tracing/tracing.js';
import type { NotificationPage } from './item-pages.js';

/**
 * A run's pages in its trace: one span per page, under the run's, that covers reading it
 * (the statements of the read and of the ledger's check), claiming it, and every
 * notification sent from it, and ends once the last of them is settled. Pages overlap in
 * the trace as they do in the run (the next page is read while this one's requests are in
 * flight). Untraced, every method passes straight through.
 */
export interface PageTrace {
  read(pages: AsyncGenerator<NotificationPage>): AsyncGenerator<NotificationPage>;
  /** Runs the claiming and queueing of the current page inside its span. */
  within<T>(fn: () => T): T;
  /** A notification of the current page, queued: its page ends once it settles. */
  track(sending: Promise<unknown>): void;
  /** What became of the current page: how many of its items were claimed here or by another run. */
  claimed(counts: { claimed: number; considered: number; superseded?: number }): void;
}

const UNTRACED: PageTrace = {
  read: (pages) => pages,
  within: (fn) => fn(),
  track: () => undefined,
  claimed: () => undefined,
};

export function createPageTrace(): PageTrace {
  if (!tracingEnabled()) return UNTRACED;
  let current: { span: TraceSpan; sending: Array<Promise<unknown>> } | undefined;
  return {
    async* read(pages) {
      const iterator = pages[Symbol.asyncIterator]();
      for (let number = 1; ; number += 1) {
        const span = startSpan('page', { attributes: { 'sweep.page.number': number } });
        try {
          const next = await withinSpan(span, () => withSpan('read page', {}, () => iterator.next()));
          if (next.done) {
            // The read that found nothing more: a page of none, ended below.
            span.setAttribute('sweep.page.items', 0);
            return;
          }
          const page = next.value;
          span.setAttributes({ 'sweep.page.source': page.source, 'sweep.page.items': page.notifications.length,
            ...(page.superseded?.length ? { 'sweep.page.superseded': page.superseded.length } : {}),
            ...(page.notYet?.length ? { 'sweep.page.not_yet': page.notYet.length } : {}) });
          current = { span, sending: [] };
          yield page;
        } finally {
          const ending = current?.span === span ? current.sending : [];
          current = undefined;
          void Promise.allSettled(ending).then(() => span.end());
        }
      }
    },
    within: (fn) => (current ? withinSpan(current.span, fn) : fn()),
    track(sending) {
      current?.sending.push(sending);
    },
    claimed({ claimed, considered }) {
      current?.span.setAttributes({ 'sweep.page.claimed': claimed, 'sweep.page.claimed_elsewhere': considered - claimed });
    },
  };
}

/**
 * The ledger with each write of outcomes in a span of its own, under the run's span (a
 * batch holds outcomes of several pages), with how many outcomes it recorded.
 */
export function traceOutcomeWrites(ledger: DeliveryLedger): DeliveryLedger {
  const run = activeSpan();
  if (!run) return ledger;
  return {
    ...ledger,
    record: (outcomes) => withinSpan(run, () => withSpan('record outcomes', { attributes: { 'sweep.record.outcomes': outcomes.length } },
      () => ledger.record(outcomes))),
  };
}
