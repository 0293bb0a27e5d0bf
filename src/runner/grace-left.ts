/** Kept back from a grace period for the process's own exit. */
const GRACE_MARGIN_MS = 250;

/**
 * What is left of a stopped run's grace period for its last words (its metrics, its last
 * spans), from the moment the signal came: none of them may keep the process past the
 * bound its scheduler gives it. Undefined for a run no signal stopped.
 */
export function graceLeftMs(stoppedAt: number | undefined, graceMs: number): number | undefined {
  return stoppedAt === undefined ? undefined : Math.max(0, stoppedAt + graceMs - GRACE_MARGIN_MS - performance.now());
}
