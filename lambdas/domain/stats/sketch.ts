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

/** Scratch space reused by every compaction (single-threaded; never held across calls). */
let scratchCodes = new Int32Array(1024);

/**
 * Open-addressing hash table from cell key (a float64: a value at level 0, an int32 code above) to count.
 * Several times faster than a `Map` on the ingest hot path; counts of 0 mark empty slots. Slot `h` holds its
 * key at `cells[2h]` and its count at `cells[2h + 1]`: a probe touches one cache line, not two.
 */
export class CellTable {
  private cells: Float64Array;
  private mask: number;
  size = 0;

  constructor(slots = 16) {
    this.cells = new Float64Array(slots * 2);
    this.mask = slots - 1;
  }

  /**
   * murmur3's finalizer over the key: cell keys have many zero low bits, so the bits must be mixed. Int32 keys
   * (every key above level 0) are mixed directly; other values through both words of their float64.
   */
  private slot(key: number): number {
    let h: number;
    if ((key | 0) === key) h = Math.imul(key, 0x9e3779b1);
    else {
      f64[0] = key;
      h = u32[0]! ^ Math.imul(u32[1]!, 0x9e3779b1);
    }
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    return h ^ (h >>> 16);
  }

  /** Add `count` to a key's count; returns true if the key is new. */
  add(key: number, count: number): boolean {
    const cells = this.cells;
    const mask = this.mask;
    let h = this.slot(key) & mask;
    for (;;) {
      const c = cells[2 * h + 1]!;
      if (c === 0) {
        cells[2 * h] = key;
        cells[2 * h + 1] = count;
        if (++this.size * 2 > mask) this.grow();
        return true;
      }
      if (cells[2 * h] === key) {
        cells[2 * h + 1] = c + count;
        return false;
      }
      h = (h + 1) & mask;
    }
  }

  get(key: number): number | undefined {
    const cells = this.cells;
    let h = this.slot(key) & this.mask;
    for (;;) {
      const c = cells[2 * h + 1]!;
      if (c === 0) return undefined;
      if (cells[2 * h] === key) return c;
      h = (h + 1) & this.mask;
    }
  }

  private grow(slots = this.cells.length): void {
    const cells = this.cells;
    this.cells = new Float64Array(slots * 2);
    this.mask = slots - 1;
    this.size = 0;
    for (let i = 0; i < cells.length; i += 2) if (cells[i + 1]! > 0) this.add(cells[i]!, cells[i + 1]!);
  }

  /** Make room for `entries` keys at once (instead of doubling step by step as they come). */
  reserve(entries: number): void {
    const slots = tableSlotsFor(entries);
    if (slots * 2 > this.cells.length) this.grow(slots);
  }

  /**
   * Write every key re-keyed from level `from` to level `to` into `out`, in slot order; returns how many.
   * `out` must hold at least `size` entries. (Compaction's hot loop: no closure, no allocation.)
   */
  rekeyInto(out: Int32Array, from: number, to: number): number {
    const cells = this.cells;
    let n = 0;
    for (let i = 0; i < cells.length; i += 2) if (cells[i + 1]! > 0) out[n++] = rekey(cells[i]!, from, to);
    return n;
  }

  /**
   * Make `target` a table of `slots` slots holding this table's cells re-keyed from level `from` to level `to`
   * (cells that fall together are merged), inserted in this table's slot order: the same layout as adding
   * them one by one to a new `CellTable(slots)`, but reusing `target`'s array when it has that size.
   */
  rekeyTo(target: CellTable, from: number, to: number, slots: number): void {
    if (target.cells.length === slots * 2) target.cells.fill(0);
    else {
      target.cells = new Float64Array(slots * 2);
      target.mask = slots - 1;
    }
    target.size = 0;
    const cells = this.cells;
    for (let i = 0; i < cells.length; i += 2) {
      const c = cells[i + 1]!;
      if (c > 0) target.add(rekey(cells[i]!, from, to), c);
    }
  }

  /** Exchange the contents of two tables (O(1)). */
  swap(other: CellTable): void {
    const { cells, mask, size } = this;
    this.cells = other.cells;
    this.mask = other.mask;
    this.size = other.size;
    other.cells = cells;
    other.mask = mask;
    other.size = size;
  }

