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

  /** murmur3's finalizer over both words: cell keys have many zero low bits, so the bits must be mixed. */
  private slot(key: number): number {
    f64[0] = key;
    let h = u32[0]! ^ Math.imul(u32[1]!, 0x9e3779b1);
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

  private grow(): void {
    const cells = this.cells;
    this.cells = new Float64Array(cells.length * 2);
    this.mask = cells.length - 1;
    this.size = 0;
    for (let i = 0; i < cells.length; i += 2) if (cells[i + 1]! > 0) this.add(cells[i]!, cells[i + 1]!);
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
 * Coarsen to the smallest level (> current) whose grid has at most `capacity` cells. Most compactions (a
 * sketch filling up one level after another) need just the next level: it is built into a reused spare table
 * and swapped in, with no sort and no allocation. Otherwise, level >= 1 codes keep their order under an
 * arithmetic shift, so the cell count of every coarser level is found with one sort and linear scans, and
 * the table is rebuilt once (same result as coarsening one level at a time; same table layout as before).
 */
function compact(s: Sketch): void {
  if (s.cells.size <= s.capacity || s.level >= MAX_LEVEL) return;
  const from = s.level;
  const start = Math.max(from + 1, 1);
  const slots = tableSlotsFor(s.cells.size);
  // Usually the next level is enough: build it in the spare table, and keep it if it fits.
  s.cells.rekeyTo(spare, from, start, slots);
  if (spare.size <= s.capacity || start >= MAX_LEVEL) {
    s.cells.swap(spare);
    s.level = start;
    return;
  }
  if (scratchCodes.length < s.cells.size) scratchCodes = new Int32Array(s.cells.size * 2);
  const n = s.cells.rekeyInto(scratchCodes, from, start);
  const codes = scratchCodes.subarray(0, n);
  codes.sort();
  let level = start + 1;
  while (level < MAX_LEVEL) {
    const shift = level - 1;
    let distinct = 0;
    let prev = Number.NaN;
    for (let i = 0; i < n; i++) {
      const k = codes[i]! >> shift;
      if (k !== prev) {
        distinct++;
        prev = k;
      }
    }
    if (distinct <= s.capacity) break;
    level++;
  }
  s.cells.rekeyTo(spare, from, level, slots);
  s.cells.swap(spare);
  s.level = level;
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
