/**
 * The categorical top-K that stays exactly mergeable: exact counts while a feature has at most `topK`
 * categories; beyond that a category keeps its own count only if the low `level` bits of its FNV-1a hash
 * are zero (`level` the smallest that keeps at most `topK` tracked), the others are pooled in `other`.
 * The tracked set depends only on the set of categories seen, so merges are exactly associative.
 */
import type { CategoricalSummary } from "./profile";

/** FNV-1a 32-bit hash of a string: decides which categories stay tracked beyond `topK`. */
export function categoryHash(c: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < c.length; i++) {
    h ^= c.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Whether category `c` keeps its own count at hash level `level` (every category at level 0). */
export function tracked(c: string, level: number): boolean {
  return level === 0 || (categoryHash(c) & ((1 << level) - 1)) === 0;
}

/** Add `count` occurrences of category `c`, raising the level when more than `topK` are tracked. */
export function addCategory(s: CategoricalSummary, c: string, count: number): void {
  const prev = s.counts.get(c);
  if (prev !== undefined) {
    s.counts.set(c, prev + count);
  } else if (tracked(c, s.level)) {
    s.counts.set(c, count);
    if (s.counts.size > s.topK) raiseLevel(s);
  } else {
    s.other += count;
  }
}

/** Raise the hash level (at least to `atLeast`) until at most `topK` categories are tracked. */
export function raiseLevel(s: CategoricalSummary, atLeast = s.level): void {
  let level = Math.max(s.level, atLeast);
  const prune = (): void => {
    for (const [c, n] of s.counts) {
      if (!tracked(c, level)) {
        s.counts.delete(c);
        s.other += n;
      }
    }
  };
  prune();
  while (s.counts.size > s.topK && level < 31) {
    level++;
    prune();
  }
  s.level = level;
}

/** Add `by` to the count of `key` in a count map. */
export function addCount<K>(m: Map<K, number>, k: K, by = 1): void {
  m.set(k, (m.get(k) ?? 0) + by);
}
