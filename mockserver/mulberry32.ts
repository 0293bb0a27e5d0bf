/**
 * A small seeded generator of floats in [0, 1), so that a run's random faults can be
 * replayed. Not for anything that must be unpredictable.
 */
export function mulberry32(seed: number): () => number {
  // Kept as int32 on every step: a float state would lose precision after a few million draws.
  let state = seed | 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
