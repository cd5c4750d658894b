/**
 * The numeric sketch: a budgeted dyadic trie over the order-preserving 64-bit key of the float64, with a
 * CDF error bound that does not depend on the data (issue 12; the research behind every constant is in
 * docs/statistics.md, "The numeric sketch").
 *
 * Every finite value has a 64-bit key (positives: sign bit set; negatives: all bits flipped; -0 is +0) that
 * sorts exactly like the values. A cell is a dyadic key interval `[start, start + 2^level)` with a count:
 * level 0 is one exact value, a higher level means "this many values somewhere in the interval". Cells are
 * nested or disjoint (a coarse cell may hold mass coarsened earlier while finer cells inside it hold mass
 * added later), kept sorted in pre-order (start ascending, then level descending).
 *
 * The invariant behind the bound: for every key, the total count of the coarse cells containing it (its
 * "straddling mass") is at most `floor(n / k)`. A CDF read at any point can only be wrong about where the
 * values of those cells lie, so the CDF and its left limits are within `floor(n / k) / n <= 1/k` of the
 * exact empirical CDF, for any data and any sequence of inserts and merges:
 * - the union of two sketches has straddling mass at most `floor(n1/k) + floor(n2/k) <= floor((n1+n2)/k)`;
 * - compaction replaces a subtree by one coarse cell only where the new straddling mass (coarse ancestors
 *   plus the subtree's mass, minus values kept exact) stays within the budget.
 * The coarse cells containing a key hold at most `floor(n / k)` values together, so all but that many copies
 * of any value are an exact point (a heavy mass point stays a point, its mass within the bound);
 * all copies of the minimum and the maximum are always kept exact, so the CDF is clamped to the true range.
 *
 * The bytes of a sketch depend on how its values were split into inserts and merges (compaction decisions
 * are final); its values do not, beyond the bound: counts, minimum and maximum are exact in every case, and
 * two sketches of the same data have CDFs within the sum of their bounds (docs/statistics.md, "Batch
 * splits").
 *
 * Scores get a `ScoreSketch` (two tries, s and 1 - s) with the same resolution near 1 as near 0. Sketches
 * read from profile format versions 1 and 2 (the earlier floating-point grid) are converted exactly, cell
 * for cell, and marked `legacy`: their error bound is unknown (NaN) and stays unknown through merges.
 *
 * Implementation note: keys are stored as two int32 halves, each XOR 0x80000000 ("biased"), so that signed
 * comparison is key order and every half is a small integer to V8 (uint32 values above 2^31 are heap
 * numbers whenever they leave a register, which made a first version five times slower).
 */

/** Default `k`: the CDF is guaranteed within 1/200 = 0.005 of the exact empirical CDF. */
export const DEFAULT_K = 200;

/**
 * Collapse margin, in standard deviations of a block's count: a new coarse cell is made only if
 * `mass + margin * sqrt(mass)` fits the budget. Coarse cells can never be split again, so a block whose count
 * was under the budget by sampling luck would later overflow and collect nested cells (measured: about twice
 * the cells when merging 500 values at a time with no margin; the same as a one-shot build with 3).
 */
const MARGIN = 3;

/**
 * Margin while the budget floor(n / k) is below `SMALL_BUDGET`. In a merge tree every small leaf sketch
 * decides on its own, and a block collapsed by luck in any of them stays rigid up to the root (measured:
 * +50 % cells for a balanced tree of 2,048 sketches of 512 values with 3 everywhere; none with 6 below 300).
 */
const SMALL_MARGIN = 6;

/** Budget below which `SMALL_MARGIN` applies and the fill rule does not (counts, independent of k). */
const SMALL_BUDGET = 300;

/**
 * While the budget is below `SMALL_BUDGET`, cells above which a compaction is redone without the margin
 * (which only keeps sizes down in the long run, and never touches the bound). Below about 2,100 values the
 * margin forbids every collapse, and up to about 10,000 nearly every one: a sketch of 2,000 distinct values
 * stayed exact, 19.8 KB, so 40 such features could not be stored in a 400 KB DynamoDB item. Measured on one lognormal column (values
 * rounded to 1e-3) inserted at once, bytes without / with the cap: 1,000 values 9,888 / 1,236; 2,000 values
 * 19,780 / 944; 5,000 values 2,620 / 712; 10,000 values 1,616 / 684. Below 400 values floor(n / k) < 2 and
 * nothing can collapse: the sketch is exact (about 10 bytes per distinct value).
 */
const CELL_CAP = 384;

/**
 * Minimum fill, once floor(n / k) >= `SMALL_BUDGET`: a new coarse cell is made only if its content spans at
 * least this fraction of the block's keys. A block collapsed while values are still arriving inside it
 * (input sorted by value, a trending feature) cannot split later and fills up with nested cells. Measured at
 * 1M values in 500-value batches: sorted or interleaved input at most 1,692 bytes instead of 2,284.
 */
const MIN_FILL = 0.75;

/**
 * Width share: a new coarse cell may hold at most `WIDTH_SHARE * n * sd` of count x clamped value width (sd
 * estimated from the cells being compacted). The rank bound says nothing about W1: a coarse cell spanning
 * octaves of a heavy tail spreads its values over all of them. Measured at 1M values on 16 shapes (lognormal,
 * Pareto 0.5 / 1.0 / 1.2, Cauchy, huge range, mass points, ...), 500-value read-modify-write and a 24-way merge
 * tree: the worst W1/sd between the sketch and its own data falls from 0.041 (no width limit; Pareto 1.2) to
 * 0.0012, the median size from 888 to 932 bytes, the largest size unchanged (1,268 bytes), the worst sup CDF
 * error unchanged (0.0020). It only forbids collapses, so the CDF bound does not depend on it.
 */
const WIDTH_SHARE = 0.001;

/** Raised when a serialized sketch is malformed or violates the sketch's invariants. */
export class SketchFormatError extends Error {
  override name = "SketchFormatError";
}

/** Raised when a value that cannot be summarized (NaN, infinite, a score outside [0, 1]) reaches a sketch. */
export class SketchValueError extends Error {
  override name = "SketchValueError";
}

// ---------------------------------------------------------------------------------------------------------
// 64-bit keys as two biased int32 halves.
// ---------------------------------------------------------------------------------------------------------

/** Bit 31 as an int32. */
const SIGN = -0x80000000;
const f64 = new Float64Array(1);
const i32 = new Int32Array(f64.buffer);
const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;
const LO = 1 - HI;

/** Store the biased key of a finite value in `hi[at]`, `lo[at]` (-0 gets the key of +0). */
function writeKey(x: number, hi: Int32Array, lo: Int32Array, at: number): void {
  f64[0] = x === 0 ? 0 : x;
  const hiBits = i32[HI]!;
  const loBits = i32[LO]!;
  if (hiBits < 0) {
    hi[at] = ~hiBits ^ SIGN;
    lo[at] = ~loBits ^ SIGN;
  } else {
    hi[at] = hiBits;
    lo[at] = loBits ^ SIGN;
  }
}

/** The value of a biased key (the key of -0 gives 0). */
function keyValue(kh: number, kl: number): number {
  if (kh >= 0) {
    i32[HI] = kh;
    i32[LO] = kl ^ SIGN;
    return f64[0]!;
  }
  i32[HI] = ~(kh ^ SIGN);
  i32[LO] = ~(kl ^ SIGN);
  const v = f64[0]!;
  return v === 0 ? 0 : v;
}

/** Whether a biased key is the key of a finite value other than -0 (what an exact cell may hold). */
function isValueKey(kh: number, kl: number): boolean {
  if (kh === -1 && kl === 0x7fffffff) return false;
  return Number.isFinite(keyValue(kh, kl));
}

/** Bits of (key1 XOR key2): the level of the smallest dyadic block holding both. */
function xorBits(h1: number, l1: number, h2: number, l2: number): number {
  const xh = h1 ^ h2;
  if (xh !== 0) return 64 - Math.clz32(xh);
  const xl = l1 ^ l2;
  return xl !== 0 ? 32 - Math.clz32(xl) : 0;
}

/** Bit `bit` (0..63) of the (unbiased) key. */
function keyBit(kh: number, kl: number, bit: number): number {
  return bit >= 32 ? ((kh ^ SIGN) >>> (bit - 32)) & 1 : ((kl ^ SIGN) >>> bit) & 1;
}

/** Biased high half of the key with its low `level` bits cleared. */
function alignHi(kh: number, level: number): number {
  if (level <= 32) return kh;
  if (level >= 64) return SIGN;
  const shift = level - 32;
  return (((kh ^ SIGN) >>> shift) << shift) ^ SIGN;
}

/** Biased low half of the key with its low `level` bits cleared. */
function alignLo(kl: number, level: number): number {
  if (level >= 32) return SIGN;
  return (((kl ^ SIGN) >>> level) << level) ^ SIGN;
}

/** Mask of the low `bits` bits (0..32) as an int32. */
function lowMask(bits: number): number {
  return bits >= 32 ? -1 : bits === 31 ? 0x7fffffff : (1 << bits) - 1;
}

/** Biased high half of the last key of the block of `level` starting at a key with high half `kh`. */
function lastHi(kh: number, level: number): number {
  return level >= 64 ? 0x7fffffff : level > 32 ? kh | lowMask(level - 32) : kh;
}

/** Biased low half of the last key of the block of `level` starting at a key with low half `kl`. */
function lastLo(kl: number, level: number): number {
  return level >= 32 ? 0x7fffffff : kl | lowMask(level);
}

/** Key order: negative, zero or positive. */
function compareKeys(h1: number, l1: number, h2: number, l2: number): number {
  return h1 !== h2 ? h1 - h2 : l1 - l2;
}

/** key1 - key2 as a double (exact below 2^53). */
function keyDiff(h1: number, l1: number, h2: number, l2: number): number {
  return (h1 - h2) * 4294967296 + (l1 - l2);
}

/** Whether the block of `level` starting at (ch, cl) contains the key (kh, kl). */
function blockContains(ch: number, cl: number, level: number, kh: number, kl: number): boolean {
  return alignHi(kh, level) === ch && alignLo(kl, level) === cl;
}

// ---------------------------------------------------------------------------------------------------------
// Cell storage.
// ---------------------------------------------------------------------------------------------------------

/** Cells in pre-order as parallel typed arrays: biased start key halves, level, count. */
class Cells {
  hi: Int32Array;
  lo: Int32Array;
  level: Uint8Array;
  count: Float64Array;
  size = 0;
  /** Held by more than one sketch (`shareNumeric`): a sketch that changes its cells takes a copy first. */
  shared = false;

  constructor(capacity = 16) {
    // The four columns share one buffer (count first, for its 8-byte alignment): an ArrayBuffer costs far
    // more to allocate and collect than a view (measured: 4 buffers of 512 cells 12 us, 1 buffer 4 us).
    const buffer = new ArrayBuffer(capacity * 17);
    this.count = new Float64Array(buffer, 0, capacity);
    this.hi = new Int32Array(buffer, capacity * 8, capacity);
    this.lo = new Int32Array(buffer, capacity * 12, capacity);
    this.level = new Uint8Array(buffer, capacity * 16, capacity);
  }

  reserve(capacity: number): void {
    if (capacity <= this.hi.length) return;
    // Exactly what is asked the first time (a copy or a compaction's output), doubling after that.
    let size = this.hi.length === 0 ? capacity : Math.max(16, this.hi.length * 2);
    while (size < capacity) size *= 2;
    const grown = new Cells(size);
    grown.copyCells(this, this.size);
    this.hi = grown.hi;
    this.lo = grown.lo;
    this.level = grown.level;
    this.count = grown.count;
  }

  /** Copy the first `n` cells of `other` into the start of these columns (capacity permitting). */
  private copyCells(other: Cells, n: number): void {
    if (n === 0) return;
    this.hi.set(n === other.hi.length ? other.hi : other.hi.subarray(0, n));
    this.lo.set(n === other.lo.length ? other.lo : other.lo.subarray(0, n));
    this.level.set(n === other.level.length ? other.level : other.level.subarray(0, n));
    this.count.set(n === other.count.length ? other.count : other.count.subarray(0, n));
  }