  forEach(fn: (key: number, count: number) => void): void {
    const cells = this.cells;
    for (let i = 0; i < cells.length; i += 2) if (cells[i + 1]! > 0) fn(cells[i]!, cells[i + 1]!);
  }

  entries(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    this.forEach((k, c) => {
      out.push([k, c]);
    });
    return out;
  }
}

/** Compaction builds the coarser table here and swaps it in; the old arrays become the spare. */
const spare = new CellTable();

/** Mergeable sketch state: the level and the count of every non-empty cell. */
export interface Sketch {
  level: number;
  capacity: number;
  cells: CellTable;
}

export function emptySketch(capacity = DEFAULT_CAPACITY): Sketch {
  return { level: 0, capacity, cells: new CellTable() };
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

/** Add `count` observations of a finite value. Hot path: a table update and, rarely, a coarsening. */
export function sketchAdd(s: Sketch, x: number, count = 1): void {
  if (s.cells.add(cellKey(x, s.level), count) && s.cells.size > s.capacity) compact(s);
}

/**
 * Add `values[start..end)` (finite values) in one go: the same sketch as `sketchAdd` on each, bit for bit.
 * Values are added at the current level until the table overflows; then the level the table *and the values
 * still to come* need is found at once (the level only depends on the multiset) and the rest is added at that
 * level, so a column of thousands of values coarsens the table once instead of once per level on the way up.
 */
export function sketchAddAll(s: Sketch, values: Float64Array, start: number, end: number): void {
  const cells = s.cells;
  cells.reserve(Math.min(cells.size + end - start, s.capacity + 1));
  const level = s.level;
  for (let i = start; i < end; ) {
    if (cells.add(cellKey(values[i++]!, level), 1) && cells.size > s.capacity && level < MAX_LEVEL) {
      compact(s, values, i, end);
      return;
    }
  }
}

/**
 * Coarsen to the smallest level (> current) whose grid has at most `capacity` cells, counting the values
 * `pending[from0..to0)` (`sketchAddAll`), which are then added at the new level. Most compactions of a sketch
 * filled one value at a time need just the next level: it is built into a reused spare table and swapped in,
 * with no allocation. Otherwise the level is found once (`smallestFittingLevel`) and the table is rebuilt
 * once (same result as coarsening one level at a time).
 */
function compact(s: Sketch, pending?: Float64Array, from0 = 0, to0 = 0): void {
  if (s.cells.size <= s.capacity || s.level >= MAX_LEVEL) return;
  const from = s.level;
  const start = Math.max(from + 1, 1);
  const extra = pending === undefined ? 0 : to0 - from0;
  const slots = tableSlotsFor(s.cells.size);
  if (extra === 0) {
    // Usually the next level is enough: build it in the spare table, and keep it if it fits.
    s.cells.rekeyTo(spare, from, start, slots);
    if (spare.size <= s.capacity || start >= MAX_LEVEL) {
      s.cells.swap(spare);
      s.level = start;
      return;
    }
  }
  const total = s.cells.size + extra;
  if (scratchCodes.length < total) scratchCodes = new Int32Array(total * 2);
  let n = s.cells.rekeyInto(scratchCodes, from, start);
  for (let i = from0; i < to0; i++) scratchCodes[n++] = cellKey(pending![i]!, start);
  const cellCount = n - extra;
  const level = smallestFittingLevel(scratchCodes, n, start, s.capacity);
  s.cells.rekeyTo(spare, from, level, tableSlotsFor(Math.min(n, s.capacity + 1)));
  s.cells.swap(spare);
  s.level = level;
  // The pending values, from their codes: nested grids, so clearing low bits re-keys a code to `level`.
  const keep = ~((1 << (level - 1)) - 1);
  for (let i = cellCount; i < n; i++) s.cells.add(scratchCodes[i]! & keep, 1);
}

/** Per binary octave (sign and exponent: the top 12 bits of a code), how many codes and their mantissa range. */
const octaveCount = new Int32Array(4096);
const octaveLo = new Int32Array(4096);
const octaveHi = new Int32Array(4096);
const octaves = new Int32Array(4096);

/**
 * The smallest level >= `start` at which the level-`start` codes `codes[0..n)` fall into at most `capacity`
 * cells (MAX_LEVEL if none). Within an octave, codes keep their order under a shift, so each octave holds at
 * most min(its codes, the cells its mantissa range spans) cells at any level: the first level whose bound fits
 * is an upper limit, found from the octaves alone. Below it, levels are tested by counting distinct cells
 * (stopping at capacity + 1) in a binary search (the count only decreases as the level rises); usually a single
 * test, as the bound is tight for data that fill their octaves.
 */
function smallestFittingLevel(codes: Int32Array, n: number, start: number, capacity: number): number {
  let touched = 0;
  for (let i = 0; i < n; i++) {
    const c = codes[i]!;
    const o = c >>> 20;
    const m = c & 0xfffff;
    if (octaveCount[o] === 0) {
      octaves[touched++] = o;
      octaveLo[o] = m;
      octaveHi[o] = m;
    } else if (m < octaveLo[o]!) octaveLo[o] = m;
    else if (m > octaveHi[o]!) octaveHi[o] = m;
    octaveCount[o]!++;
  }
  const bound = (level: number): number => {
    const shift = level - 1;
    let cells = 0;
    for (let j = 0; j < touched; j++) {
      const o = octaves[j]!;
      cells += Math.min(octaveCount[o]!, (octaveHi[o]! >> shift) - (octaveLo[o]! >> shift) + 1);
    }
    return cells;
  };
  let hi = start;
  while (hi < MAX_LEVEL && bound(hi) > capacity) hi++;
  for (let j = 0; j < touched; j++) octaveCount[octaves[j]!] = 0;
  if (hi === start || !fits(codes, n, hi - 1, capacity)) return hi;
  let lo = start;
  hi--;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (fits(codes, n, mid, capacity)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Open-addressing set of int32 cells for `fits`; a slot is occupied when its stamp is the current one. */
let setKeys = new Int32Array(2048);
let setStamps = new Uint32Array(2048);
let stamp = 0;

/** Whether the codes fall into at most `capacity` cells at `level` (stops counting at capacity + 1). */
function fits(codes: Int32Array, n: number, level: number, capacity: number): boolean {
  let bits = 4;
  while (1 << bits < 4 * (capacity + 1)) bits++;
  const size = 1 << bits;
  if (setKeys.length < size) {
    setKeys = new Int32Array(size);
    setStamps = new Uint32Array(size);
  }
  if (++stamp === 0xffffffff) {
    setStamps.fill(0);
    stamp = 1;
  }
  const mask = size - 1;
  const shift = level - 1;
  let distinct = 0;
  for (let i = 0; i < n; i++) {
    const k = codes[i]! >> shift;
    let h = Math.imul(k, 0x9e3779b1) >>> (32 - bits);
    for (;;) {
      if (setStamps[h] !== stamp) {
        setStamps[h] = stamp;
        setKeys[h] = k;
        if (++distinct > capacity) return false;
        break;
      }
      if (setKeys[h] === k) break;
      h = (h + 1) & mask;
    }
  }
  return true;
}

function tableSlotsFor(entries: number): number {
  let slots = 16;
  while (slots < entries * 2 + 2) slots *= 2;
  return slots;
}

/** Merge two sketches into a new one; equal to the sketch built from all values of both. */
export function mergeSketches(a: Sketch, b: Sketch): Sketch {
  const capacity = Math.min(a.capacity, b.capacity);
  const level = Math.max(a.level, b.level);
  const out: Sketch = { level, capacity, cells: new CellTable(tableSlotsFor(a.cells.size + b.cells.size)) };
  a.cells.forEach((key, count) => {
    out.cells.add(rekey(key, a.level, level), count);
  });
  b.cells.forEach((key, count) => {
    out.cells.add(rekey(key, b.level, level), count);
  });
  compact(out);
  return out;
}

/** Total number of values in the sketch. */
export function sketchCount(s: Sketch): number {
  let n = 0;
  s.cells.forEach((_, c) => {
    n += c;
  });
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
  for (const [key, count] of s.cells.entries()) {
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
