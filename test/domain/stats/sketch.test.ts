/**
 * The numeric sketch (lambdas/domain/stats/sketch.ts): exactness on small and special inputs, the error
 * bound under any batch split and merge tree, merge commutative and associative in value, round trips,
 * malformed input rejected, the score sketch, weighted adds, and the conversion of format-1/2 grids.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PiecewiseDistribution } from "../../../lambdas/domain/stats/drift";
import {
  deserializeScoreSketch,
  deserializeSketch,
  emptyScoreSketch,
  emptySketch,
  errorBound,
  isLegacySketch,
  mergeAllSketches,
  mergeSketches,
  type NumericSketch,
  numericSketchFromGrid,
  type ScoreSketch,
  type Sketch,
  SketchFormatError,
  SketchValueError,
  scoreSketchFromGrid,
  serializeSketch,
  sketchAdd,
  sketchAddAll,
  sketchCdf,
  sketchCdfBelow,
  sketchCellCount,
  sketchCount,
  sketchMax,
  sketchMin,
  sketchPieces,
  sketchQuantile,
  sketchW1Bound,
} from "../../../lambdas/domain/stats/sketch";
import { supCdfError } from "../../../scripts/scipy-accuracy";

// ----------------------------------------------------------------------------------------------------------
// Helpers.
// ----------------------------------------------------------------------------------------------------------

function build(values: number[] | Float64Array, k = 200): NumericSketch {
  const s = emptySketch(k);
  sketchAddAll(s, Float64Array.from(values));
  return s;
}

function sorted(values: number[] | Float64Array): Float64Array {
  return Float64Array.from(values, (v) => (v === 0 ? 0 : v)).sort();
}

/** Sup CDF error (right limits and left limits at every distinct value) against the exact data. */
function supError(s: NumericSketch, values: number[] | Float64Array): number {
  if (values.length === 0) return 0;
  return supCdfError(sketchPieces(s), sorted(values));
}