  /** Append a cell (the caller keeps pre-order). */
  push(kh: number, kl: number, level: number, count: number): void {
    if (this.size === this.hi.length) this.reserve(this.size + 1);
    const at = this.size++;
    this.hi[at] = kh;
    this.lo[at] = kl;
    this.level[at] = level;
    this.count[at] = count;
  }

  copyFrom(other: Cells): void {
    this.size = 0;
    this.reserve(other.size);
    this.copyCells(other, other.size);
    this.size = other.size;
  }

  /** Index of the first exact cell (the minimum), or -1. */
  firstExact(): number {
    for (let i = 0; i < this.size; i++) if (this.level[i] === 0) return i;
    return -1;
  }

  /** Index of the last exact cell (the maximum), or -1. */
  lastExact(): number {
    for (let i = this.size - 1; i >= 0; i--) if (this.level[i] === 0) return i;
    return -1;
  }
}

/** Sorted union of two pre-order cell lists into `out` (equal cells add their counts). */
function unionInto(a: Cells, b: Cells, out: Cells): void {
  out.size = 0;
  out.reserve(a.size + b.size);
  const ah = a.hi;
  const al = a.lo;
  const av = a.level;
  const ac = a.count;
  const bh = b.hi;
  const bl = b.lo;
  const bv = b.level;
  const bc = b.count;
  // Written straight into the reserved columns (the hot loop of every merge).
  const oh = out.hi;
  const ol = out.lo;
  const ov = out.level;
  const oc = out.count;
  const na = a.size;
  const nb = b.size;
  let i = 0;
  let j = 0;
  let o = 0;
  while (i < na && j < nb) {
    const hi = ah[i]!;
    const hj = bh[j]!;
    let order = hi !== hj ? hi - hj : al[i]! - bl[j]!;
    if (order === 0) order = bv[j]! - av[i]!;
    if (order < 0) {
      oh[o] = hi;
      ol[o] = al[i]!;
      ov[o] = av[i]!;
      oc[o++] = ac[i++]!;
    } else if (order > 0) {
      oh[o] = hj;
      ol[o] = bl[j]!;
      ov[o] = bv[j]!;
      oc[o++] = bc[j++]!;
    } else {
      oh[o] = hi;
      ol[o] = al[i]!;
      ov[o] = av[i]!;
      oc[o++] = ac[i++]! + bc[j++]!;
    }
  }
  for (; i < na; i++, o++) {
    oh[o] = ah[i]!;
    ol[o] = al[i]!;
    ov[o] = av[i]!;
    oc[o] = ac[i]!;
  }
  for (; j < nb; j++, o++) {
    oh[o] = bh[j]!;
    ol[o] = bl[j]!;
    ov[o] = bv[j]!;
    oc[o] = bc[j]!;
  }
  out.size = o;
}

/** Largest total count of coarse cells over one key (pre-order sweep with a stack of open cells). */
function maxStraddle(cells: Cells): number {
  const openIndex: number[] = [];
  const openMass: number[] = [];
  let worst = 0;
  for (let i = 0; i < cells.size; i++) {
    const kh = cells.hi[i]!;
    const kl = cells.lo[i]!;
    while (openIndex.length > 0) {
      const top = openIndex[openIndex.length - 1]!;
      if (blockContains(cells.hi[top]!, cells.lo[top]!, cells.level[top]!, kh, kl)) break;
      openIndex.pop();
      openMass.pop();
    }
    if (cells.level[i] === 0) continue;
    const mass = (openMass.length > 0 ? openMass[openMass.length - 1]! : 0) + cells.count[i]!;
    if (mass > worst) worst = mass;
    openIndex.push(i);
    openMass.push(mass);
  }
  return worst;
}

// ---------------------------------------------------------------------------------------------------------
// Compaction.
// ---------------------------------------------------------------------------------------------------------

/**
 * Top-down compaction of a pre-order cell list under the budget `limit` = floor(n / k).
 *
 * At a node (a contiguous range of cells inside one dyadic block) with coarse mass `above` on its path:
 * - if `above` + the range's mass (minus the protected min/max cells, which stay exact) fits the budget
 *   with the margin, and the content fills enough of its block (or the block already has a coarse cell),
 *   the range becomes one coarse cell at the smallest dyadic block containing it;
 * - else, if keeping its heaviest exact value out of the coarse cell makes it fit, that is done (a mass
 *   point inside a continuous density costs one extra cell instead of a chain of ever finer cells around
 *   it: without this, rounded prices took up to 11 KB);
 * - else a cell equal to the block stays as it is (its mass adds to `above`) and the two halves of the block
 *   are compacted separately.
 * Greedy from the top: a collapsed node only spends budget on its own subtree. The output never has more
 * cells than the input, and its straddling mass is within the budget wherever the input's was.
 */
class Compactor {
  private src = new Cells(0);
  private out = new Cells(0);
  private prefix = new Float64Array(16);
  private limit = 0;
  private minIndex = -1;
  private maxIndex = -1;
  /** Largest count of an unprotected exact cell: extraction can only help if the excess is below it. */
  private heaviest = 0;
  private margin = 0;
  private minFill = 0;
  /** Largest count x clamped value width a new coarse cell may have (see `WIDTH_SHARE`). */
  private widthBudget = Number.POSITIVE_INFINITY;
  private lowest = 0;
  private highest = 0;

  /**
   * Compact `source` into `target` under the budget `limit` = floor(n / k). `source` is left as it was
   * (it is scratch space owned by the caller); `target` may be reused storage, grown as needed.
   */
  run(source: Cells, target: Cells, limit: number): void {
    const size = source.size;
    // The smallest collapse merges two cells: mass 2 (plus the margin unless a coarse cell is there already).
    if (size < 3 || limit < 2) {
      if (target !== source) target.copyFrom(source);
      return;
    }
    const margin = limit < SMALL_BUDGET ? SMALL_MARGIN : MARGIN;
    let marginPossible = limit >= 2 + margin * Math.SQRT2;
    for (let i = 0; i < size && !marginPossible; i++) marginPossible = source.level[i] !== 0;
    // With the margin no collapse can happen: fine while the cells stay few, else compact without it.
    if (!marginPossible && (size <= CELL_CAP || limit >= SMALL_BUDGET)) {
      if (target !== source) target.copyFrom(source);
      return;
    }
    this.src = source;
    this.out = target;
    this.limit = limit;
    this.margin = marginPossible ? margin : 0;
    // Below the small-budget cut, sketches are small and their cells short-lived: no fill requirement.
    this.minFill = limit < SMALL_BUDGET ? 0 : MIN_FILL;
    if (this.prefix.length < size + 1) this.prefix = new Float64Array(2 * size + 2);
    const prefix = this.prefix;
    const count = source.count;
    prefix[0] = 0;
    for (let i = 0; i < size; i++) prefix[i + 1] = prefix[i]! + count[i]!;
    if (this.margin > 0 && limit < SMALL_BUDGET && size > CELL_CAP) {
      // The largest new cell the margin allows has mass m with m + margin sqrt(m) <= limit: if even cells
      // that full would leave more than CELL_CAP cells, go straight to the compaction without the margin.
      const root = (Math.sqrt(this.margin * this.margin + 4 * limit) - this.margin) / 2;
      if (prefix[size]! / Math.max(1, Math.floor(root * root)) > CELL_CAP) this.margin = 0;
    }
    this.minIndex = source.firstExact();
    this.maxIndex = source.lastExact();
    let heaviest = 0;
    for (let i = 0; i < size; i++) {
      if (source.level[i] === 0 && i !== this.minIndex && i !== this.maxIndex && count[i]! > heaviest) {
        heaviest = count[i]!;
      }
    }
    this.heaviest = heaviest;
    this.lowest = keyValue(source.hi[this.minIndex]!, source.lo[this.minIndex]!);
    this.highest = keyValue(source.hi[this.maxIndex]!, source.lo[this.maxIndex]!);
    this.widthBudget = WIDTH_SHARE * prefix[size]! * this.spread();
    target.size = 0;
    target.reserve(size);
    this.range(0, size, 0);
    if (target.size > CELL_CAP && limit < SMALL_BUDGET && this.margin > 0) {
      // The size rules left too many cells (a small budget, where the margin forbids nearly every
      // collapse): compact again under the bare budget. The bound is the same; only the size rules go.
      this.margin = 0;
      this.minFill = 0;
      target.size = 0;
      this.range(0, size, 0);
    }
    this.src = NO_CELLS;
    this.out = NO_CELLS;
  }

  /**
   * Standard deviation of the cells, each coarse cell's mass at the middle of its clamped value range (a
   * scale for `widthBudget`; computed on values divided by the largest magnitude, so it cannot overflow).
   */
  private spread(): number {
    const src = this.src;
    const scale = Math.max(Math.abs(this.lowest), Math.abs(this.highest));
    if (!(scale > 0)) return 0;
    let total = 0;
    let sum = 0;
    for (let i = 0; i < src.size; i++) {
      const c = src.count[i]!;
      total += c;
      sum += c * this.middle(i, scale);
    }
    const mean = sum / total;
    let squares = 0;
    for (let i = 0; i < src.size; i++) squares += src.count[i]! * (this.middle(i, scale) - mean) ** 2;
    return Math.sqrt(squares / total) * scale;
  }

  /** Middle of cell i's value range clamped to [lowest, highest], divided by `scale`. */
  private middle(i: number, scale: number): number {
    const src = this.src;
    const level = src.level[i]!;
    const from = this.clampedValue(src.hi[i]!, src.lo[i]!, this.lowest);
    if (level === 0) return from / scale;
    const to = this.clampedValue(lastHi(src.hi[i]!, level), lastLo(src.lo[i]!, level), this.highest);
    return (from / scale + to / scale) / 2;
  }

  /** The value of a key clamped to [lowest, highest]; `outside` for keys of no finite value. */
  private clampedValue(kh: number, kl: number, outside: number): number {
    const v = keyValue(kh, kl);
    if (!Number.isFinite(v)) return outside;
    return Math.min(this.highest, Math.max(this.lowest, v));
  }

  /** Clamped value width of the block of `level` holding the key (kh, kl). */
  private blockWidth(kh: number, kl: number, level: number): number {
    const startH = alignHi(kh, level);
    const startL = alignLo(kl, level);
    const from = this.clampedValue(startH, startL, this.lowest);
    const to = this.clampedValue(lastHi(startH, level), lastLo(startL, level), this.highest);
    return Math.max(0, to - from);
  }

  private protectedMass(begin: number, end: number): number {
    const count = this.src.count;
    let mass = 0;
    if (this.minIndex >= begin && this.minIndex < end) mass += count[this.minIndex]!;
    if (this.maxIndex >= begin && this.maxIndex < end && this.maxIndex !== this.minIndex) {
      mass += count[this.maxIndex]!;
    }
    return mass;
  }

  private range(begin: number, end: number, above: number): void {
    const src = this.src;
    let start = begin;
    let ancestors = above;
    for (;;) {
      if (start >= end) return;
      if (end - start === 1) {
        this.emit(start);
        return;
      }
      const movable = this.prefix[end]! - this.prefix[start]! - this.protectedMass(start, end);
      const excess = ancestors + movable - this.limit;
      const blockLevel = Math.max(
        xorBits(src.hi[start]!, src.lo[start]!, src.hi[end - 1]!, src.lo[end - 1]!),
        src.level[start]!,
      );
      // The margin keeps a new rigid cell away from a block that may overflow; a block that already has a
      // coarse cell is rigid anyway, so there the mass only needs to fit.
      const rigid = src.level[start] === blockLevel;
      const width = this.blockWidth(src.hi[start]!, src.lo[start]!, blockLevel);
      const narrow = movable * width <= this.widthBudget;
      const fits = excess + (rigid ? 0 : this.margin * Math.sqrt(movable)) <= 0 && narrow;
      if (fits && (rigid || this.minFill === 0 || this.isTight(start, end))) {
        this.collapse(start, end, -1);
        return;
      }
      // Extraction can only work if the heaviest value could cover the excess plus the margin of the rest.
      const most = this.heaviest;
      if (
        !fits &&
        most > 0 &&
        excess + this.margin * Math.sqrt(Math.max(0, movable - most)) <= most &&
        (movable - most) * width <= this.widthBudget &&
        this.tryExtract(start, end, excess, movable, width)
      ) {
        return;
      }
      if (rigid) {
        // A coarse cell equal to the block: it stays, and its mass is on the path of everything inside.
        this.emit(start);
        ancestors += src.count[start]!;
        start++;
        continue;
      }
      const split = this.firstWithBit(start, end, blockLevel - 1);
      this.range(start, split, ancestors);
      start = split;
    }
  }

