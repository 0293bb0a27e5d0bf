/**
 * Counts work that has been handed to p-limit but not finished, so a producer can
 * wait until the queue is short again: memory stays at about one page however many
 * items there are, while the next page is read before the current one drains.
 */
export interface InFlight {
  track(work: Promise<unknown>): void;
  /** Resolves once fewer than `limit` tracked items are unfinished. */
  waitBelow(limit: number): Promise<void>;
  readonly count: number;
}

export function createInFlight(): InFlight {
  let count = 0;
  let waiters: Array<{ limit: number; resolve: () => void }> = [];
  const settle = () => {
    count -= 1;
    if (waiters.length === 0) return;
    waiters = waiters.filter((waiter) => {
      if (count >= waiter.limit) return true;
      waiter.resolve();
      return false;
    });
  };
  return {
    track(work) {
      count += 1;
      work.then(settle, settle);
    },
    waitBelow(limit) {
      if (count < limit) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ limit, resolve }));
    },
    get count() {
      return count;
    },
  };
}