function numpyQuantile(data: Float64Array, q: number): number {
  const h = (data.length - 1) * q;
  const below = Math.floor(h);
  const t = h - below;
  const a = data[below]!;
  const b = data[Math.min(below + 1, data.length - 1)]!;
  const diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

/** Split values into consecutive batches of the given sizes (cycled). */
function batches(values: number[], sizes: number[]): number[][] {
  const out: number[][] = [];
  let at = 0;
  let i = 0;
  while (at < values.length) {
    const size = Math.max(1, sizes[i++ % sizes.length]!);
    out.push(values.slice(at, at + size));
    at += size;
  }
  return out;
}

/** Merge a list of sketches along a tree given by a list of pair choices (any merge order). */
function mergeTree(list: NumericSketch[], picks: number[]): NumericSketch {
  const pool = [...list];
  let p = 0;
  while (pool.length > 1) {
    const i = picks[p++ % picks.length]! % pool.length;
    const a = pool.splice(i, 1)[0]!;
    const j = picks[p++ % picks.length]! % pool.length;
    const b = pool.splice(j, 1)[0]!;
    pool.push(p % 3 === 0 ? mergeSketches(b, a) : mergeSketches(a, b));
  }
  return pool[0] ?? emptySketch();
}

// Values that stress the key space: extremes, subnormals, signed zeros, ties, tight clusters.
const specialValue = fc.constantFrom(
  0,
  -0,
  1,
  -1,
  0.5,
  1 - 2 ** -53,
  1 + 2 ** -52,
  Number.MIN_VALUE,
  -Number.MIN_VALUE,
  2 ** -1022,
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
  1e-300,
  -1e300,
  1e9,
);
const valueArb = fc.oneof(
  { weight: 3, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
  { weight: 3, arbitrary: fc.integer({ min: -20, max: 20 }) },
  { weight: 2, arbitrary: fc.double({ min: 1, max: 1 + 2 ** -40, noNaN: true }) },
  { weight: 2, arbitrary: fc.double({ min: -1e6, max: 1e6, noNaN: true }) },
  { weight: 1, arbitrary: specialValue },
);

// ----------------------------------------------------------------------------------------------------------
// Unit tests.
// ----------------------------------------------------------------------------------------------------------

describe("sketch: small and special inputs are exact", () => {
  const cases: Array<{ name: string; values: number[] }> = [
    { name: "one value", values: [42.5] },
    { name: "two values", values: [-3, 7] },
    { name: "all equal", values: Array.from({ length: 1000 }, () => 3.25) },
    { name: "signed zeros", values: [-0, 0, -0, 1, -1] },
    {
      name: "extremes",
      values: [Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE, -Number.MIN_VALUE, 0],
    },
    { name: "1e-300 to 1e300, both signs", values: [1e-300, -1e-300, 1e300, -1e300, 1, -1, 1e-10, -1e10] },
    { name: "ten near-equal floats", values: Array.from({ length: 10 }, (_, i) => 1 + i * 2 ** -52) },
    { name: "fifty integers with ties", values: Array.from({ length: 50 }, (_, i) => i % 7) },
  ];
  for (const { name, values } of cases) {
    it(`${name}: count, min, max, CDF, quantiles exact`, () => {
      const s = build(values);
      const data = sorted(values);
      expect(sketchCount(s)).toBe(values.length);
      expect(sketchMin(s)).toBe(data[0]);
      expect(sketchMax(s)).toBe(data[data.length - 1]);
      expect(errorBound(s)).toBe(0);
      expect(supError(s, values)).toBe(0);
      for (const v of data) {
        const atOrBelow = data.filter((x) => x <= v).length / data.length;
        const below = data.filter((x) => x < v).length / data.length;
        expect(sketchCdf(s, v)).toBeCloseTo(atOrBelow, 12);
        expect(sketchCdfBelow(s, v)).toBeCloseTo(below, 12);
      }
      for (const q of [0, 0.1, 0.25, 0.5, 0.9, 1]) expect(sketchQuantile(s, q)).toBe(numpyQuantile(data, q));
    });
  }

  it("empty sketch", () => {
    const s = emptySketch();
    expect(sketchCount(s)).toBe(0);
    expect(sketchMin(s)).toBeNaN();
    expect(sketchCdf(s, 1)).toBeNaN();
    expect(sketchQuantile(s, 0.5)).toBeNaN();
    expect(errorBound(s)).toBe(0);
    expect(sketchPieces(s)).toEqual([]);
    const text = serializeSketch(s);
    expect(serializeSketch(deserializeSketch(text))).toBe(text);
    expect(sketchCount(mergeSketches(s, build([1, 2])))).toBe(2);
  });

  it("rejects non-finite values and leaves the sketch unchanged", () => {
    const s = build([1, 2, 3]);
    const before = serializeSketch(s);
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      expect(() => sketchAddAll(s, Float64Array.from([5, bad]))).toThrow(SketchValueError);
      expect(() => sketchAdd(s, bad)).toThrow(SketchValueError);
    }
    expect(serializeSketch(s)).toBe(before);
  });

  it("single adds equal a column insert (same bytes)", () => {
    const values = Array.from({ length: 3000 }, (_, i) => Math.sin(i) * 100);
    const one = emptySketch();
    for (const v of values) sketchAdd(one, v);
    const col = emptySketch();
    for (let i = 0; i < values.length; i += 512)
      sketchAddAll(col, Float64Array.from(values.slice(i, i + 512)));
    expect(serializeSketch(one)).toBe(serializeSketch(col));
  });
});

describe("sketch: the bound and the pieces", () => {
  const shapes: Array<{ name: string; gen: (i: number) => number }> = [
    { name: "half the mass at 1.0", gen: (i) => (i % 2 === 0 ? 1 : Math.exp(Math.sin(i * 7.1) * 3)) },
    { name: "mass points at 0 and 1", gen: (i) => (i % 10 < 3 ? 0 : i % 10 < 5 ? 1 : Math.exp(Math.cos(i))) },
    { name: "scores near 0 and 1", gen: (i) => 1 / (1 + Math.exp(-16 * Math.sin(i * 1.3))) },
    { name: "1e9 + noise", gen: (i) => 1e9 + Math.sin(i * 3.7) },
    { name: "twelve decades", gen: (i) => 10 ** (12 * ((i * 0.618034) % 1)) },
  ];
  for (const { name, gen } of shapes) {
    it(`${name}: sup CDF error <= errorBound <= 1/k at 20,000 values in 97-value batches`, () => {
      const values = Array.from({ length: 20_000 }, (_, i) => gen(i));
      let s = emptySketch(100);
      for (let i = 0; i < values.length; i += 97) {
        const b = emptySketch(100);
        sketchAddAll(b, Float64Array.from(values.slice(i, i + 97)));
        s = mergeSketches(s, b);
      }
      const bound = errorBound(s);
      expect(bound).toBeLessThanOrEqual(Math.floor(20_000 / 100) / 20_000);
      expect(supError(s, values)).toBeLessThanOrEqual(bound + 1e-12);
      expect(sketchCellCount(s)).toBeLessThan(600);
    });
  }

  // Small budgets: the margin forbids nearly every collapse, so a compaction leaving more than 384 cells is
  // redone without it (a DynamoDB item must hold 40+ such features).
  it.each([399, 1_000, 2_000, 5_000, 10_000])(
    "%i distinct values in one column: at most 400 cells (exact below 400 values), within the bound",
    (n) => {
      const values = Array.from({ length: n }, (_, i) => Math.exp(Math.sin(i * 12.9898) * 3) + i * 1e-9);
      const s = emptySketch();
      sketchAddAll(s, Float64Array.from(values));
      expect(sketchCellCount(s)).toBeLessThanOrEqual(Math.min(n, 400));
      if (n < 400) expect(errorBound(s)).toBe(0);
      expect(errorBound(s)).toBeLessThanOrEqual(Math.floor(n / 200) / n);
      expect(supError(s, values)).toBeLessThanOrEqual(errorBound(s) + 1e-12);
      expect(serializeSketch(s).length).toBeLessThan(n < 400 ? 4_500 : 1_600);
    },
  );

  it("pieces: sorted, masses add up to n, heavy values are exact points", () => {
    const values = Array.from({ length: 50_000 }, (_, i) => (i % 4 === 0 ? 2.5 : Math.cos(i) * 10));
    const s = build(values, 200);
    const pieces = sketchPieces(s);
    let total = 0;
    for (let i = 0; i < pieces.length; i++) {
      const p = pieces[i]!;
      total += p.mass;
      expect(p.hi).toBeGreaterThanOrEqual(p.lo);
      if (i > 0) expect(p.lo).toBeGreaterThanOrEqual(pieces[i - 1]!.lo);
    }
    expect(total).toBeCloseTo(50_000, 6);
    const point = pieces.filter((p) => p.lo === 2.5 && p.hi === 2.5);
    expect(point.map((p) => p.mass)).toEqual([12_500]);
    expect(pieces[0]!.lo).toBe(sketchMin(s));
    expect(pieces[pieces.length - 1]!.hi).toBe(sketchMax(s));
    // A value equal to a heavy point: the left limit excludes it, the CDF includes it.
    expect(sketchCdf(s, 2.5) - sketchCdfBelow(s, 2.5)).toBeCloseTo(0.25, 12);
  });
});

// ----------------------------------------------------------------------------------------------------------
// Properties.
// ----------------------------------------------------------------------------------------------------------

describe("sketch properties", () => {
  const dataArb = fc.array(valueArb, { minLength: 1, maxLength: 3000 });
  const splitArb = fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 8 });
  const picksArb = fc.array(fc.nat(), { minLength: 1, maxLength: 16 });
  const kArb = fc.constantFrom(3, 10, 40, 200);

  it("bound holds for any batch split and merge tree; counts, min, max exact", () => {
    fc.assert(
      fc.property(dataArb, splitArb, picksArb, kArb, (values, sizes, picks, k) => {
        const parts = batches(values, sizes).map((b) => {
          const s = emptySketch(k);
          sketchAddAll(s, Float64Array.from(b));
          return s;
        });
        const s = mergeTree(parts, picks);
        const data = sorted(values);
        expect(sketchCount(s)).toBe(values.length);
        expect(sketchMin(s)).toBe(data[0]);
        expect(sketchMax(s)).toBe(data[data.length - 1]);
        const bound = errorBound(s);
        expect(bound).toBeLessThanOrEqual(Math.floor(values.length / k) / values.length);
        expect(supError(s, values)).toBeLessThanOrEqual(bound + 1e-9);
      }),
      { numRuns: 120 },
    );
  });

  it("k-way merge: the bound holds, counts exact, inputs unchanged", () => {
    fc.assert(
      fc.property(dataArb, splitArb, kArb, (values, sizes, k) => {
        const parts = batches(values, sizes).map((b) => build(b, k));
        const before = parts.map(serializeSketch);
        const s = mergeAllSketches(parts);
        expect(sketchCount(s)).toBe(values.length);
        const bound = errorBound(s);
        expect(bound).toBeLessThanOrEqual(Math.floor(values.length / k) / values.length);
        expect(supError(s, values)).toBeLessThanOrEqual(bound + 1e-9);
        expect(parts.map(serializeSketch)).toEqual(before);
      }),
      { numRuns: 80 },
    );
  });

  it("merge is commutative and associative in value (CDFs within the bounds, counts exact)", () => {
    fc.assert(
      fc.property(dataArb, dataArb, dataArb, kArb, (x, y, z, k) => {
        const [a, b, c] = [x, y, z].map((v) => build(v, k)) as [NumericSketch, NumericSketch, NumericSketch];
        const variants = [
          mergeSketches(mergeSketches(a, b), c),
          mergeSketches(a, mergeSketches(b, c)),
          mergeSketches(mergeSketches(c, b), a),
        ];
        const all = [...x, ...y, ...z];
        for (const s of variants) {
          expect(sketchCount(s)).toBe(all.length);
          expect(supError(s, all)).toBeLessThanOrEqual(errorBound(s) + 1e-9);
        }
        // Any two results are within the sum of their bounds of each other at every data value.
        const [p, q] = [
          new PiecewiseDistribution(sketchPieces(variants[0]!)),
          new PiecewiseDistribution(sketchPieces(variants[1]!)),
        ];
        const slack = (errorBound(variants[0]!) + errorBound(variants[1]!)) * all.length + 1e-6;
        for (const v of all) {
          expect(Math.abs(p.atOrBelow(v) - q.atOrBelow(v))).toBeLessThanOrEqual(slack);
          expect(Math.abs(p.below(v) - q.below(v))).toBeLessThanOrEqual(slack);
        }
        // Inputs are unchanged by merging.
        expect(sketchCount(a)).toBe(x.length);
      }),
      { numRuns: 60 },
    );
  });

  it("deterministic: the same operations give the same bytes", () => {
    fc.assert(
      fc.property(dataArb, splitArb, (values, sizes) => {
        const run = (): string => {
          let s = emptySketch(20);
          for (const b of batches(values, sizes)) {
            const part = emptySketch(20);
            sketchAddAll(part, Float64Array.from(b));
            s = mergeSketches(s, part);
          }
          return serializeSketch(s);
        };
        expect(run()).toBe(run());
      }),
      { numRuns: 40 },
    );
  });

  it("serialize/deserialize round trip is byte-identical", () => {
    fc.assert(
      fc.property(dataArb, kArb, (values, k) => {
        const text = serializeSketch(build(values, k));
        const back = deserializeSketch(text);
        expect(serializeSketch(back)).toBe(text);
        expect(sketchCount(back)).toBe(values.length);
      }),
      { numRuns: 150 },
    );
  });

  it("corrupted serializations are rejected with SketchFormatError or decode to a valid sketch", () => {
    fc.assert(
      fc.property(dataArb, fc.nat(), fc.integer({ min: 1, max: 255 }), (values, at, flip) => {
        const bytes = Buffer.from(serializeSketch(build(values, 10)), "base64");
        const i = at % bytes.length;
        bytes[i] = bytes[i]! ^ flip;
        const text = bytes.toString("base64");
        let back: NumericSketch | undefined;
        try {
          back = deserializeSketch(text);
        } catch (e) {
          expect(e).toBeInstanceOf(SketchFormatError);
          return;
        }
        // Accepted: then it is a consistent sketch (round trip identical, bound true for its own pieces; a
        // flipped version byte may turn it into a legacy sketch, whose bound is unknown).
        expect(serializeSketch(back)).toBe(text);
        if (isLegacySketch(back)) expect(errorBound(back)).toBeNaN();
        else {
          expect(errorBound(back)).toBeLessThanOrEqual(
            Math.floor(sketchCount(back) / 10) / sketchCount(back) || 0,
          );
        }
      }),
      { numRuns: 300 },
    );
  });
});

