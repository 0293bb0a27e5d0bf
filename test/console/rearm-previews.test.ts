import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { createRearmPreviews } from '../../src/console/rearm-previews.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Keys as the database hands them over: flat strings of 100 characters, each of its own. */
let serial = 0;
const keysOf = (n: number) => Array.from({ length: n }, () => {
  serial += 1;
  return Buffer.from(`send-delay-notifications:${String(serial).padStart(72, '0')}:2026-12-07`, 'latin1').toString('latin1');
});

describe('re-arm previews', () => {
  it('hold at most 50,000 keys and 20 previews whatever a client sends: 200 previews of 10,000 keys add under 32 MB', () => {
    const previews = createRearmPreviews();
    gc();
    const before = process.memoryUsage().heapUsed;
    let last;
    for (let i = 0; i < 200; i += 1) last = previews.create({ job: 'send-delay-notifications' }, keysOf(10_000), 'olivia');
    gc();
    const grown = process.memoryUsage().heapUsed - before;

    expect(previews.held()).toEqual({ previews: 5, keys: 50_000 });
    expect(grown).toBeLessThan(32 * 1024 * 1024);
    expect(previews.take(last!.id)?.keys).toHaveLength(10_000);
  }, 60_000);

  it('push out the oldest first, by count and by age; one pushed out answers as expired', () => {
    let now = 0;
    const previews = createRearmPreviews(() => now, { maxPreviews: 3, maxKeys: 100, ageMs: 1000 });
    const [a, b, c, d] = [1, 2, 3, 4].map(() => previews.create({}, ['k'], 'olivia'));
    expect(previews.get(a!.id)).toBeUndefined();
    expect(previews.get(b!.id)).toBeDefined();
    const big = previews.create({}, keysOf(99), 'olivia');
    expect(previews.held()).toEqual({ previews: 2, keys: 100 });
    expect(previews.get(c!.id)).toBeUndefined();
    expect(previews.get(d!.id)).toBeDefined();
    now = 1000;
    expect(previews.take(big.id)).toBeUndefined();
    previews.create({}, ['k'], 'olivia');
    expect(previews.held()).toEqual({ previews: 1, keys: 1 });
  });

  it('keep a single preview larger than the key bound: the cap on a filter bounds it', () => {
    const previews = createRearmPreviews(Date.now, { maxKeys: 10 });
    const one = previews.create({}, keysOf(20), 'olivia');
    expect(previews.take(one.id)?.keys).toHaveLength(20);
  });
});