  /** Whether the movable cells of [begin, end) span at least `minFill` of their smallest common block. */
  private isTight(begin: number, end: number): boolean {
    const src = this.src;
    let first = -1;
    let last = -1;
    for (let i = begin; i < end; i++) {
      if (i === this.minIndex || i === this.maxIndex) continue;
      if (first < 0) first = i;
      last = i;
    }
    if (first < 0 || first === last) return true;
    const level = Math.max(
      xorBits(src.hi[first]!, src.lo[first]!, src.hi[last]!, src.lo[last]!),
      src.level[first]!,
    );
    const lastLevel = src.level[last]!;
    const span =
      keyDiff(
        lastHi(src.hi[last]!, lastLevel),
        lastLo(src.lo[last]!, lastLevel),
        src.hi[first]!,
        src.lo[first]!,
      ) + 1;
    return span >= this.minFill * 2 ** level;
  }

  /** Keep the heaviest unprotected exact value out of the collapse if that makes it fit. */
  private tryExtract(begin: number, end: number, excess: number, movable: number, width: number): boolean {
    const src = this.src;
    let best = -1;
    for (let i = begin; i < end; i++) {
      if (src.level[i] !== 0 || i === this.minIndex || i === this.maxIndex) continue;
      if (best < 0 || src.count[i]! > src.count[best]!) best = i;
    }
    if (best < 0) return false;
    const heaviest = src.count[best]!;
    if (heaviest < excess + this.margin * Math.sqrt(movable - heaviest)) return false;
    if ((movable - heaviest) * width > this.widthBudget) return false;
    this.collapse(begin, end, best);
    return true;
  }

  private isKept(i: number, keep: number): boolean {
    return i === this.minIndex || i === this.maxIndex || i === keep;
  }

  /**
   * Replace cells [begin, end) by one coarse cell at the smallest block containing the cells not kept exact,
   * plus the kept cells (protected min/max, an extracted heavy value), in pre-order.
   */
  private collapse(begin: number, end: number, keep: number): void {
    const src = this.src;
    let first = -1;
    let last = -1;
    let rest = 0;
    let restMass = 0;
    for (let i = begin; i < end; i++) {
      if (this.isKept(i, keep)) continue;
      if (first < 0) first = i;
      last = i;
      rest++;
      restMass += src.count[i]!;
    }
    if (rest <= 1) {
      for (let i = begin; i < end; i++) this.emit(i);
      return;
    }
    const level = Math.max(
      xorBits(src.hi[first]!, src.lo[first]!, src.hi[last]!, src.lo[last]!),
      src.level[first]!,
    );
    const kh = alignHi(src.hi[first]!, level);
    const kl = alignLo(src.lo[first]!, level);
    let placed = false;
    for (let i = begin; i < end; i++) {
      if (!this.isKept(i, keep)) continue;
      if (!placed && compareKeys(src.hi[i]!, src.lo[i]!, kh, kl) >= 0) {
        this.emitCoarse(kh, kl, level, restMass);
        placed = true;
      }
      this.emit(i);
    }
    if (!placed) this.emitCoarse(kh, kl, level, restMass);
  }

  private emit(i: number): void {
    const src = this.src;
    this.out.push(src.hi[i]!, src.lo[i]!, src.level[i]!, src.count[i]!);
  }

  /** Append a coarse cell; if the cell just written is the same block (a kept ancestor), add to it. */
  private emitCoarse(kh: number, kl: number, level: number, count: number): void {
    const out = this.out;
    const last = out.size - 1;
    if (last >= 0 && out.level[last] === level && out.hi[last] === kh && out.lo[last] === kl) {
      out.count[last] = out.count[last]! + count;
      return;
    }
    out.push(kh, kl, level, count);
  }

  /** First index in [begin, end) whose start has bit `bit` set (the starts share all higher bits). */
  private firstWithBit(begin: number, end: number, bit: number): number {
    const src = this.src;
    let low = begin;
    let high = end;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (keyBit(src.hi[mid]!, src.lo[mid]!, bit) === 0) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}

const NO_CELLS = new Cells(0);
const compactor = new Compactor();

// ---------------------------------------------------------------------------------------------------------
// The numeric sketch: inserts, merges, accessors.
// ---------------------------------------------------------------------------------------------------------

/** Values added one at a time wait here and go in as one column (the same result as a column insert). */
const PENDING_CAPACITY = 512;

/** Values (and, once a weighted add happened, their counts) waiting to go in as one column. */
class Pending {
  readonly values = new Float64Array(PENDING_CAPACITY);
  /** Counts per waiting value; null while every count is 1 (the common case: a plain column insert). */
  counts: Float64Array | null = null;
  size = 0;
  /** Sum of the waiting counts. */
  total = 0;

  /** Buffer a value with its count; returns true when the buffer is full. */
  add(value: number, count: number): boolean {
    if (count !== 1 && this.counts === null) this.counts = new Float64Array(PENDING_CAPACITY).fill(1, 0);
    if (this.counts !== null) this.counts[this.size] = count;
    this.values[this.size++] = value === 0 ? 0 : value;
    this.total += count;
    return this.size === PENDING_CAPACITY;
  }