// ----------------------------------------------------------------------------------------------------------
// Malformed input, case by case (hand-made streams in the documented format).
// ----------------------------------------------------------------------------------------------------------

/** A minimal writer of the documented format, to craft invalid sketches. */
class Craft {
  private bytes: number[] = [];
  private acc: number[] = [];
  header(version: number, k: number, n: number, cells: number): this {
    this.bytes.push(version);
    for (const v of [k, n, cells]) {
      let x = v;
      while (x >= 0x80) {
        this.bytes.push((x % 0x80) | 0x80);
        x = Math.floor(x / 0x80);
      }
      this.bytes.push(x);
    }
    return this;
  }
  bits(value: bigint, count: number): this {
    for (let i = count - 1; i >= 0; i--) this.acc.push(Number((value >> BigInt(i)) & 1n));
    return this;
  }
  uint(v: bigint): this {
    const length = v === 0n ? 0 : v.toString(2).length;
    const g = BigInt(length + 1);
    const gl = g.toString(2).length;
    this.bits(0n, gl - 1).bits(g, gl);
    if (length > 1) this.bits(v, length - 1);
    return this;
  }
  /** One cell: nested flag, zigzag level delta, d, count with Rice parameter r. */
  cell(nested: boolean, levelDelta: number, d: bigint, count: number, r: number): this {
    this.bits(nested ? 1n : 0n, 1);
    this.uint(BigInt(levelDelta >= 0 ? 2 * levelDelta : -2 * levelDelta - 1));
    this.uint(d);
    const q = Math.floor(count / 2 ** r);
    if (q >= 4) return this.bits(15n, 4).uint(BigInt(count - 4 * 2 ** r));
    this.bits((1n << BigInt(q)) - 1n, q)
      .bits(0n, 1)
      .bits(BigInt(count % 2 ** r), r);
    return this;
  }
  text(extraBytes: number[] = []): string {
    const out = [...this.bytes];
    const bits = [...this.acc];
    while (bits.length % 8 !== 0) bits.push(0);
    for (let i = 0; i < bits.length; i += 8) out.push(Number.parseInt(bits.slice(i, i + 8).join(""), 2));
    return Buffer.from([...out, ...extraBytes]).toString("base64");
  }
}

