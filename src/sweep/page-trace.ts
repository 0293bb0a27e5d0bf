import type { DeliveryLedger } from '../ledger/deliveries.js';
import { startSpan, tracingEnabled, withSpan, type TraceSpan } from '../tracing/tracing.js';
import type { NotificationPage } from './item-pages.js';

/**
 * A run's pages in its trace: one span per page, under the run's, that covers reading it
 * (a `read page` span: the read and the ledger's check), claiming it, and every
 * notification sent from it (their spans are its children), and ends once the last of
 * them is settled. Pages overlap in the trace as they do in the run (the next page is read
 * while this one's requests are in flight). The statements are the run's children (its
 * pool's): parents are passed, never an async context. Untraced, everything passes through.
 */
export interface PageTrace {
  read(pages: AsyncGenerator<NotificationPage>): AsyncGenerator<NotificationPage>;
  /** The current page's span: the parent of its notifications. */
  span(): TraceSpan | undefined;
  /** A notification of the current page, queued: its page ends once it settles. */
  track(sending: Promise<unknown>): void;
  /** What became of the current page: how many of its items were claimed here or by another run. */
  claimed(counts: { claimed: number; considered: number; superseded?: number }): void;
}

const UNTRACED: PageTrace = {
  read: (pages) => pages,
  span: () => undefined,
  track: () => undefined,
  claimed: () => undefined,
};

export function createPageTrace(run: TraceSpan | undefined): PageTrace {
  if (!tracingEnabled() || !run) return UNTRACED;
  let current: { span: TraceSpan; sending: Array<Promise<unknown>> } | undefined;
  return {
    async* read(pages) {
      const iterator = pages[Symbol.asyncIterator]();
      for (let number = 1; ; number += 1) {
        const span = startSpan('page', { parent: run, attributes: { 'sweep.page.number': number } });
        try {
          const next = await withSpan('read page', { parent: span }, () => iterator.next());
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
    span: () => current?.span,
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
export function traceOutcomeWrites(ledger: DeliveryLedger, run: TraceSpan | undefined): DeliveryLedger {
  if (!tracingEnabled() || !run) return ledger;
  return {
    ...ledger,
    record: (outcomes) => withSpan('record outcomes', { parent: run, attributes: { 'sweep.record.outcomes': outcomes.length } },
      () => ledger.record(outcomes)),
  };
}