  clear(): void {
    this.size = 0;
    this.total = 0;
    this.counts = null;
  }
}

/**
 * A numeric sketch (see the module comment). Use the functions of this module; the fields are internal.
 * `legacy` marks a sketch converted from a format-1/2 grid (or merged with one): its cells are exactly the
 * old grid's, but the straddle invariant may not hold, so its error bound is unknown.
 */
export class NumericSketch {
  /** @internal */ cells: Cells;
  /** @internal Values in `cells` (pending values excluded). */ n = 0;
  /** @internal */ pending: Pending | null = null;
  constructor(
    /** Error parameter: the CDF is within floor(n / k) / n <= 1/k of the exact one. */
    readonly k: number,
    /** Converted from a format-1/2 grid sketch (or merged with one): error bound unknown. */
    readonly legacy: boolean,
    /** @internal */ cells = new Cells(),
  ) {
    this.cells = cells;
  }
}

function checkedK(k: number): number {
  if (!Number.isInteger(k) || k < 1 || k > 1_000_000)
    throw new RangeError("k must be an integer in [1, 1e6]");
  return k;
}

/** An empty numeric sketch; `k` sets the guaranteed CDF error 1/k (default 200, i.e. 0.005). */
export function emptySketch(k = DEFAULT_K): NumericSketch {
  return new NumericSketch(checkedK(k), false);
}

function checkedCount(count: number): number {
  if (!Number.isSafeInteger(count) || count < 1) {
    throw new SketchValueError(`a count must be a positive integer, not ${count}`);
  }
  return count;
}

function addNumericValue(sketch: NumericSketch, value: number, count: number): void {
  if (value - value !== 0) throw new SketchValueError(`cannot add ${value} to a numeric sketch`);
  checkedCount(count);
  if (sketch.pending === null) sketch.pending = new Pending();
  if (sketch.pending.add(value, count)) flushNumeric(sketch);
}

/** Scratch for sorting columns and building their cells (single-threaded; never held across calls). */
let sortScratch = new Float64Array(1024);
const columnCells = new Cells(1024);
const unionScratch = new Cells(1024);
const compactScratch = new Cells(1024);

/**
 * Insert the finite values `values[start..end)`: copied and checked, sorted (a Float64Array sort in C++,
 * measured faster than a radix sort of the keys written in JS), counted per distinct value, united with the
 * sketch's cells and compacted once under floor(budgetCount / k). Throws `SketchValueError` before changing
 * anything if a value is not finite.
 */
function addColumn(
  sketch: NumericSketch,
  values: Float64Array,
  start: number,
  end: number,
  budgetCount = sketch.n + (end - start),
): void {
  const columnLength = end - start;
  if (columnLength <= 0) return;
  if (sortScratch.length < columnLength) {
    sortScratch = new Float64Array(Math.max(columnLength, 2 * sortScratch.length));
  }
  const sorted = sortScratch;
  for (let i = 0; i < columnLength; i++) {
    const value = values[start + i]!;
    if (value - value !== 0) throw new SketchValueError(`cannot add ${value} to a numeric sketch`);
    sorted[i] = value === 0 ? 0 : value;
  }
  sorted.subarray(0, columnLength).sort();
  const column = columnCells;
  column.size = 0;
  column.reserve(columnLength);
  const ch = column.hi;
  const cl = column.lo;
  const cv = column.level;
  const cc = column.count;
  let size = 0;
  let i = 0;
  while (i < columnLength) {
    const value = sorted[i]!;
    let j = i + 1;
    while (j < columnLength && sorted[j] === value) j++;
    writeKey(value, ch, cl, size);
    cv[size] = 0;
    cc[size] = j - i;
    size++;
    i = j;
  }
  column.size = size;
  insertColumn(sketch, column, columnLength, budgetCount);
}

/** Insert `size` values with counts (checked finite, -0 already folded into 0) as one column. */
function addWeightedColumn(
  sketch: NumericSketch,
  values: Float64Array,
  counts: Float64Array,
  size: number,
  budgetCount: number,
): void {
  if (size === 0) return;
  const order = Array.from({ length: size }, (_, i) => i).sort((a, b) => values[a]! - values[b]!);
  const column = columnCells;
  column.size = 0;
  column.reserve(size);
  let added = 0;
  let previous = Number.NaN;
  for (const at of order) {
    const value = values[at]!;
    const count = counts[at]!;
    added += count;
    if (value === previous) {
      column.count[column.size - 1] = column.count[column.size - 1]! + count;
      continue;
    }
    writeKey(value, column.hi, column.lo, column.size);
    column.level[column.size] = 0;
    column.count[column.size] = count;
    column.size++;
    previous = value;
  }
  insertColumn(sketch, column, added, budgetCount);
}

/** Unite a column of exact cells with the sketch and compact once. */
function insertColumn(sketch: NumericSketch, column: Cells, added: number, budgetCount: number): void {
  sketch.n += added;
  // Compact into scratch and copy: the result usually fits the sketch's arrays (no allocation).
  const limit = Math.floor(budgetCount / sketch.k);
  if (sketch.cells.size === 0) compactor.run(column, compactScratch, limit);
  else {
    unionInto(sketch.cells, column, unionScratch);
    compactor.run(unionScratch, compactScratch, limit);
  }
  // Copy on write: cells shared with another sketch are left to it.
  if (sketch.cells.shared) sketch.cells = new Cells(compactScratch.size);
  sketch.cells.copyFrom(compactScratch);
}

/** Move buffered single values into the cells (deterministic: depends only on the operations so far). */
function flushNumeric(sketch: NumericSketch): void {
  const pending = sketch.pending;
  if (pending === null || pending.size === 0) return;
  const budgetCount = sketch.n + pending.total;
  if (pending.counts === null) addColumn(sketch, pending.values, 0, pending.size, budgetCount);
  else addWeightedColumn(sketch, pending.values, pending.counts, pending.size, budgetCount);
  pending.clear();
}

/** The sketch with its pending values moved into cells, leaving `sketch` itself untouched. */
function settled(sketch: NumericSketch): NumericSketch {
  if (sketch.pending === null || sketch.pending.size === 0) return sketch;
  // Shared, not copied: inserting the pending values writes new cells anyway (`insertColumn`).
  const copy = shareNumeric(sketch);
  const pending = sketch.pending;
  const budgetCount = copy.n + pending.total;
  if (pending.counts === null) addColumn(copy, pending.values, 0, pending.size, budgetCount);
  else addWeightedColumn(copy, pending.values, pending.counts, pending.size, budgetCount);
  return copy;
}

/** Merge compacting under floor(budgetCount / k) (the score sketch's halves share the total count). */
function mergeWithBudget(a: NumericSketch, b: NumericSketch, budgetCount: number): NumericSketch {
  const left = settled(a);
  const right = settled(b);
  const k = Math.min(left.k, right.k);
  // No cells yet: the compaction sizes them.
  const out = new NumericSketch(k, left.legacy || right.legacy, new Cells(0));
  unionInto(left.cells, right.cells, unionScratch);
  out.n = left.n + right.n;
  compactor.run(unionScratch, out.cells, Math.floor(budgetCount / k));
  return out;
}

/**
 * Merge many settled sketches at once: their cells are united pairwise in a balanced tree without
 * compaction, then compacted once under floor(budgetCount / k). The union's straddling mass is at most the
 * sum of the inputs', so the bound is the same as for pairwise merging, at a fraction of the cost.
 */
function mergeAllWithBudget(sketches: readonly NumericSketch[], budgetCount: number): NumericSketch {
  let k = DEFAULT_K;
  let legacy = false;
  let n = 0;
  let level: Cells[] = [];
  for (const [i, sketch] of sketches.entries()) {
    k = i === 0 ? sketch.k : Math.min(k, sketch.k);
    legacy ||= sketch.legacy;
    n += sketch.n;
    level.push(sketch.cells);
  }
  if (level.length === 0) return emptySketch();
  while (level.length > 1) {
    const next: Cells[] = [];
    for (let i = 0; i < level.length; i += 2) {
      const left = level[i]!;
      const right = level[i + 1];
      if (right === undefined) {
        next.push(left);
        continue;
      }
      const united = new Cells(left.size + right.size);
      unionInto(left, right, united);
      next.push(united);
    }
    level = next;
  }
  const out = new NumericSketch(k, legacy, new Cells(0));
  out.n = n;
  compactor.run(level[0]!, out.cells, Math.floor(budgetCount / k));
  return out;
}

/** Exact minimum of a settled numeric sketch (NaN when empty). */
function minOf(sketch: NumericSketch): number {
  const i = sketch.cells.firstExact();
  return i < 0 ? Number.NaN : keyValue(sketch.cells.hi[i]!, sketch.cells.lo[i]!);
}

/** Exact maximum of a settled numeric sketch (NaN when empty). */
function maxOf(sketch: NumericSketch): number {
  const i = sketch.cells.lastExact();
  return i < 0 ? Number.NaN : keyValue(sketch.cells.hi[i]!, sketch.cells.lo[i]!);
}

/** Sum over coarse cells of count x (cell width clamped to [min, max]), in value units. */
function coarseWidthMass(sketch: NumericSketch): number {
  const cells = sketch.cells;
  if (sketch.n === 0) return 0;
  const lower = minOf(sketch);
  const upper = maxOf(sketch);
  let sum = 0;
  for (let i = 0; i < cells.size; i++) {
    const level = cells.level[i]!;
    if (level === 0) continue;
    const kh = cells.hi[i]!;
    const kl = cells.lo[i]!;
    const endH = lastHi(kh, level);
    const endL = lastLo(kl, level);
    const from = Math.max(lower, keyValue(kh, kl));
    const to = Math.min(upper, isValueKey(endH, endL) ? keyValue(endH, endL) : upper);
    if (to > from) sum += cells.count[i]! * (to - from);
  }
  return sum;
}

/** Pieces of a settled numeric sketch (see `sketchPieces`). */
function numericPieces(sketch: NumericSketch): Piece[] {
  const cells = sketch.cells;
  if (cells.size === 0) return [];
  const minIndex = cells.firstExact();
  const maxIndex = cells.lastExact();
  return piecesOf(cells, cells.hi[minIndex]!, cells.lo[minIndex]!, cells.hi[maxIndex]!, cells.lo[maxIndex]!);
}

// ---------------------------------------------------------------------------------------------------------
// Reading the distribution: pieces, CDF, quantiles.
// ---------------------------------------------------------------------------------------------------------

/**
 * One piece of a sketch's distribution in value space: a point mass (`lo === hi`) or a mass spread
 * uniformly over [lo, hi]. Pieces come sorted by `lo`; interval pieces are disjoint (they may touch); a
 * point may sit where two intervals touch (a heavy exact value inside a coarse cell): the interval ending
 * there comes first, then the point, then the interval starting there.
 */
export interface Piece {
  lo: number;
  hi: number;
  mass: number;
}

function piecesOf(cells: Cells, minH: number, minL: number, maxH: number, maxL: number): Piece[] {
  const pieces: Piece[] = [];
  const emitter = new SegmentEmitter(pieces);
  // Open coarse cells: index, clamped end key, density (count per key).
  const openIndex: number[] = [];
  const openEndH: number[] = [];
  const openEndL: number[] = [];
  const openDensity: number[] = [];
  let posH = minH;
  let posL = minL;
  for (let i = 0; i <= cells.size; i++) {
    const atEnd = i === cells.size;
    const kh = atEnd ? 0 : cells.hi[i]!;
    const kl = atEnd ? 0 : cells.lo[i]!;
    // Close the open cells that do not contain this cell.
    while (openIndex.length > 0) {
      const top = openIndex.length - 1;
      const cell = openIndex[top]!;
      if (!atEnd && blockContains(cells.hi[cell]!, cells.lo[cell]!, cells.level[cell]!, kh, kl)) break;
      emitter.segment(posH, posL, openEndH[top]!, openEndL[top]!, sumOf(openDensity));
      posH = openEndH[top]!;
      posL = openEndL[top]!;
      openIndex.pop();
      openEndH.pop();
      openEndL.pop();
      openDensity.pop();
    }
    if (atEnd) break;
    // Clamp the start to the minimum (a coarse cell may start below it).
    let startH = kh;
    let startL = kl;
    if (compareKeys(kh, kl, minH, minL) < 0) {
      startH = minH;
      startL = minL;
    }
    if (compareKeys(startH, startL, posH, posL) > 0) {
      emitter.segment(posH, posL, startH, startL, sumOf(openDensity));
      posH = startH;
      posL = startL;
    }
    const level = cells.level[i]!;
    if (level === 0) {
      emitter.point(keyValue(kh, kl), cells.count[i]!);
      continue;
    }
    // End (exclusive) of the block, clamped to the maximum.
    let endH: number;
    let endL: number;
    const endLastH = lastHi(kh, level);
    const endLastL = lastLo(kl, level);
    if (compareKeys(endLastH, endLastL, maxH, maxL) >= 0) {
      endH = maxH;
      endL = maxL;
    } else if (endLastL === 0x7fffffff) {
      endH = endLastH + 1;
      endL = SIGN;
    } else {
      endH = endLastH;
      endL = endLastL + 1;
    }
    const span = keyDiff(endH, endL, startH, startL);
    openIndex.push(i);
    openEndH.push(endH);
    openEndL.push(endL);
    openDensity.push(span > 0 ? cells.count[i]! / span : 0);
    if (span <= 0) emitter.point(keyValue(startH, startL), cells.count[i]!);
  }
  emitter.finish();
  return pieces;
}

function sumOf(values: readonly number[]): number {
  let sum = 0;
  for (const v of values) sum += v;
  return sum;
}

/**
 * Turns key segments with a density into value-space pieces, split where the key-to-value map changes
 * slope (octave boundaries: multiples of 2^52 among positive keys, one less among negative keys) so that
 * every piece is uniform in value. Zero-width pieces (the -0/+0 key pair) fold their mass into a neighbour.
 */
class SegmentEmitter {
  private carry = 0;
  constructor(private readonly pieces: Piece[]) {}

  point(value: number, mass: number): void {
    this.fold();
    this.pieces.push({ lo: value, hi: value, mass });
  }

  segment(fromH: number, fromL: number, toH: number, toL: number, density: number): void {
    if (!(density > 0)) return;
    let curH = fromH;
    let curL = fromL;
    while (compareKeys(curH, curL, toH, toL) < 0) {
      let nextH: number;
      let nextL: number;
      const hiU = (curH ^ SIGN) >>> 0;
      if (curH >= 0) {
        // Positive keys: the next multiple of 2^52.
        const octave = (hiU >>> 20) + 1;
        if (octave >= 4096) {
          nextH = toH;
          nextL = toL;
        } else {
          nextH = ((octave << 20) ^ SIGN) | 0;
          nextL = SIGN;
        }
      } else {
        // Negative keys: the next key b > cur with b + 1 a multiple of 2^52.
        const plusOneHi = (curL ^ SIGN) >>> 0 === 0xffffffff ? hiU + 1 : hiU;
        const block = Math.floor(plusOneHi / 1048576) + 1;
        nextH = ((block * 1048576 - 1) ^ SIGN) | 0;
        nextL = 0x7fffffff;
      }
      if (compareKeys(nextH, nextL, toH, toL) > 0) {
        nextH = toH;
        nextL = toL;
      }
      const mass = density * keyDiff(nextH, nextL, curH, curL);
      const lo = keyValue(curH, curL);
      const hi = keyValue(nextH, nextL);
      if (hi > lo) {
        this.pieces.push({ lo, hi, mass: mass + this.carry });
        this.carry = 0;
      } else this.carry += mass;
      curH = nextH;
      curL = nextL;
    }
  }

  /** Zero-width mass goes to the previous interval piece if there is one, else it waits for the next. */
  private fold(): void {
    if (this.carry === 0) return;
    const last = this.pieces[this.pieces.length - 1];
    if (last !== undefined && last.hi > last.lo) {
      last.mass += this.carry;
      this.carry = 0;
    }
  }