/** Key (unsigned 64-bit) of a positive value, for crafting. */
function keyOf(x: number): bigint {
  const b = new DataView(new ArrayBuffer(8));
  b.setFloat64(0, x);
  return b.getBigUint64(0) | (1n << 63n);
}

describe("sketch: malformed input is rejected with SketchFormatError", () => {
  const valid = serializeSketch(build([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]));
  const bytes = [...Buffer.from(valid, "base64")];
  const k1 = keyOf(1);
  const k2 = keyOf(2);
  const cases: Array<{ name: string; text: string; message: RegExp }> = [
    { name: "not base64", text: "@@@@", message: /base64/ },
    { name: "non-canonical base64 padding", text: `${valid}=`, message: /base64/ },
    {
      name: "unknown version",
      text: Buffer.from([9, ...bytes.slice(1)]).toString("base64"),
      message: /version/,
    },
    {
      name: "truncated",
      text: Buffer.from(bytes.slice(0, bytes.length - 2)).toString("base64"),
      message: /truncated|add up|padding/,
    },
    { name: "trailing bytes", text: Buffer.from([...bytes, 0]).toString("base64"), message: /trailing/ },
    { name: "k out of range", text: new Craft().header(1, 0, 0, 0).text(), message: /k out of range/ },
    {
      name: "cells without count",
      text: new Craft().header(1, 200, 0, 1).cell(false, 0, k1, 1, 0).text(),
      message: /count/,
    },
    {
      name: "counts do not add up",
      text: new Craft()
        .header(1, 200, 5, 2)
        .cell(false, 0, k1, 1, 0)
        .cell(false, 0, k2 - k1 - 1n, 1, 0)
        .text(),
      message: /add up/,
    },
    {
      name: "keys out of order (a level below 0 is also caught)",
      text: new Craft().header(1, 200, 2, 2).cell(false, 0, k2, 1, 0).cell(false, -1, 0n, 1, 0).text(),
      message: /level out of range|out of order/,
    },
    {
      name: "level out of range",
      text: new Craft().header(1, 200, 1, 1).cell(false, 65, 0n, 1, 0).text(),
      message: /level out of range/,
    },
    {
      name: "exact cell on NaN",
      text: new Craft()
        .header(1, 200, 1, 1)
        .cell(false, 0, (1n << 64n) - 1n, 1, 0)
        .text(),
      message: /non-finite/,
    },
    {
      name: "coarse cell only (no exact min and max)",
      text: new Craft().header(1, 2, 4, 1).cell(false, 60, 8n, 4, 1).text(),
      message: /no exact minimum|outside/,
    },
    {
      name: "straddling mass above n / k",
      // min 1 (exact), a coarse cell of 8 values at level 52 holding [2, 4), max 4 (exact); k = 5, n = 10.
      text: new Craft()
        .header(1, 5, 10, 3)
        .cell(false, 0, k1, 1, 1)
        .cell(false, 52, 0n, 8, 1)
        .cell(false, -52, 0n, 1, 1)
        .text(),
      message: /straddling/,
    },
    {
      name: "non-zero padding bits",
      text: Buffer.from([...bytes.slice(0, -1), (bytes[bytes.length - 1]! | 1) & 0xff]).toString("base64"),
      message: /padding|add up|count|order|range|outside|straddling/,
    },
  ];
  for (const { name, text, message } of cases) {
    it(name, () => {
      expect(() => deserializeSketch(text)).toThrow(SketchFormatError);
      expect(() => deserializeSketch(text)).toThrow(message);
    });
  }

  it("the crafted stream format matches the serializer (a valid hand-made sketch round-trips)", () => {
    const text = new Craft()
      .header(1, 200, 3, 2)
      .cell(false, 0, k1, 2, 0)
      .cell(false, 0, k2 - k1 - 1n, 1, 0)
      .text();
    const s = deserializeSketch(text);
    expect(sketchMin(s)).toBe(1);
    expect(sketchMax(s)).toBe(2);
    expect(sketchCount(s)).toBe(3);
    expect(serializeSketch(s)).toBe(text);
  });
});

