import { setTimeout as sleep } from 'node:timers/promises';
import { DatabaseUnresponsiveError, StatementTimeoutError } from '../database/statement-errors.js';
import type { DeliveryLedger, DeliveryOutcome, RecordedOutcomes } from './deliveries.js';

export interface OutcomeRecorderOptions {
  /** Flush once this many outcomes wait (default 200). */
  maxBatch?: number;
  /** Flush at the latest this long after the first waiting outcome (default 250 ms). */
  flushIntervalMs?: number;
  /** Told what each flush wrote, e.g. to log the deliveries that just went dead. */
  onRecorded?: (recorded: RecordedOutcomes, outcomes: DeliveryOutcome[]) => void;
  /**
   * Told when a write fails and is about to be tried again (`failing`), when a write goes
   * through after that (`recovered`), and when it failed for good (`failed`): a run sends
   * nothing new while it cannot record what it sends.
   */
  onLedgerState?: (state: 'failing' | 'recovered' | 'failed', error?: Error) => void;
}

export interface OutcomeRecorder {
  add(outcome: DeliveryOutcome): void;
  /** Writes everything added so far; rejects if the ledger cannot be written. */
  flush(): Promise<void>;
  /** Set once a flush failed for good: the run must stop, its claims expire and are retried. */
  readonly failure: Error | undefined;
  /** Outcomes added but not yet written: the window a crash would leave to the lease. */
  readonly unrecorded: number;
}

/**
 * Writes outcomes to the ledger in batches: one statement per batch, never one round
 * trip per item, and at most `flushIntervalMs` between a send and its record, so the
 * window of sent-but-unrecorded items stays small.
 */
export function createOutcomeRecorder(ledger: DeliveryLedger, options: OutcomeRecorderOptions = {}): OutcomeRecorder {
  const maxBatch = options.maxBatch ?? 200;
  const flushIntervalMs = options.flushIntervalMs ?? 250;
  let buffer: DeliveryOutcome[] = [];
  let writing = 0;
  let timer: NodeJS.Timeout | undefined;
  let chain: Promise<void> = Promise.resolve();
  let failure: Error | undefined;

  const write = async (batch: DeliveryOutcome[]) => {
    // A brief database hiccup should not cost the run; a longer one stops it.
    for (let attempt = 1; ; attempt += 1) {
      try {
        const recorded = await ledger.record(batch);
        if (attempt > 1) options.onLedgerState?.('recovered');
        options.onRecorded?.(recorded, batch);
        return;
      } catch (error) {
        // A statement that waited its whole bound (a lock held elsewhere), or that the
        // database never answered, would only wait again.
        if (attempt >= 3 || error instanceof StatementTimeoutError || error instanceof DatabaseUnresponsiveError) {
          options.onLedgerState?.('failed', error as Error);
          throw error;
        }
        if (attempt === 1) options.onLedgerState?.('failing', error as Error);
        await sleep(100 * attempt);
      }
    }
  };

  const flush = (): Promise<void> => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (buffer.length > 0) {
      const batch = buffer;
      buffer = [];
      writing += batch.length;
      chain = chain.then(async () => {
        if (failure) return;
        try {
          await write(batch);
        } catch (error) {
          failure = error as Error;
        } finally {
          writing -= batch.length;
        }
      });
    }
    return chain.then(() => {
      if (failure) throw failure;
    });
  };

  return {
    add(outcome) {
      buffer.push(outcome);
      if (buffer.length >= maxBatch) void flush().catch(() => undefined);
      else timer ??= setTimeout(() => void flush().catch(() => undefined), flushIntervalMs);
    },
    flush,
    get failure() {
      return failure;
    },
    get unrecorded() {
      return buffer.length + writing;
    },
  };
}
