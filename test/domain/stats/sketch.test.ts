import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  emptySketch,
  MAX_LEVEL,
  mergeSketches,
  type Sketch,
  sketchAdd,
  sketchAddAll,
  sortedCells,
} from "../../../lambdas/domain/stats/sketch";

function build(values: readonly number[], capacity: number): Sketch {
  const s = emptySketch(capacity);
  for (const v of values) sketchAdd(s, v);
  return s;
}

/** Canonical view: level plus cells in value order. Equal views mean bit-for-bit equal sketches. */
function view(s: Sketch): string {
  return JSON.stringify({ level: s.level, cells: sortedCells(s) });
}

const finite = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.double({ min: -1000, max: 1000, noNaN: true }),
  fc.integer({ min: -20, max: 20 }),
);

/** Many distinct values that share few cells at level 1 (they differ only in low mantissa bits). */
const clustered = fc
  .tuple(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 0, max: 1e6 }))
  .map(([a, b]) => a + b * 2 ** -45);

describe("canonical sketch", () => {
  it("merge is exactly associative and commutative, and equals the one-pass sketch of all values", () => {
    fc.assert(
      fc.property(
        fc.array(finite, { maxLength: 300 }),
        fc.array(finite, { maxLength: 300 }),
        fc.array(finite, { maxLength: 300 }),
        fc.integer({ min: 1, max: 40 }),
        (a, b, c, capacity) => {
          const [A, B, C] = [a, b, c].map((x) => build(x, capacity)) as [Sketch, Sketch, Sketch];
          const left = view(mergeSketches(mergeSketches(A, B), C));
          expect(view(mergeSketches(A, mergeSketches(B, C)))).toBe(left);
          expect(view(mergeSketches(mergeSketches(C, A), B))).toBe(left);
          expect(view(build([...c, ...a, ...b].reverse(), capacity))).toBe(left);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("sketchAddAll on runs of a column gives the sketch of adding the values one by one", () => {
    fc.assert(
      fc.property(
        fc.array(finite, { maxLength: 300 }),
        fc.array(fc.oneof(finite, clustered, clustered), { maxLength: 600 }),
        fc.integer({ min: 0, max: 600 }),
        fc.integer({ min: 1, max: 40 }),
        (before, column, cut, capacity) => {
          const one = build([...before, ...column], capacity);
          const bulk = build(before, capacity);
          const values = Float64Array.from(column);
          const split = Math.min(cut, column.length);
          sketchAddAll(bulk, values, 0, split);
          sketchAddAll(bulk, values, split, values.length);
          expect(view(bulk)).toBe(view(one));
        },
      ),
      { numRuns: 300 },
    );
  });

  it.each([
    ["a continuous column that climbs many levels", 320, (i: number) => Math.sin(i) * 1000],
    ["a column that ends at the coarsest level", 2, (i: number) => 10 ** ((i % 40) - 20) * (i % 3 ? 1 : -1)],
    ["a column with few distinct values (stays exact)", 320, (i: number) => i % 17],
  ])("sketchAddAll matches sketchAdd: %s", (_name, capacity, f) => {
    const values = Float64Array.from({ length: 20_000 }, (_, i) => f(i));
    const bulk = emptySketch(capacity);
    sketchAddAll(bulk, values, 0, values.length);
    expect(view(bulk)).toBe(view(build([...values], capacity)));
  });

  it("keeps exact values while there are at most `capacity` distinct ones", () => {
    const s = build([3, 1, 2, 3, 3, -0, 0], 4);
    expect(s.level).toBe(0);
    expect(sortedCells(s)).toEqual([
      [0, 2],
      [1, 1],
      [2, 1],
      [3, 3],
    ]);
  });

  it.each([
    ["continuous values coarsen to a bounded number of cells", 320, 100_000],
    ["a tiny capacity still terminates at the coarsest level", 1, 1000],
  ])("%s", (_name, capacity, n) => {
    const values = Array.from({ length: n }, (_, i) => Math.sin(i) * 10 ** (i % 7));
    const s = build(values, capacity);
    expect(s.level).toBeGreaterThan(0);
    expect(s.level).toBeLessThanOrEqual(MAX_LEVEL);
    if (s.level < MAX_LEVEL) expect(s.cells.size).toBeLessThanOrEqual(capacity);
    let total = 0;
    s.cells.forEach((_, count) => {
      total += count;
    });
    expect(total).toBe(n);
  });
});