  finish(): void {
    this.fold();
    if (this.carry !== 0) {
      const last = this.pieces[this.pieces.length - 1];
      if (last !== undefined) last.mass += this.carry;
      this.carry = 0;
    }
  }
}

/** Mass at or below x (`inclusive`) or strictly below x, in sorted pieces. */
function piecesMass(pieces: readonly Piece[], x: number, inclusive: boolean): number {
  let mass = 0;
  for (const piece of pieces) {
    if (piece.lo > x || (piece.lo === x && !inclusive && piece.lo === piece.hi)) break;
    if (piece.lo === piece.hi || piece.hi <= x) mass += piece.mass;
    else mass += (piece.mass * (x - piece.lo)) / (piece.hi - piece.lo);
  }
  return mass;
}

/** numpy-linear quantile of sorted pieces whose masses add up to the count `total`. */
function piecesQuantile(pieces: readonly Piece[], total: number, q: number): number {
  const position = (total - 1) * q;
  const below = Math.floor(position);
  const fraction = position - below;
  const lower = piecesOrderStatistic(pieces, below);
  if (fraction === 0) return lower;
  const upper = piecesOrderStatistic(pieces, Math.min(below + 1, total - 1));
  const diff = upper - lower;
  // numpy's _lerp: from the nearer end, so the result stays within [lower, upper].
  return fraction >= 0.5 ? upper - diff * (1 - fraction) : lower + diff * fraction;
}

/** The value where the cumulative mass of sorted pieces reaches j + 1/2 (linear inside intervals). */
function piecesOrderStatistic(pieces: readonly Piece[], j: number): number {
  const target = j + 0.5;
  let cum = 0;
  let last = Number.NaN;
  for (const piece of pieces) {
    if (cum + piece.mass >= target) {
      if (piece.lo === piece.hi) return piece.lo;
      const fraction = (target - cum) / piece.mass;
      return Math.min(piece.hi, piece.lo + fraction * (piece.hi - piece.lo));
    }
    cum += piece.mass;
    last = piece.hi;
  }
  return last;
}

/**
 * The sum of two piece lists (each sorted as `Piece` documents) as one such list: intervals are cut at every
 * endpoint and point of both lists, and overlapping parts add their densities. Only a score sketch holding
 * legacy data next to its two halves needs it (the halves and the legacy part overlap in value).
 */
function addPieces(a: readonly Piece[], b: readonly Piece[]): Piece[] {
  if (a.length === 0) return [...b];
  if (b.length === 0) return [...a];
  const cuts: number[] = [];
  /** Per cut: the change of density and of the number of intervals covering the cut's right side. */
  const changes = new Map<number, { density: number; open: number }>();
  const change = (at: number, density: number, open: number): void => {
    const entry = changes.get(at);
    if (entry === undefined) changes.set(at, { density, open });
    else {
      entry.density += density;
      entry.open += open;
    }
  };
  const points = new Map<number, number>();
  for (const piece of [...a, ...b]) {
    cuts.push(piece.lo, piece.hi);
    if (piece.hi === piece.lo) {
      points.set(piece.lo, (points.get(piece.lo) ?? 0) + piece.mass);
      continue;
    }
    const density = piece.mass / (piece.hi - piece.lo);
    change(piece.lo, density, 1);
    change(piece.hi, -density, -1);
  }
  cuts.sort((x, y) => x - y);
  const out: Piece[] = [];
  let density = 0;
  let open = 0;
  for (let i = 0; i < cuts.length; i++) {
    const at = cuts[i]!;
    if (i > 0 && at === cuts[i - 1]) continue;
    const point = points.get(at);
    if (point !== undefined) out.push({ lo: at, hi: at, mass: point });
    const entry = changes.get(at);
    if (entry !== undefined) {
      open += entry.open;
      // Exactly 0 between intervals, whatever the rounding of the running sum.
      density = open === 0 ? 0 : density + entry.density;
    }
    let next = i + 1;
    while (next < cuts.length && cuts[next] === at) next++;
    const to = cuts[next];
    if (to !== undefined && density > 0) out.push({ lo: at, hi: to, mass: density * (to - at) });
  }
  return out;
}
// ---------------------------------------------------------------------------------------------------------

/** Version byte of a sketch with the straddle invariant (the error bound holds). */
const FORMAT_VERSION = 1;
/** Version byte of a legacy sketch: same layout, straddle not checked, error bound unknown. */
const LEGACY_FORMAT_VERSION = 2;
const RICE_ESCAPE = 4;

class BitWriter {
  bytes = new Uint8Array(256);
  length = 0;
  private acc = 0;
  private bits = 0;

  private ensure(extra: number): void {
    if (this.length + extra <= this.bytes.length) return;
    const next = new Uint8Array(Math.max(this.bytes.length * 2, this.length + extra));
    next.set(this.bytes.subarray(0, this.length));
    this.bytes = next;
  }

  /** Whole bytes (only before any bit was written). */
  byte(v: number): void {
    this.ensure(1);
    this.bytes[this.length++] = v;
  }

  uvarint(v: number): void {
    let x = v;
    while (x >= 0x80) {
      this.byte((x % 0x80) | 0x80);
      x = Math.floor(x / 0x80);
    }
    this.byte(x);
  }

  /** The low `count` (0..24) bits of `value`, most significant first. */
  write(value: number, count: number): void {
    if (count === 0) return;
    this.acc = ((this.acc << count) | (value & ((1 << count) - 1))) >>> 0;
    this.bits += count;
    while (this.bits >= 8) {
      this.bits -= 8;
      this.ensure(1);
      this.bytes[this.length++] = (this.acc >>> this.bits) & 0xff;
    }
    this.acc &= (1 << this.bits) - 1;
  }

  /** The low `count` (0..64) bits of the unsigned 64-bit (hiU, loU), most significant first. */
  write64(hiU: number, loU: number, count: number): void {
    let left = count;
    while (left > 0) {
      const take = Math.min(16, left);
      const shift = left - take;
      let chunk: number;
      if (shift >= 32) chunk = hiU >>> (shift - 32);
      else if (shift === 0) chunk = loU;
      else chunk = (loU >>> shift) | (hiU << (32 - shift));
      this.write(chunk & 0xffff, take);
      left = shift;
    }
  }

  /** Elias-gamma code of v in [1, 128]. */
  gamma(v: number): void {
    const bits = 32 - Math.clz32(v);
    this.write(0, bits - 1);
    this.write(v, bits);
  }

  /** A 64-bit unsigned integer: gamma(bit length + 1), then the bits below the leading one. */
  uint64(hiU: number, loU: number): void {
    const length = hiU !== 0 ? 64 - Math.clz32(hiU) : 32 - Math.clz32(loU);
    this.gamma(length + 1);
    if (length > 1) this.write64(hiU, loU, length - 1);
  }

  /** A non-negative integer below 2^53 with the same code as `uint64`. */
  uint(v: number): void {
    this.uint64(Math.floor(v / 4294967296), v >>> 0);
  }

  /** Pad the last byte with zero bits. */
  finish(): void {
    if (this.bits > 0) this.write(0, 8 - this.bits);
  }
}

class BitReader {
  /** The bytes plus four zero bytes, so a 32-bit window can always be read. */
  private readonly bytes: Uint8Array;
  private readonly totalBits: number;
  private bitPos = 0;

  constructor(source: Uint8Array) {
    this.bytes = new Uint8Array(source.length + 4);
    this.bytes.set(source);
    this.totalBits = 8 * source.length;
  }

  get bitsLeft(): number {
    return this.totalBits - this.bitPos;
  }

  /** A whole byte (only before any bit was read). */
  byte(): number {
    if (this.bitPos + 8 > this.totalBits) throw new SketchFormatError("truncated sketch");
    const b = this.bytes[this.bitPos >>> 3]!;
    this.bitPos += 8;
    return b;
  }

  uvarint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.byte();
      result += (b & 0x7f) * scale;
      if (b < 0x80) {
        if (b === 0 && i > 0) throw new SketchFormatError("non-minimal varint");
        if (result > Number.MAX_SAFE_INTEGER) throw new SketchFormatError("varint out of range");
        return result;
      }
      scale *= 0x80;
    }
    throw new SketchFormatError("varint too long");
  }

  /** The next 24 bits (zero past the end), without consuming them. */
  private peek24(): number {
    const at = this.bitPos >>> 3;
    const b = this.bytes;
    const window = ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
    return (window >>> (8 - (this.bitPos & 7))) & 0xffffff;
  }

  private skip(count: number): void {
    if (this.bitPos + count > this.totalBits) throw new SketchFormatError("truncated sketch");
    this.bitPos += count;
  }

  /** `count` (0..24) bits, most significant first. */
  read(count: number): number {
    if (count === 0) return 0;
    const v = this.peek24() >>> (24 - count);
    this.skip(count);
    return v;
  }

  readBit(): number {
    return this.read(1);
  }

  /** Up to 64 bits as a double (exact below 2^53) or into `wide`. */
  readWide(count: number): void {
    let hiU = 0;
    let loU = 0;
    let left = count;
    while (left > 0) {
      const take = Math.min(16, left);
      const chunk = this.read(take);
      hiU = ((hiU << take) | (loU >>> (32 - take))) >>> 0;
      loU = ((loU << take) | chunk) >>> 0;
      left -= take;
    }
    wide[0] = hiU;
    wide[1] = loU;
  }

  gamma(): number {
    const zeros = Math.clz32(this.peek24() << 8);
    if (zeros > 7) throw new SketchFormatError("gamma code too long");
    this.skip(zeros);
    return this.read(zeros + 1);
  }

  /** `BitWriter.uint64` into `wide[0]` (high half) and `wide[1]` (low half), both unsigned. */
  uint64(): void {
    const length = this.gamma() - 1;
    if (length > 64) throw new SketchFormatError("integer longer than 64 bits");
    if (length <= 1) {
      wide[0] = 0;
      wide[1] = length;
      return;
    }
    this.readWide(length - 1);
    // Put back the leading one at bit length - 1.
    if (length - 1 >= 32) wide[0] = (wide[0]! | (1 << (length - 33))) >>> 0;
    else wide[1] = (wide[1]! | (1 << (length - 1))) >>> 0;
  }

  uint(): number {
    this.uint64();
    if (wide[0]! >= 2 ** 21) throw new SketchFormatError("integer out of range");
    return wide[0]! * 4294967296 + wide[1]!;
  }

  /** The rest of the current byte must be zero padding, and no byte may follow. */
  finish(): void {
    const rest = (8 - (this.bitPos & 7)) & 7;
    if (rest > 0) {
      if (this.read(rest) !== 0) throw new SketchFormatError("non-zero padding bits");
    }
    if (this.bitPos !== this.totalBits) throw new SketchFormatError("trailing bytes");
  }
}

/** Unsigned 64-bit scratch (high, low) for the bit reader. */
const wide = new Float64Array(2);

/** Rice parameter for counts: coarse counts are at most floor(n / k) < 2^(r + 1). */
function riceBits(n: number, k: number): number {
  const limit = Math.floor(n / k);
  return limit < 2 ? 0 : Math.floor(Math.log2(limit));
}

/**
 * Compact string form (base64). Layout: version byte, varints k, n and the cell count, then a bit stream
 * with, per cell in pre-order:
 * - 1 bit: the cell lies inside the previous cell's block;
 * - the zigzag of (level - previous level), as `uint` (1 bit for no change);
 * - d as `uint`: inside, the offset from the previous start in units of 2^level; else the distance from
 *   the previous block's end, rounded up to 2^level, in units of 2^level (0 for adjacent cells);
 * - the count, Rice-coded with r = floor(log2(n / k)): quotient in unary (below 4), then r bits; a quotient
 *   of 4 or more is written as four 1s and `uint(count - 4 * 2^r)`.
 * Adjacent cells of one level cost about r + 4 bits. The same sketch always gives the same string, and
 * `deserializeSketch` accepts only strings that `serializeSketch` produces.
 */
function serializeNumeric(sketch: NumericSketch): string {
  const cells = sketch.cells;
  const writer = new BitWriter();
  writer.byte(sketch.legacy ? LEGACY_FORMAT_VERSION : FORMAT_VERSION);
  writer.uvarint(sketch.k);
  writer.uvarint(sketch.n);
  writer.uvarint(cells.size);
  const rice = riceBits(sketch.n, sketch.k);
  const riceScale = 2 ** rice;
  let prevH = SIGN;
  let prevL = SIGN;
  let prevLevel = 0;
  for (let i = 0; i < cells.size; i++) {
    const kh = cells.hi[i]!;
    const kl = cells.lo[i]!;
    const level = cells.level[i]!;
    const inside = i > 0 && prevLevel > level && blockContains(prevH, prevL, prevLevel, kh, kl);
    writer.write(inside ? 1 : 0, 1);
    const dl = level - prevLevel;
    writer.uint(dl >= 0 ? 2 * dl : -2 * dl - 1);
    // Reference point: the previous start (inside) or the previous block's end (after), at this level.
    let refH = (prevH ^ SIGN) >>> 0;
    let refL = (prevL ^ SIGN) >>> 0;
    if (!inside && i > 0) {
      // End of the previous block = its last key + 1, then rounded up to 2^level below by the shift.
      const lastH =
        prevLevel >= 64 ? 0xffffffff : prevLevel > 32 ? (refH | lowMask(prevLevel - 32)) >>> 0 : refH;
      const lastL = prevLevel >= 32 ? 0xffffffff : (refL | lowMask(prevLevel)) >>> 0;
      refH = lastH;
      refL = lastL;
    }
    // q = key >> level; for "after", ref = (last >> level) + 1 = ceil(end / 2^level).
    const keyH = (kh ^ SIGN) >>> 0;
    const keyL = (kl ^ SIGN) >>> 0;
    let qH = shiftHigh(keyH, level);
    let qL = shiftLow(keyH, keyL, level);
    let rH = shiftHigh(refH, level);
    let rL = shiftLow(refH, refL, level);
    if (!inside && i > 0) {
      rL += 1;
      if (rL === 4294967296) {
        rL = 0;
        rH += 1;
      }
    }
    qL -= rL;
    qH -= rH;
    if (qL < 0) {
      qL += 4294967296;
      qH -= 1;
    }
    writer.uint64(qH, qL);
    const count = cells.count[i]!;
    const quotient = Math.floor(count / riceScale);
    if (quotient < RICE_ESCAPE) {
      writer.write(0xf >>> (4 - quotient), quotient);
      writer.write(0, 1);
      const rest = count - quotient * riceScale;
      if (rice <= 24) writer.write(rest, rice);
      else writer.write64(Math.floor(rest / 4294967296), rest >>> 0, rice);
    } else {
      writer.write(0xf, RICE_ESCAPE);
      writer.uint(count - RICE_ESCAPE * riceScale);
    }
    prevH = kh;
    prevL = kl;
    prevLevel = level;
  }
  writer.finish();
  return Buffer.from(writer.bytes.buffer, writer.bytes.byteOffset, writer.length).toString("base64");
}