// ----------------------------------------------------------------------------------------------------------
// Score helper.
// ----------------------------------------------------------------------------------------------------------

describe("score sketch (s <= 1/2 and 1 - s halves)", () => {
  const scoreArb = fc.oneof(
    fc.double({ min: 0, max: 1, noNaN: true }),
    fc.double({ min: 0, max: 1e-9, noNaN: true }),
    fc.double({ min: 0, max: 1e-9, noNaN: true }).map((x) => 1 - x),
    fc.constantFrom(0, 0.5, 1, 1 - 2 ** -53, 2 ** -53, 0.7),
  );

  it("bound holds for any batch split and merge tree; round trip byte-identical", () => {
    fc.assert(
      fc.property(
        fc.array(scoreArb, { minLength: 1, maxLength: 3000 }),
        fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 6 }),
        fc.constantFrom(5, 40, 200),
        (values, sizes, k) => {
          let s: ScoreSketch = emptyScoreSketch(k);
          for (const b of batches(values, sizes)) {
            const part = emptyScoreSketch(k);
            sketchAddAll(part, Float64Array.from(b));
            s = mergeSketches(part, s);
          }
          expect(sketchCount(s)).toBe(values.length);
          expect(sketchMin(s)).toBe(sorted(values)[0]);
          expect(sketchMax(s)).toBe(sorted(values)[values.length - 1]);
          const bound = errorBound(s);
          expect(bound).toBeLessThanOrEqual(Math.floor(values.length / k) / values.length);
          const err = supCdfError(sketchPieces(s), sorted(values));
          expect(err).toBeLessThanOrEqual(bound + 1e-9);
          const text = serializeSketch(s);
          expect(serializeSketch(deserializeScoreSketch(text))).toBe(text);
        },
      ),
      { numRuns: 80 },
    );
  });

  it("rejects scores outside [0, 1] and malformed text", () => {
    const s = emptyScoreSketch();
    for (const bad of [-0.1, 1.5, Number.NaN]) {
      expect(() => sketchAddAll(s, Float64Array.from([0.2, bad]))).toThrow(SketchValueError);
      expect(() => sketchAdd(s, bad)).toThrow(SketchValueError);
    }
    expect(sketchCount(s)).toBe(0);
    expect(() => deserializeScoreSketch("AQ")).toThrow(SketchFormatError);
    const half = serializeSketch(build([0.9, 0.95]));
    expect(() => deserializeScoreSketch(`${half}.${half}`)).toThrow(/low half|high half/);
  });

  it("a score exactly 1 and 1 - 2^-53 stay exact points", () => {
    const s = emptyScoreSketch(10);
    sketchAddAll(s, Float64Array.from([...Array(500).fill(1), ...Array(300).fill(1 - 2 ** -53), 0.3, 0.6]));
    const pieces = sketchPieces(s);
    expect(pieces.find((p) => p.lo === 1 && p.hi === 1)?.mass).toBe(500);
    expect(pieces.find((p) => p.lo === 1 - 2 ** -53 && p.hi === p.lo)?.mass).toBe(300);
  });
});

