import { createHash } from 'node:crypto';

/**
 * The Idempotency-Keys accepted so far. Benchmarks send a million notifications, so each
 * key is kept as its 20-byte SHA-1 digest: half the memory of the ~70-character key
 * itself, and a collision is out of reach at that scale.
 */
export class AcceptedKeys {
  private readonly digests = new Set<string>();

  has(key: string): boolean {
    return this.digests.has(digest(key));
  }

  add(key: string): void {
    this.digests.add(digest(key));
  }

  get size(): number {
    return this.digests.size;
  }

  clear(): void {
    this.digests.clear();
  }
}

function digest(key: string): string {
  // latin1 maps each byte to one character, which V8 stores as a one-byte string.
  return createHash('sha1').update(key).digest().toString('latin1');
}