/** High half of (hiU, loU) >> shift. */
function shiftHigh(hiU: number, shift: number): number {
  return shift >= 32 ? 0 : hiU >>> shift;
}

/** Low half of (hiU, loU) >> shift, unsigned. */
function shiftLow(hiU: number, loU: number, shift: number): number {
  if (shift === 0) return loU;
  if (shift >= 64) return 0;
  if (shift >= 32) return hiU >>> (shift - 32);
  return ((loU >>> shift) | (hiU << (32 - shift))) >>> 0;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Parse `serializeSketch` output, checking everything the sketch relies on: canonical base64, version, k,
 * levels 0..64, cells strictly in pre-order, exact cells on finite values, coarse cells overlapping
 * (min, max), positive counts adding up to n, and straddling mass within floor(n / k) (so `errorBound` of an
/**
 * Parse `serializeNumeric` output, checking everything the sketch relies on: canonical base64, version, k,
 * levels 0..64, cells strictly in pre-order, exact cells on finite values, coarse cells overlapping
 * (min, max), positive counts adding up to n, and (unless legacy) straddling mass within
 * floor(budgetCount / k), so that `errorBound` of an accepted sketch is true. Throws `SketchFormatError`.
 */
function deserializeNumeric(text: unknown, budgetCount: number | null): NumericSketch {
  if (typeof text !== "string" || !BASE64.test(text)) throw new SketchFormatError("not a base64 string");
  const bytes = new Uint8Array(Buffer.from(text, "base64"));
  const reader = new BitReader(bytes);
  const version = reader.byte();
  if (version !== FORMAT_VERSION && version !== LEGACY_FORMAT_VERSION) {
    throw new SketchFormatError(`unknown sketch format version ${version}`);
  }
  const legacy = version === LEGACY_FORMAT_VERSION;
  const k = reader.uvarint();
  if (k < 1 || k > 1_000_000) throw new SketchFormatError(`k out of range: ${k}`);
  const n = reader.uvarint();
  const size = reader.uvarint();
  if (size > reader.bitsLeft) throw new SketchFormatError("more cells than bits");
  if ((n === 0) !== (size === 0)) throw new SketchFormatError("cells do not match the count");
  const rice = riceBits(n, k);
  const riceScale = 2 ** rice;
  const cells = new Cells(Math.max(16, size));
  let prevH = SIGN;
  let prevL = SIGN;
  let prevLevel = 0;
  let total = 0;
  for (let i = 0; i < size; i++) {
    const inside = reader.readBit() === 1;
    const zig = reader.uint();
    const level = prevLevel + (zig % 2 === 0 ? zig / 2 : -(zig + 1) / 2);
    if (level < 0 || level > 64) throw new SketchFormatError(`level out of range: ${level}`);
    if (i === 0 && inside) throw new SketchFormatError("first cell inside nothing");
    if (inside && level >= prevLevel) throw new SketchFormatError("nested cell not finer than its parent");
    reader.uint64();
    const dH = wide[0]!;
    const dL = wide[1]!;
    let refH = (prevH ^ SIGN) >>> 0;
    let refL = (prevL ^ SIGN) >>> 0;
    if (!inside && i > 0) {
      refH = prevLevel >= 64 ? 0xffffffff : prevLevel > 32 ? (refH | lowMask(prevLevel - 32)) >>> 0 : refH;
      refL = prevLevel >= 32 ? 0xffffffff : (refL | lowMask(prevLevel)) >>> 0;
    }
    let qH = shiftHigh(refH, level);
    let qL = shiftLow(refH, refL, level);
    if (!inside && i > 0) {
      qL += 1;
      if (qL === 4294967296) {
        qL = 0;
        qH += 1;
      }
    }
    qL += dL;
    qH += dH;
    if (qL >= 4294967296) {
      qL -= 4294967296;
      qH += 1;
    }
    // The block index must fit in 64 - level bits.
    const indexBits = qH !== 0 ? 64 - Math.clz32(qH) : qL !== 0 ? 32 - Math.clz32(qL) : 0;
    if (qH >= 4294967296 || indexBits > 64 - level) throw new SketchFormatError("cell key out of range");
    const keyH =
      level >= 64
        ? 0
        : level >= 32
          ? (qL << (level - 32)) >>> 0
          : level === 0
            ? qH
            : ((qH << level) | (qL >>> (32 - level))) >>> 0;
    const keyL = level >= 32 ? 0 : (qL << level) >>> 0;
    const kh = (keyH ^ SIGN) | 0;
    const kl = (keyL ^ SIGN) | 0;
    if (inside && !blockContains(prevH, prevL, prevLevel, kh, kl)) {
      throw new SketchFormatError("nested cell outside its parent");
    }
    let quotient = 0;
    while (quotient < RICE_ESCAPE && reader.readBit() === 1) quotient++;
    let count: number;
    if (quotient < RICE_ESCAPE) {
      if (rice <= 24) count = quotient * riceScale + reader.read(rice);
      else {
        reader.readWide(rice);
        count = quotient * riceScale + wide[0]! * 4294967296 + wide[1]!;
      }
    } else count = RICE_ESCAPE * riceScale + reader.uint();
    if (count < 1 || count > Number.MAX_SAFE_INTEGER) throw new SketchFormatError("cell count out of range");
    if (i > 0) {
      const order = compareKeys(kh, kl, prevH, prevL);
      if (order < 0 || (order === 0 && level >= prevLevel)) throw new SketchFormatError("cells out of order");
      // A cell inside the previous block must say so (one encoding per sketch).
      if (!inside && prevLevel > level && blockContains(prevH, prevL, prevLevel, kh, kl)) {
        throw new SketchFormatError("nested cell not marked as nested");
      }
    }
    if (level === 0 && !isValueKey(kh, kl)) throw new SketchFormatError("exact cell on a non-finite value");
    cells.push(kh, kl, level, count);
    total += count;
    prevH = kh;
    prevL = kl;
    prevLevel = level;
  }
  reader.finish();
  if (total !== n) throw new SketchFormatError("cell counts do not add up to n");
  if (size > 0) {
    const first = cells.firstExact();
    const last = cells.lastExact();
    if (first < 0) throw new SketchFormatError("no exact minimum and maximum");
    for (let i = 0; i < size; i++) {
      const level = cells.level[i]!;
      if (level === 0) continue;
      // A coarse cell holds values strictly between the minimum and the maximum.
      const kh = cells.hi[i]!;
      const kl = cells.lo[i]!;
      const startsBelowMax = compareKeys(kh, kl, cells.hi[last]!, cells.lo[last]!) < 0;
      const endsAboveMin =
        compareKeys(lastHi(kh, level), lastLo(kl, level), cells.hi[first]!, cells.lo[first]!) > 0;
      if (!startsBelowMax || !endsAboveMin) throw new SketchFormatError("coarse cell outside (min, max)");
    }
    if (!legacy && maxStraddle(cells) > Math.floor((budgetCount ?? n) / k)) {
      throw new SketchFormatError("straddling mass exceeds n / k");
    }
  }
  const sketch = new NumericSketch(k, legacy, cells);
  sketch.n = n;
  return sketch;
}

// ---------------------------------------------------------------------------------------------------------
// Scores (probabilities): equal resolution near 0 and near 1.
// ---------------------------------------------------------------------------------------------------------

/**
 * A sketch for scores in [0, 1] with the same resolution near 1 as near 0. Floats are dense near 0 and
 * sparse near 1, and a coarse cell near 1 is linear in s while near 0 it spans octaves of s. So the scores
 * are kept in two tries: s for s <= 1/2, and u = 1 - s (exact in float64 for s >= 1/2) for s > 1/2, where
 * cells span octaves of 1 - s. Both halves are compacted under floor(n / k) with n the total count: a CDF
 * read at x involves only the half that holds x (the other half contributes all or none of its count), so
 * the guaranteed error is still floor(n / k) / n, and the cell count is that of one sketch.
 *
 * `legacy` holds scores read from a format-1/2 profile (an s-space sketch converted from the old grid):
 * its pieces are added to the halves' pieces, and the error bound is unknown while it is there.
 */
export class ScoreSketch {
  /** @internal */ pending: Pending | null = null;
  constructor(
    /** @internal Scores s <= 1/2. */ public low: NumericSketch,
    /** @internal 1 - s for scores s > 1/2. */ public high: NumericSketch,
    /** @internal Legacy scores in s-space (error bound unknown), or null. */ public legacy: NumericSketch | null,
  ) {}
}

/** An empty score sketch; `k` as for `emptySketch`. */
export function emptyScoreSketch(k = DEFAULT_K): ScoreSketch {
  return new ScoreSketch(emptySketch(k), emptySketch(k), null);
}

function isScore(value: number): boolean {
  return value >= 0 && value <= 1;
}

function addScoreValue(sketch: ScoreSketch, value: number, count: number): void {
  if (!isScore(value)) throw new SketchValueError(`score ${value} is not in [0, 1]`);
  checkedCount(count);
  if (sketch.pending === null) sketch.pending = new Pending();
  if (sketch.pending.add(value, count)) flushScores(sketch);
}

/** Total count held by the settled parts of a score sketch (the budget count of both halves). */
function scoreSettledCount(sketch: ScoreSketch): number {
  return sketch.low.n + sketch.high.n + (sketch.legacy?.n ?? 0);
}

let scoreLow = new Float64Array(1024);
let scoreHigh = new Float64Array(1024);
let scoreLowCounts = new Float64Array(1024);
let scoreHighCounts = new Float64Array(1024);

/** Insert scores (each in [0, 1], checked by the caller) with optional counts, split into the halves. */
function addScoreColumn(
  sketch: ScoreSketch,
  values: Float64Array,
  counts: Float64Array | null,
  start: number,
  end: number,
  added: number,
): void {
  const columnLength = end - start;
  if (columnLength <= 0) return;
  if (scoreLow.length < columnLength) {
    const size = Math.max(columnLength, 2 * scoreLow.length);
    scoreLow = new Float64Array(size);
    scoreHigh = new Float64Array(size);
    scoreLowCounts = new Float64Array(size);
    scoreHighCounts = new Float64Array(size);
  }
  let lows = 0;
  let highs = 0;
  for (let i = start; i < end; i++) {
    const score = values[i]!;
    const count = counts === null ? 1 : counts[i]!;
    if (score <= 0.5) {
      scoreLowCounts[lows] = count;
      scoreLow[lows++] = score === 0 ? 0 : score;
    } else {
      scoreHighCounts[highs] = count;
      scoreHigh[highs++] = 1 - score;
    }
  }
  const total = scoreSettledCount(sketch) + added;
  if (counts === null) {
    addColumn(sketch.low, scoreLow, 0, lows, total);
    addColumn(sketch.high, scoreHigh, 0, highs, total);
  } else {
    addWeightedColumn(sketch.low, scoreLow, scoreLowCounts, lows, total);
    addWeightedColumn(sketch.high, scoreHigh, scoreHighCounts, highs, total);
  }
}

function flushScores(sketch: ScoreSketch): void {
  const pending = sketch.pending;
  if (pending === null || pending.size === 0) return;
  addScoreColumn(sketch, pending.values, pending.counts, 0, pending.size, pending.total);
  pending.clear();
}

/** The score sketch with its pending scores moved into the halves, leaving `sketch` untouched. */
function settledScores(sketch: ScoreSketch): ScoreSketch {
  if (sketch.pending === null || sketch.pending.size === 0) return sketch;
  const copy = new ScoreSketch(shareNumeric(sketch.low), shareNumeric(sketch.high), sketch.legacy);
  const pending = sketch.pending;
  addScoreColumn(copy, pending.values, pending.counts, 0, pending.size, pending.total);
  return copy;
}

/** A new score sketch with the scores of both (inputs unchanged); the bound holds for any merge tree. */
function mergeScores(a: ScoreSketch, b: ScoreSketch): ScoreSketch {
  const left = settledScores(a);
  const right = settledScores(b);
  const total = scoreSettledCount(left) + scoreSettledCount(right);
  const legacy =
    left.legacy === null
      ? right.legacy
      : right.legacy === null
        ? left.legacy
        : mergeWithBudget(left.legacy, right.legacy, left.legacy.n + right.legacy.n);
  return new ScoreSketch(
    mergeWithBudget(left.low, right.low, total),
    mergeWithBudget(left.high, right.high, total),
    legacy,
  );
}

/** Minimum score of a settled score sketch (NaN when empty). */
function scoreMin(sketch: ScoreSketch): number {
  const candidates = [
    minOf(sketch.low),
    1 - maxOf(sketch.high),
    sketch.legacy ? minOf(sketch.legacy) : Number.NaN,
  ];
  return extreme(candidates, Math.min);
}

/** Maximum score of a settled score sketch (NaN when empty). */
function scoreMax(sketch: ScoreSketch): number {
  const candidates = [
    maxOf(sketch.low),
    1 - minOf(sketch.high),
    sketch.legacy ? maxOf(sketch.legacy) : Number.NaN,
  ];
  return extreme(candidates, Math.max);
}

/** The smallest or largest of the numbers that are not NaN (NaN if none). */
function extreme(values: readonly number[], pick: (a: number, b: number) => number): number {
  let out = Number.NaN;
  for (const v of values) if (!Number.isNaN(v)) out = Number.isNaN(out) ? v : pick(out, v);
  return out;
}

/** The scores as sorted pieces in s (the upper half mirrored back from 1 - s, legacy scores added). */
function scorePieces(sketch: ScoreSketch): Piece[] {
  const pieces = numericPieces(sketch.low);
  const high = numericPieces(sketch.high);
  for (let i = high.length - 1; i >= 0; i--) {
    const piece = high[i]!;
    pieces.push({ lo: 1 - piece.hi, hi: 1 - piece.lo, mass: piece.mass });
  }
  return sketch.legacy === null ? pieces : addPieces(pieces, numericPieces(sketch.legacy));
}

/**
 * `low.high` (each half as a numeric sketch; base64 has no '.'), plus `.legacy` when legacy scores are held.
 * Each half's straddling mass is validated against floor(total n / k) on the way back.
 */
function serializeScores(sketch: ScoreSketch): string {
  const halves = `${serializeNumeric(sketch.low)}.${serializeNumeric(sketch.high)}`;
  return sketch.legacy === null ? halves : `${halves}.${serializeNumeric(sketch.legacy)}`;
}

/**
 * Parse a serialized score sketch with the checks of `deserializeSketch` on every part, plus: the halves are
 * bounded sketches with the same k, the low half holds values in [0, 1/2], the high half values in
 * [0, 1/2), and a legacy part (if any) is a non-empty legacy sketch of values in [0, 1]. Throws
 * `SketchFormatError`.
 */
export function deserializeScoreSketch(text: unknown): ScoreSketch {
  if (typeof text !== "string") throw new SketchFormatError("not a string");
  const parts = text.split(".");
  if (parts.length !== 2 && parts.length !== 3)
    throw new SketchFormatError("a score sketch has two or three parts");
  const legacy = parts[2] === undefined ? null : deserializeNumeric(parts[2], null);
  if (legacy !== null && (!legacy.legacy || legacy.n === 0)) {
    throw new SketchFormatError("the third part of a score sketch must be a non-empty legacy sketch");
  }
  if (legacy !== null && !(minOf(legacy) >= 0 && maxOf(legacy) <= 1)) {
    throw new SketchFormatError("legacy scores out of [0, 1]");
  }
  // Read each half once to learn the counts, then validate both against the total.
  const counts = [parts[0], parts[1]].map((part) => deserializeNumeric(part, Number.MAX_SAFE_INTEGER).n);
  const total = counts[0]! + counts[1]! + (legacy?.n ?? 0);
  const low = deserializeNumeric(parts[0], total);
  const high = deserializeNumeric(parts[1], total);
  if (low.legacy || high.legacy)
    throw new SketchFormatError("score sketch halves must not be legacy sketches");
  if (low.k !== high.k) throw new SketchFormatError("score sketch halves with different k");
  if (low.n > 0 && !(minOf(low) >= 0 && maxOf(low) <= 0.5))
    throw new SketchFormatError("low half out of [0, 1/2]");
  if (high.n > 0 && !(minOf(high) >= 0 && maxOf(high) < 0.5)) {
    throw new SketchFormatError("high half out of [0, 1/2)");
  }
  return new ScoreSketch(low, high, legacy);
}

// ---------------------------------------------------------------------------------------------------------
// The public API, for both kinds of sketch.
// ---------------------------------------------------------------------------------------------------------

/** A numeric feature's sketch or a score sketch: every function below takes either. */
export type Sketch = NumericSketch | ScoreSketch;

/** Move pending values into the cells (reads call it; the result depends only on the operations so far). */
function flush(sketch: Sketch): void {
  if (sketch instanceof ScoreSketch) flushScores(sketch);
  else flushNumeric(sketch);
}

/**
 * Add one value, `count` times (a positive integer; default 1). Values wait in a buffer of 512 and go in as
 * one column when it fills or on any read, so single adds give the same bytes as the same values added as
 * columns of 512. Throws `SketchValueError` (adding nothing) for a non-finite value, a score outside [0, 1]
 * or an invalid count.
 */
export function sketchAdd(sketch: Sketch, value: number, count = 1): void {
  if (sketch instanceof ScoreSketch) addScoreValue(sketch, value, count);
  else addNumericValue(sketch, value, count);
}

/**
 * Add the values `values[start..end)` at once (the ingest's column insert, `addPredictionRows`): sorted,
 * counted per distinct value, united with the sketch's cells and compacted once. Costs about a sort of the
 * column plus linear passes. Throws `SketchValueError` (adding nothing) on a value `sketchAdd` rejects.
 */
export function sketchAddAll(sketch: Sketch, values: Float64Array, start = 0, end = values.length): void {
  flush(sketch);
  if (sketch instanceof ScoreSketch) {
    for (let i = start; i < end; i++) {
      if (!isScore(values[i]!)) throw new SketchValueError(`score ${values[i]} is not in [0, 1]`);
    }
    addScoreColumn(sketch, values, null, start, end, end - start);
  } else addColumn(sketch, values, start, end);
}

/**
 * A new sketch holding the values of both (pure: the inputs are unchanged). Its straddling mass is at most
 * the sum of theirs before compaction, so the bound holds for any merge tree and order: merging is
 * commutative and associative in value (counts, minimum and maximum exact; CDFs within the bounds), not in
 * bytes. With different `k`s the result has the smaller `k`. Both must be of the same kind.
 */
export function mergeSketches<S extends Sketch>(a: S, b: S): S {
  if (a instanceof ScoreSketch !== b instanceof ScoreSketch)
    throw new TypeError("cannot merge a score sketch with a numeric sketch");
  // Merging nothing changes nothing: a copy, not a compaction of the same cells under the same budget
  // (labels-only groups merge empty feature sketches into every stored bucket).
  if (sketchCount(b) === 0 && kOf(b) >= kOf(a)) return copyOf(a);
  if (sketchCount(a) === 0 && kOf(a) >= kOf(b)) return copyOf(b);
  if (a instanceof ScoreSketch && b instanceof ScoreSketch) return mergeScores(a, b) as S;
  if (a instanceof NumericSketch && b instanceof NumericSketch) {
    return mergeWithBudget(a, b, sketchCount(a) + sketchCount(b)) as S;
  }
  throw new TypeError("cannot merge a score sketch with a numeric sketch");
}

/**
 * Merge many sketches of one kind at once (the evaluator's window of bucket sketches): cells united in a
 * balanced tree without compaction, then compacted once. Same bound as pairwise merging; inputs unchanged.
 */
export function mergeAllSketches<S extends Sketch>(all: readonly S[]): S {
  if (all[0] === undefined) throw new RangeError("mergeAllSketches needs at least one sketch");
  // Empty sketches add nothing, unless they would lower k.
  const kept = Math.min(...all.filter((s) => sketchCount(s) > 0).map(kOf));
  const sketches = all.filter((s) => sketchCount(s) > 0 || kOf(s) < kept);
  const first = sketches[0];
  if (first === undefined) return copyOf(all[0]);
  if (sketches.length === 1) return copyOf(first);
  if (first instanceof NumericSketch) {
    const ready = sketches.map((s) => {
      if (!(s instanceof NumericSketch))
        throw new TypeError("cannot merge a score sketch with a numeric sketch");
      return settled(s);
    });
    return mergeAllWithBudget(
      ready,
      ready.reduce((sum, s) => sum + s.n, 0),
    ) as S;
  }
  const ready = sketches.map((s) => {
    if (!(s instanceof ScoreSketch)) throw new TypeError("cannot merge a score sketch with a numeric sketch");
    return settledScores(s);
  });
  const total = ready.reduce((sum, s) => sum + scoreSettledCount(s), 0);
  const legacies = ready.flatMap((s) => (s.legacy === null ? [] : [s.legacy]));
  return new ScoreSketch(
    mergeAllWithBudget(
      ready.map((s) => s.low),
      total,
    ),
    mergeAllWithBudget(
      ready.map((s) => s.high),
      total,
    ),
    legacies.length === 0
      ? null
      : mergeAllWithBudget(
          legacies,
          legacies.reduce((sum, s) => sum + s.n, 0),
        ),
  ) as S;
}

/** The error parameter of a sketch (a score sketch's halves share one). */
function kOf(sketch: Sketch): number {
  return sketch instanceof ScoreSketch ? Math.min(sketch.low.k, sketch.high.k) : sketch.k;
}

/**
 * A settled sketch with the same cells, independent of `sketch` (which is left as it is): the cells are
 * shared, and copied by whichever sketch changes them first (`insertColumn`).
 */
function shareNumeric(sketch: NumericSketch): NumericSketch {
  sketch.cells.shared = true;
  const copy = new NumericSketch(sketch.k, sketch.legacy, sketch.cells);
  copy.n = sketch.n;
  return copy;
}

/** A settled copy of `sketch`, independent of it (cells shared copy-on-write). */
function copyOf<S extends Sketch>(sketch: S): S {
  if (sketch instanceof ScoreSketch) {
    const ready = settledScores(sketch);
    return new ScoreSketch(
      shareNumeric(ready.low),
      shareNumeric(ready.high),
      ready.legacy === null ? null : shareNumeric(ready.legacy),
    ) as S;
  }
  const ready = settled(sketch as NumericSketch);
  return (ready === sketch ? shareNumeric(ready) : ready) as S;
}

/** Number of values summarized (exact, pending values included). */
export function sketchCount(sketch: Sketch): number {
  const pending = sketch.pending?.total ?? 0;
  return sketch instanceof ScoreSketch ? scoreSettledCount(sketch) + pending : sketch.n + pending;
}

/** Number of cells (what drives the serialized size). */
export function sketchCellCount(sketch: Sketch): number {
  flush(sketch);
  if (sketch instanceof NumericSketch) return sketch.cells.size;
  return sketch.low.cells.size + sketch.high.cells.size + (sketch.legacy?.cells.size ?? 0);
}

/** Smallest value (exact), or NaN when empty. */
export function sketchMin(sketch: Sketch): number {
  flush(sketch);
  return sketch instanceof ScoreSketch ? scoreMin(sketch) : minOf(sketch);
}

/** Largest value (exact), or NaN when empty. */
export function sketchMax(sketch: Sketch): number {
  flush(sketch);
  return sketch instanceof ScoreSketch ? scoreMax(sketch) : maxOf(sketch);
}

/** Whether the sketch holds data read from a format-1/2 profile (its error bound is then unknown). */
export function isLegacySketch(sketch: Sketch): boolean {
  return sketch instanceof ScoreSketch ? sketch.legacy !== null : sketch.legacy;
}

/**
 * The guaranteed sup-norm CDF error as a fraction of the count: the largest straddling mass over all keys
 * divided by n (at most 1/k; 0 while every cell is exact). It bounds |sketch CDF - exact empirical CDF| for
 * the right-continuous CDF and its left limits at every point, for `sketchCdf`, `sketchCdfBelow` and the
 * `sketchPieces` view. NaN (unknown) for a legacy sketch.
 */
export function errorBound(sketch: Sketch): number {
  flush(sketch);
  if (isLegacySketch(sketch)) return Number.NaN;
  const n = sketchCount(sketch);
  if (n === 0) return 0;
  if (sketch instanceof NumericSketch) return maxStraddle(sketch.cells) / n;
  return Math.max(maxStraddle(sketch.low.cells), maxStraddle(sketch.high.cells)) / n;
}

/**
 * A certified bound on the Wasserstein-1 distance between the sketch's distribution and the exact data, in
 * value units: the sum over coarse cells of count x (cell width clamped to [min, max]) / n. Moving each
 * cell's mass anywhere inside its interval changes W1 by at most that. Unlike the CDF bound it depends on
 * the data: cells spanning many octaves of a heavy tail make it large. |W1(sketches) - W1(data)| is at most
 * the sum of both sides' bounds. NaN (unknown) for a legacy sketch.
 */
export function sketchW1Bound(sketch: Sketch): number {
  flush(sketch);
  if (isLegacySketch(sketch)) return Number.NaN;
  const n = sketchCount(sketch);
  if (n === 0) return 0;
  if (sketch instanceof NumericSketch) return coarseWidthMass(sketch) / n;
  // A width in 1 - s is the same width in s.
  return (coarseWidthMass(sketch.low) + coarseWidthMass(sketch.high)) / n;
}

/**
 * The sketch as sorted pieces for a piecewise-linear CDF (see `Piece`), masses adding up to the count. A
 * coarse cell's mass is spread uniformly over its keys restricted to the exact [min, max]: linear in value
 * within a binary octave, equal mass per octave across octaves (log-like for cells spanning magnitudes).
 * Nested cells add their densities; exact cells are points. The outermost pieces start at the exact minimum
 * and end at the exact maximum.
 */
export function sketchPieces(sketch: Sketch): Piece[] {
  flush(sketch);
  return sketch instanceof ScoreSketch ? scorePieces(sketch) : numericPieces(sketch);
}

/** Right-continuous CDF at x as a fraction of the count (within `errorBound` of the exact one). */
export function sketchCdf(sketch: Sketch, x: number): number {
  const n = sketchCount(sketch);
  if (n === 0 || Number.isNaN(x)) return Number.NaN;
  return piecesMass(sketchPieces(sketch), x, true) / n;
}

/** Left limit of the CDF at x: the fraction of values strictly below x (within `errorBound`). */
export function sketchCdfBelow(sketch: Sketch, x: number): number {
  const n = sketchCount(sketch);
  if (n === 0 || Number.isNaN(x)) return Number.NaN;
  return piecesMass(sketchPieces(sketch), x, false) / n;
}

/**
 * Quantile by numpy's default "linear" method, reading the j-th order statistic (0-based) as the point where
 * the sketch's continuous CDF reaches j + 1/2 (the exact order statistic where the sketch is exact).
 */
export function sketchQuantile(sketch: Sketch, q: number): number {
  const n = sketchCount(sketch);
  if (n === 0 || !(q >= 0 && q <= 1)) return Number.NaN;
  return piecesQuantile(sketchPieces(sketch), n, q);
}

/**
 * Compact string form (base64 of a byte header and a bit stream; a score sketch is two or three such parts
 * joined by '.'). The same sketch always gives the same string, and the deserializers accept only strings
 * the serializer produces.
 */
export function serializeSketch(sketch: Sketch): string {
  flush(sketch);
  return sketch instanceof ScoreSketch ? serializeScores(sketch) : serializeNumeric(sketch);
}

/**
 * Parse a serialized numeric sketch, checking everything the sketch relies on: canonical base64, version, k,
 * levels 0..64, cells strictly in pre-order, exact cells on finite values, coarse cells overlapping
 * (min, max), positive counts adding up to n, and (unless legacy) straddling mass within floor(n / k), so
 * that `errorBound` of an accepted sketch is true. Throws `SketchFormatError`.
 */
export function deserializeSketch(text: unknown): NumericSketch {
  return deserializeNumeric(text, null);
}

// ---------------------------------------------------------------------------------------------------------
// Sketches of profile format versions 1 and 2 (the floating-point grid).
// ---------------------------------------------------------------------------------------------------------

/**
 * The sketch of a format-1/2 grid (the numeric sketch before this one). That grid had one level for all its
 * cells: at level 0 a cell is an exact value; at level j >= 1 its key is the high 32-bit word of the
 * float64 with the low j - 1 bits cleared (0 standing for the value 0), i.e. the cell holds every value
 * whose IEEE bits share the top 33 - j bits, which is exactly one dyadic block of level 31 + j of this
 * sketch's key. So the conversion is exact, cell for cell:
 * - level 0: the values with their counts, inserted as usual (the result is an ordinary bounded sketch);
 * - level >= 1: each cell becomes a coarse cell of the same block, and the exact minimum and maximum of the
 *   summary become exact cells (one value taken from the block holding each; blocks that can only hold
 *   copies of the minimum or maximum are moved there). The grid never had the straddle invariant, so the
 *   result is `legacy`: its error bound is unknown (NaN), also after merges.
 * Throws `SketchFormatError` on cells that cannot come from a grid (non-finite values, counts that cannot
 * hold distinct extremes).
 */
export function numericSketchFromGrid(
  level: number,
  cells: ReadonlyArray<readonly [number, number]>,
  min: number,
  max: number,
): NumericSketch {
  if (cells.length === 0) return emptySketch();
  if (level === 0) {
    const sketch = emptySketch();
    for (const [value, count] of cells) {
      if (!Number.isFinite(value)) throw new SketchFormatError("grid cell on a non-finite value");
      addNumericValue(sketch, value, count);
    }
    flushNumeric(sketch);
    return sketch;
  }
  const sketch = new NumericSketch(DEFAULT_K, true, gridCells(level, cells, min, max));
  for (const [, count] of cells) sketch.n += count;
  return sketch;
}

/**
 * The score sketch of a format-1/2 grid: at level 0 the scores go into the two halves as usual (exact, with
 * the usual bound); at coarser levels the converted grid (`numericSketchFromGrid`) is kept whole as the
 * sketch's legacy part, in s. Throws `SketchFormatError` if a score is outside [0, 1].
 */
export function scoreSketchFromGrid(
  level: number,
  cells: ReadonlyArray<readonly [number, number]>,
  min: number,
  max: number,
): ScoreSketch {
  const sketch = emptyScoreSketch();
  if (cells.length === 0) return sketch;
  if (level === 0) {
    for (const [value, count] of cells) {
      if (!isScore(value)) throw new SketchFormatError(`grid score ${value} is not in [0, 1]`);
      addScoreValue(sketch, value, count);
    }
    flushScores(sketch);
    return sketch;
  }
  if (!(min >= 0 && max <= 1)) throw new SketchFormatError("grid scores out of [0, 1]");
  sketch.legacy = numericSketchFromGrid(level, cells, min, max);
  return sketch;
}

interface GridCell {
  hi: number;
  lo: number;
  level: number;
  count: number;
}

/** The cells of a coarse grid as pre-order dyadic cells with exact min/max cells (see above). */
function gridCells(
  gridLevel: number,
  cells: ReadonlyArray<readonly [number, number]>,
  min: number,
  max: number,
): Cells {
  const keys = new Int32Array(4);
  const minKey = keys.subarray(0, 2);
  const maxKey = keys.subarray(2, 4);
  if (!Number.isFinite(min) || !Number.isFinite(max) || min > max) {
    throw new SketchFormatError("grid extremes must be finite and ordered");
  }
  writeKey(min, minKey, minKey.subarray(1), 0);
  writeKey(max, maxKey, maxKey.subarray(1), 0);
  const [minH, minL, maxH, maxL] = [keys[0]!, keys[1]!, keys[2]!, keys[3]!];
  const blockLevel = 31 + gridLevel;
  const kept: GridCell[] = [];
  let total = 0;
  let atMin = 0;
  let atMax = 0;
  const scratch = new Int32Array(2);
  for (const [gridKey, count] of cells) {
    total += count;
    let cell: GridCell;
    if (gridKey === 0) {
      writeKey(0, scratch, scratch.subarray(1), 0);
      cell = { hi: scratch[0]!, lo: scratch[1]!, level: 0, count };
    } else {
      i32[HI] = gridKey;
      i32[LO] = 0;
      const value = f64[0]!;
      if (!Number.isFinite(value)) throw new SketchFormatError("grid cell on a non-finite value");
      writeKey(value, scratch, scratch.subarray(1), 0);
      cell = {
        hi: alignHi(scratch[0]!, blockLevel),
        lo: alignLo(scratch[1]!, blockLevel),
        level: blockLevel,
        count,
      };
    }
    // Values are within [min, max]: a cell that can only hold the minimum (or maximum) holds copies of it.
    const endH = lastHi(cell.hi, cell.level);
    const endL = lastLo(cell.lo, cell.level);
    if (compareKeys(endH, endL, minH, minL) <= 0) atMin += count;
    else if (compareKeys(cell.hi, cell.lo, maxH, maxL) >= 0) atMax += count;
    else kept.push(cell);
  }
  const out = new Cells(kept.length + 2);
  if (min === max) {
    out.push(minH, minL, 0, total);
    return out;
  }
  if (total < 2) throw new SketchFormatError("a grid with distinct extremes holds at least two values");
  // Each extreme needs an exact cell with a count: take one value from the block that holds it.
  const take = (kh: number, kl: number, fromEnd: boolean): void => {
    const order = fromEnd ? [...kept.keys()].reverse() : [...kept.keys()];
    let from = order.find(
      (i) => kept[i]!.level > 0 && blockContains(kept[i]!.hi, kept[i]!.lo, kept[i]!.level, kh, kl),
    );
    from ??= order.find((i) => kept[i]!.count > 0);
    if (from === undefined) throw new SketchFormatError("grid cells do not hold the extremes");
    kept[from]!.count--;
  };
  if (atMin === 0) {
    take(minH, minL, false);
    atMin = 1;
  }
  if (atMax === 0) {
    take(maxH, maxL, true);
    atMax = 1;
  }
  const all = kept.filter((cell) => cell.count > 0);
  all.push({ hi: minH, lo: minL, level: 0, count: atMin }, { hi: maxH, lo: maxL, level: 0, count: atMax });
  all.sort((a, b) => compareKeys(a.hi, a.lo, b.hi, b.lo) || b.level - a.level);
  for (const cell of all) {
    const last = out.size - 1;
    if (last >= 0 && out.hi[last] === cell.hi && out.lo[last] === cell.lo && out.level[last] === cell.level) {
      out.count[last] = out.count[last]! + cell.count;
    } else out.push(cell.hi, cell.lo, cell.level, cell.count);
  }
  return out;
}
