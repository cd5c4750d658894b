/**
 * Mulberry32: uniform numbers in [0, 1) from a 32-bit seed. Deterministic resampling in the domain
 * (standard errors, noise floors) uses it so the same statistics always give the same decision; the
 * benchmarks and test fixtures use it for reproducible synthetic batches (local/prng.ts re-exports it).
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
