/**
 * A mergeable, *canonical* distribution sketch for numeric values: the multiset of values rounded to a
 * floating-point grid that gets coarser only as much as needed to keep at most `capacity` distinct cells.
 *
 * Levels form a fixed chain of nested grids:
 * - level 0 keeps every distinct value exactly (the sketch *is* the data while it has few distinct values);
 * - level j >= 1 truncates a value to `21 - j` significant mantissa bits (relative cell width 2^-(21-j)),
 *   i.e. a log-scaled grid like HDR histograms or DDSketch, but with a precision chosen from the data.
 *
 * Each grid refines the next one, and the level of a sketch is the smallest level at which the values have
 * at most `capacity` cells. That level depends only on the multiset of values, never on the order in which
 * they arrived or were merged, so the sketch is a pure function of the multiset: merge is exactly
 * associative and commutative, and merging partial sketches gives bit-for-bit the sketch of all the data.
 */

/** Largest level: 0 significant bits, one cell per binary order of magnitude (octave). */
export const MAX_LEVEL = 21;

/** Default cell budget: about 1.5 KB serialized at a million events, accurate to ~1e-3 in CDF. */
export const DEFAULT_CAPACITY = 320;

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
/** Index of the high 32-bit word of a float64 in `u32` (platform endianness). */
const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;
const LO = 1 - HI;

/** Mergeable sketch state. `cells` maps a cell key to its count; keys are values (level 0) or int32 codes. */
export interface Sketch {
  level: number;
  capacity: number;
  cells: Map<number, number>;
}

export function emptySketch(capacity = DEFAULT_CAPACITY): Sketch {
  return { level: 0, capacity, cells: new Map() };
}

/**
 * Cell key of a finite value at a level. Level >= 1: the high word of the float64 (sign, exponent and
 * the top 20 mantissa bits) with the low `level - 1` mantissa bits cleared, as an int32.
 */
export function cellKey(x: number, level: number): number {
  if (x === 0) return 0;
  if (level === 0) return x;
  f64[0] = x;
  const hi = u32[HI]!;
  return (hi & ~((1 << (level - 1)) - 1)) | 0;
}

/** Re-key a level-`from` key at a coarser level `to` (grids are nested, so this is well defined). */
function rekey(key: number, from: number, to: number): number {
  if (from === 0) return cellKey(key, to);
  return (key & ~((1 << (to - 1)) - 1)) | 0;
}

/** Add `count` observations of a finite value. Hot path: a map update and, rarely, a coarsening. */
export function sketchAdd(s: Sketch, x: number, count = 1): void {
  const key = cellKey(x, s.level);
  const cells = s.cells;
  const prev = cells.get(key);
  if (prev === undefined) {
    cells.set(key, count);
    if (cells.size > s.capacity) compact(s);
  } else {
    cells.set(key, prev + count);
  }
}

/** Coarsen to the smallest level (>= current) whose grid has at most `capacity` cells. */
function compact(s: Sketch): void {
  while (s.cells.size > s.capacity && s.level < MAX_LEVEL) coarsenTo(s, s.level + 1);
}

function coarsenTo(s: Sketch, level: number): void {
  if (level <= s.level) return;
  const next = new Map<number, number>();
  for (const [key, count] of s.cells) {
    const k = rekey(key, s.level, level);
    next.set(k, (next.get(k) ?? 0) + count);
  }
  s.cells = next;
  s.level = level;
}

/** Merge two sketches into a new one; equal to the sketch built from all values of both. */
export function mergeSketches(a: Sketch, b: Sketch): Sketch {
  const capacity = Math.min(a.capacity, b.capacity);
  const out: Sketch = { level: a.level, capacity, cells: new Map(a.cells) };
  coarsenTo(out, Math.max(a.level, b.level));
  for (const [key, count] of b.cells) {
    const k = rekey(key, b.level, out.level);
    out.cells.set(k, (out.cells.get(k) ?? 0) + count);
  }
  compact(out);
  return out;
}

/** Total number of values in the sketch. */
export function sketchCount(s: Sketch): number {
  let n = 0;
  for (const c of s.cells.values()) n += c;
  return n;
}

/** Bounds [lo, hi] of a cell, in value order. Level 0 cells are points. */
export function cellBounds(key: number, level: number): [number, number] {
  if (level === 0 || key === 0) return [key, key];
  const step = 1 << (level - 1);
  const absHi = key & 0x7fffffff;
  u32[LO] = 0;
  u32[HI] = absHi;
  const lower = f64[0]!;
  u32[HI] = absHi + step;
  const upper = f64[0]!;
  return key < 0 ? [-upper, -lower] : [lower, upper];
}

/**
 * A sorted, disjoint piecewise description of the sketch's distribution: point masses (lo === hi) and
 * uniform masses on [lo, hi]. The outermost cells are clamped to the exact [min, max] of the data.
 */
export interface Piece {
  lo: number;
  hi: number;
  mass: number;
}

export function sketchPieces(s: Sketch, min: number, max: number): Piece[] {
  const pieces: Piece[] = [];
  for (const [key, count] of s.cells) {
    const [lo, hi] = cellBounds(key, s.level);
    pieces.push({ lo: Math.max(lo, min), hi: Math.min(hi, max), mass: count });
  }
  pieces.sort((p, q) => p.lo - q.lo || p.hi - q.hi);
  return pieces;
}

/** Cells sorted in value order, as [key, count] pairs (the canonical form used for serialization). */
export function sortedCells(s: Sketch): Array<[number, number]> {
  const cells = [...s.cells.entries()];
  if (s.level === 0) cells.sort((a, b) => a[0] - b[0]);
  else cells.sort((a, b) => cellBounds(a[0], s.level)[0] - cellBounds(b[0], s.level)[0]);
  return cells;
}