describe("weighted adds, pending values and k-way merges", () => {
  it("a value with a count equals the value added that many times (same bytes)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(valueArb, fc.integer({ min: 1, max: 40 })), { minLength: 1, maxLength: 400 }),
        fc.constantFrom(3, 20, 200),
        (pairs, k) => {
          const weighted = emptySketch(k);
          const repeated: number[] = [];
          for (const [value, count] of pairs) {
            sketchAdd(weighted, value, count);
            for (let i = 0; i < count; i++) repeated.push(value);
          }
          expect(sketchCount(weighted)).toBe(repeated.length);
          expect(supError(weighted, repeated)).toBeLessThanOrEqual(errorBound(weighted) + 1e-9);
          expect(sketchMin(weighted)).toBe(sorted(repeated)[0]);
          expect(sketchMax(weighted)).toBe(sorted(repeated)[repeated.length - 1]);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("counts pending values before they go in, and rejects invalid counts", () => {
    const s = emptySketch();
    sketchAdd(s, 1.5, 3);
    sketchAdd(s, 2);
    expect(sketchCount(s)).toBe(4);
    for (const bad of [0, -1, 1.5, Number.NaN]) expect(() => sketchAdd(s, 1, bad)).toThrow(SketchValueError);
    expect(sketchCdf(s, 1.5)).toBe(0.75);
  });

  it("merges many score sketches at once within the bound; inputs unchanged", () => {
    const values = Array.from({ length: 30_000 }, (_, i) => 1 / (1 + Math.exp(-12 * Math.sin(i * 0.37))));
    const parts = batches(values, [700, 1300, 333]).map((b) => {
      const s = emptyScoreSketch(50);
      sketchAddAll(s, Float64Array.from(b));
      return s;
    });
    const before = parts.map(serializeSketch);
    const all = mergeAllSketches(parts);
    expect(sketchCount(all)).toBe(values.length);
    expect(errorBound(all)).toBeLessThanOrEqual(Math.floor(values.length / 50) / values.length);
    expect(supCdfError(sketchPieces(all), sorted(values))).toBeLessThanOrEqual(errorBound(all) + 1e-9);
    expect(parts.map(serializeSketch)).toEqual(before);
  });

  it("the W1 bound is certified: the sketch's distribution is within it of the data", () => {
    const values = Array.from({ length: 20_000 }, (_, i) => Math.exp(4 * Math.sin(i * 1.7)));
    const s = build(values, 100);
    const cdf = new PiecewiseDistribution(sketchPieces(s));
    const data = sorted(values);
    // W1 between the piecewise CDF and the step CDF of the data: integrate |F - G| between the data values,
    // where F is linear within each sub-interval cut at the piece boundaries.
    const cuts = [...new Set([...data, ...sketchPieces(s).flatMap((p) => [p.lo, p.hi])])].sort(
      (a, b) => a - b,
    );
    let w1 = 0;
    let at = 0;
    for (let i = 0; i + 1 < cuts.length; i++) {
      const [from, to] = [cuts[i]!, cuts[i + 1]!];
      while (at < data.length && data[at]! <= from) at++;
      const left = cdf.atOrBelow(from) - at;
      const right = cdf.below(to) - at;
      const width = to - from;
      if ((left >= 0 && right >= 0) || (left <= 0 && right <= 0))
        w1 += (width * (Math.abs(left) + Math.abs(right))) / 2;
      else w1 += (width * (left * left + right * right)) / (2 * (Math.abs(left) + Math.abs(right)));
    }
    w1 /= data.length;
    expect(w1).toBeGreaterThan(0);
    expect(w1).toBeLessThanOrEqual(sketchW1Bound(s));
  });
});

describe("sketches of profile format versions 1 and 2 (the grid)", () => {
  /** The grid's key of a value at level j >= 1 (the former `cellKey`). */
  function gridKey(x: number, level: number): number {
    const view = new DataView(new ArrayBuffer(8));
    view.setFloat64(0, x);
    return (view.getUint32(0) & ~((1 << (level - 1)) - 1)) | 0;
  }

  it("level 0: the exact values, an ordinary bounded sketch", () => {
    const s = numericSketchFromGrid(
      0,
      [
        [-2, 3],
        [0.5, 1],
        [7, 4],
      ],
      -2,
      7,
    );
    expect(isLegacySketch(s)).toBe(false);
    expect(errorBound(s)).toBe(0);
    expect(sketchCount(s)).toBe(8);
    expect(sketchPieces(s)).toEqual([
      { lo: -2, hi: -2, mass: 3 },
      { lo: 0.5, hi: 0.5, mass: 1 },
      { lo: 7, hi: 7, mass: 4 },
    ]);
  });

  it("coarse levels: every grid cell becomes the same block, extremes exact, bound unknown", () => {
    // Level 21 keeps one cell per binary octave: [1, 2) holds 5 values, [2, 4) holds 3, (-4, -2] holds 2.
    const cells: Array<[number, number]> = [
      [gridKey(-3, 21), 2],
      [gridKey(1.5, 21), 5],
      [gridKey(3, 21), 3],
    ];
    const s = numericSketchFromGrid(21, cells, -3.5, 3.25);
    expect(isLegacySketch(s)).toBe(true);
    expect(errorBound(s)).toBeNaN();
    expect(sketchW1Bound(s)).toBeNaN();
    expect([sketchCount(s), sketchMin(s), sketchMax(s)]).toEqual([10, -3.5, 3.25]);
    // Octave boundaries are cell boundaries: the CDF there is exact.
    expect(sketchCdf(s, -2)).toBeCloseTo(0.2, 12);
    expect(sketchCdfBelow(s, 2)).toBeCloseTo(0.7, 12);
    const text = serializeSketch(s);
    const back = deserializeSketch(text);
    expect(serializeSketch(back)).toBe(text);
    expect(isLegacySketch(back)).toBe(true);
    // Merging keeps the bound unknown.
    const merged = mergeSketches(back, build([0, 1, 2]));
    expect(isLegacySketch(merged)).toBe(true);
    expect(errorBound(merged)).toBeNaN();
    expect(sketchCount(merged)).toBe(13);
  });

  it("scores: level 0 goes into the halves, coarse levels into the legacy part", () => {
    const exact = scoreSketchFromGrid(
      0,
      [
        [0.1, 2],
        [0.9, 3],
      ],
      0.1,
      0.9,
    );
    expect(errorBound(exact)).toBe(0);
    expect(sketchPieces(exact)).toEqual([
      { lo: 0.1, hi: 0.1, mass: 2 },
      { lo: 0.9, hi: 0.9, mass: 3 },
    ]);
    const coarse = scoreSketchFromGrid(
      21,
      [
        [gridKey(0.3, 21), 4],
        [gridKey(0.75, 21), 6],
      ],
      0.26,
      0.99,
    );
    expect(errorBound(coarse)).toBeNaN();
    const fresh = emptyScoreSketch();
    sketchAddAll(fresh, Float64Array.from([0.01, 0.6, 0.999]));
    const merged = mergeSketches(coarse, fresh);
    expect([sketchCount(merged), sketchMin(merged), sketchMax(merged)]).toEqual([13, 0.01, 0.999]);
    const pieces = sketchPieces(merged);
    expect(pieces.reduce((sum, p) => sum + p.mass, 0)).toBeCloseTo(13, 9);
    for (let i = 1; i < pieces.length; i++) expect(pieces[i]!.lo).toBeGreaterThanOrEqual(pieces[i - 1]!.lo);
    const text = serializeSketch(merged);
    expect(serializeSketch(deserializeScoreSketch(text))).toBe(text);
    expect(() => scoreSketchFromGrid(0, [[1.5, 1]], 1.5, 1.5)).toThrow(SketchFormatError);
  });
});

describe("merging with empty sketches", () => {
  const filled = (kind: "numeric" | "score", k = 200): Sketch => {
    const s = kind === "numeric" ? emptySketch(k) : emptyScoreSketch(k);
    const values = Float64Array.from({ length: 5000 }, (_, i) => ((i * 7919) % 5000) / 5000);
    sketchAddAll(s, values);
    sketchAdd(s, 0.25); // a pending value too
    return s;
  };
  const empty = (kind: "numeric" | "score", k = 200): Sketch =>
    kind === "numeric" ? emptySketch(k) : emptyScoreSketch(k);

  it.each(["numeric", "score"] as const)(
    "%s: a merge with an empty sketch is a copy of the other",
    (kind) => {
      const a = filled(kind);
      const before = serializeSketch(a);
      const column = (f: (i: number) => number) => Float64Array.from({ length: 600 }, (_, i) => f(i));
      for (const merged of [mergeSketches(a, empty(kind)), mergeSketches(empty(kind), a)]) {
        expect(serializeSketch(merged)).toBe(before);
        // The copy is independent (its cells are shared copy-on-write): adding to it leaves the input
        // as it was...
        sketchAddAll(
          merged,
          column((i) => i / 600),
        );
        expect(sketchCount(merged)).toBe(sketchCount(a) + 600);
        expect(serializeSketch(a)).toBe(before);
      }
      // ... and adding to the input leaves the copy as it was.
      const input = kind === "numeric" ? deserializeSketch(before) : deserializeScoreSketch(before);
      const copy = mergeSketches(input, empty(kind));
      sketchAddAll(
        input,
        column((i) => 1 - i / 1200),
      );
      expect(serializeSketch(copy)).toBe(before);
      expect(serializeSketch(input)).not.toBe(before);
      const all = mergeAllSketches([empty(kind), a, empty(kind)]);
      expect(serializeSketch(all)).toBe(before);
    },
  );

  it.each(["numeric", "score"] as const)("%s: an empty sketch with a smaller k still lowers k", (kind) => {
    const a = filled(kind, 200);
    for (const merged of [mergeSketches(a, empty(kind, 50)), mergeAllSketches([a, empty(kind, 50)])]) {
      expect(sketchCount(merged)).toBe(sketchCount(a));
      expect(errorBound(merged)).toBeLessThanOrEqual(1 / 50);
      expect(sketchCellCount(merged)).toBeLessThan(sketchCellCount(a));
    }
  });
});
