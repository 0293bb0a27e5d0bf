import { setImmediate as nextMacrotask } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createInFlight } from '../../src/sweep/in-flight.js';

function deferred() {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Whether a promise has settled once every pending callback has had its turn. */
async function isSettled(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await nextMacrotask();
  return settled;
}

describe('createInFlight', () => {
  it('resolves waitBelow at once when fewer than the limit are in flight', async () => {
    const inFlight = createInFlight();
    inFlight.track(deferred().promise);

    expect(inFlight.count).toBe(1);
    expect(await isSettled(inFlight.waitBelow(2))).toBe(true);
  });

  it('resolves waitBelow at once when nothing is in flight', async () => {
    expect(await isSettled(createInFlight().waitBelow(1))).toBe(true);
  });

  it('waits until enough tracked work has finished', async () => {
    const inFlight = createInFlight();
    const work = [deferred(), deferred(), deferred()];
    for (const w of work) inFlight.track(w.promise);

    const waiting = inFlight.waitBelow(2);
    expect(await isSettled(waiting)).toBe(false);

    work[0]!.resolve();
    expect(await isSettled(waiting)).toBe(false);
    expect(inFlight.count).toBe(2);

    work[1]!.resolve();
    expect(await isSettled(waiting)).toBe(true);
    expect(inFlight.count).toBe(1);
  });

  it('counts rejected work as finished', async () => {
    const inFlight = createInFlight();
    const work = [deferred(), deferred()];
    for (const w of work) inFlight.track(w.promise);
    const waiting = inFlight.waitBelow(1);

    work[0]!.reject(new Error('send failed'));
    work[1]!.reject(new Error('send failed'));

    expect(await isSettled(waiting)).toBe(true);
    expect(inFlight.count).toBe(0);
  });

  it('resolves each of several waiters when its own limit is reached', async () => {
    const inFlight = createInFlight();
    const work = [deferred(), deferred(), deferred()];
    for (const w of work) inFlight.track(w.promise);
    const belowThree = inFlight.waitBelow(3);
    const belowOne = inFlight.waitBelow(1);
    const belowTwo = inFlight.waitBelow(2);

    work[2]!.resolve();
    expect(await isSettled(belowThree)).toBe(true);
    expect(await isSettled(belowTwo)).toBe(false);
    expect(await isSettled(belowOne)).toBe(false);

    work[0]!.reject(new Error('send failed'));
    expect(await isSettled(belowTwo)).toBe(true);
    expect(await isSettled(belowOne)).toBe(false);

    work[1]!.resolve();
    expect(await isSettled(belowOne)).toBe(true);
  });

  it('counts work tracked after a waiter started', async () => {
    const inFlight = createInFlight();
    const first = deferred();
    const second = deferred();
    inFlight.track(first.promise);
    const waiting = inFlight.waitBelow(1);
    inFlight.track(second.promise);

    first.resolve();
    expect(await isSettled(waiting)).toBe(false);

    second.resolve();
    expect(await isSettled(waiting)).toBe(true);
  });
});
