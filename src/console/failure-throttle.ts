/**
 * Failed sign-ins counted per client: once one client has failed `maxFailures` times in a
 * window, its further failures answer 429 with Retry-After instead of 401. It only ever
 * answers a failure: a correct token signs in whatever the count of its address (an
 * attacker's failures from an address, or from the ingress everyone shares, lock no one
 * out). Guessing is not what it stops: a token has at least 24 characters. It keeps a
 * scanner's noise short and says, in the log and the answer, that someone is trying.
 */
export function createFailureThrottle(options: { maxFailures?: number; windowMs?: number; now: () => number }) {
  const maxFailures = options.maxFailures ?? 10;
  const windowMs = options.windowMs ?? 5 * 60_000;
  const { now } = options;
  const failures = new Map<string, { count: number; since: number }>();

  const waitOf = (client: string): number => {
    const entry = failures.get(client);
    if (!entry || entry.count < maxFailures) return 0;
    const wait = entry.since + windowMs - now();
    if (wait <= 0) {
      failures.delete(client);
      return 0;
    }
    return Math.ceil(wait / 1000);
  };

  return {
    /**
     * Seconds the failing `clients` must wait, or 0: the most of each address the request
     * is known by (its TCP peer, which no header can forge, and the address X-Forwarded-For
     * gives when the proxy is trusted).
     */
    retryAfterSeconds(clients: string[]): number {
      return Math.max(0, ...clients.map(waitOf));
    },
    recordFailure(clients: string[]): void {
      for (const client of clients) {
        const entry = failures.get(client);
        if (!entry || entry.since + windowMs <= now()) failures.set(client, { count: 1, since: now() });
        else entry.count += 1;
        // A flood of clients must not grow the map without bound: forget the oldest.
        if (failures.size > 100_000) failures.delete(failures.keys().next().value as string);
      }
    },
  };
}
