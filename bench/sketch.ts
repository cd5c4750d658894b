/**
 * Numeric sketch benchmark (issue 12): `npm run bench -- sketch`.
 * - bytes per numeric feature (serialized sketch) at 10,000 and 1,000,000 values, built the way the ingest
 *   builds a bucket (read, add a 500-value batch, write, repeat), for every numeric shape of the SciPy
 *   fixtures (test/fixtures/scipy-drift.json, including the adversarial ones);
 * - the worst sup CDF error of those sketches against the exact empirical CDF, with their certified bound;
 * - insert cost per value: a 500-value column into an empty sketch and into a sketch of 1M values, as CPU
 *   ns per value and as a ratio to sorting the same column (Float64Array.prototype.sort), medians;
 * - merge cost: two 1M-value sketches, and a 168-bucket window (`mergeAllSketches`), medians;
 * - the worst metric error against SciPy over the fixture cases (KS, PSI, JS, W1/sd), with the case.
 * Figures are medians of CPU times in this process; on a shared machine compare ratios, not absolutes.
 */

import {
  deserializeSketch,
  emptySketch,
  errorBound,
  mergeAllSketches,
  mergeSketches,
  serializeSketch,
  sketchAddAll,
  sketchPieces,
} from "../lambdas/domain/stats/sketch";
import { evaluateCase, loadFixtures, supCdfError } from "../scripts/scipy-accuracy";
import { type SampleSpec, samples } from "../scripts/scipy-samples";
import { cpuTimeOf, median } from "./timing";

const BATCH = 500;
const REPEATS = 15;

/** The stored sketch after adding `values` 500 at a time, read-modify-write as the ingest does. */
function readModifyWrite(values: Float64Array): string {
  let text = serializeSketch(emptySketch());
  for (let i = 0; i < values.length; i += BATCH) {
    const sketch = deserializeSketch(text);
    sketchAddAll(sketch, values, i, Math.min(values.length, i + BATCH));
    text = serializeSketch(sketch);
  }
  return text;
}

function draw(spec: SampleSpec, seed: number, n: number): Float64Array {
  return Float64Array.from(samples(spec, seed, n) as Iterable<number>);
}

const round = (x: number, digits: number): number => Number(x.toFixed(digits));

export async function run(): Promise<Record<string, unknown>> {
  const fixtures = loadFixtures();
  const numeric = fixtures.cases.filter((c) => c.type === "numeric");
  // One shape per distinct spec (reference and current sides), at 10k and 1M values.
  const shapes = new Map<string, { name: string; spec: SampleSpec; seed: number }>();
  for (const c of numeric) {
    for (const side of [c.reference, c.current]) {
      const key = JSON.stringify(side.spec);
      if (!shapes.has(key))
        shapes.set(key, { name: `${c.name}:${side === c.reference ? "ref" : "cur"}`, ...side });
    }
  }
  const sizes: Array<{
    shape: string;
    bytes10k: number;
    bytes1M: number;
    supError1M: number;
    bound1M: number;
  }> = [];
  for (const shape of shapes.values()) {
    const small = readModifyWrite(draw(shape.spec, shape.seed, 10_000));
    const values = draw(shape.spec, shape.seed, 1_000_000);
    const large = readModifyWrite(values);
    const sketch = deserializeSketch(large);
    sizes.push({
      shape: shape.name,
      bytes10k: small.length,
      bytes1M: large.length,
      supError1M: round(supCdfError(sketchPieces(sketch), values.sort()), 5),
      bound1M: round(errorBound(sketch), 5),
    });
  }
  const bytes10k = sizes.map((s) => s.bytes10k).sort((a, b) => a - b);
  const bytes1M = sizes.map((s) => s.bytes1M).sort((a, b) => a - b);
  const worst = sizes.reduce((a, b) => (b.supError1M > a.supError1M ? b : a));

  // Insert and merge costs on lognormal data.
  const spec: SampleSpec = { dist: "lognormal", mu: 0, sigma: 1 };
  const million = draw(spec, 7, 1_000_000);
  const big = deserializeSketch(readModifyWrite(million));
  const column = draw(spec, 8, BATCH);
  const scratch = new Float64Array(BATCH);
  const sortMs: number[] = [];
  const intoEmptyMs: number[] = [];
  const intoLargeMs: number[] = [];
  const inner = 200;
  for (let r = 0; r < REPEATS; r++) {
    sortMs.push(
      cpuTimeOf(() => {
        for (let i = 0; i < inner; i++) {
          scratch.set(column);
          scratch.sort();
        }
      }),
    );
    intoEmptyMs.push(
      cpuTimeOf(() => {
        for (let i = 0; i < inner; i++) sketchAddAll(emptySketch(), column);
      }),
    );
    const copies = Array.from({ length: inner }, () => deserializeSketch(serializeSketch(big)));
    intoLargeMs.push(
      cpuTimeOf(() => {
        for (const copy of copies) sketchAddAll(copy, column);
      }),
    );
  }
  const perValueNs = (ms: number[]): number => (median(ms) * 1e6) / (inner * BATCH);
  const other = deserializeSketch(readModifyWrite(draw(spec, 9, 1_000_000)));
  const mergeMs: number[] = [];
  for (let r = 0; r < REPEATS; r++) mergeMs.push(cpuTimeOf(() => mergeSketches(big, other)));
  const buckets = Array.from({ length: 168 }, (_, b) =>
    deserializeSketch(readModifyWrite(draw(spec, 100 + b, 6_000))),
  );
  const windowMs: number[] = [];
  for (let r = 0; r < REPEATS; r++) windowMs.push(cpuTimeOf(() => mergeAllSketches(buckets)));

  // Worst metric errors against SciPy (the production path: 24 partial profiles per side, merged).
  const metrics = ["ks", "psi", "jensenShannon", "wassersteinNormalized"] as const;
  const worstMetric: Record<string, { error: number; case: string; bound: number }> = {};
  for (const c of numeric) {
    const d = evaluateCase(c);
    if (d.type !== "numeric") continue;
    for (const m of metrics) {
      const error = Math.abs(d[m] - c.expected[m]!);
      if (!(worstMetric[m]?.error !== undefined && worstMetric[m]!.error >= error)) {
        worstMetric[m] = { error: round(error, 5), case: c.name, bound: round(d.bounds[m], 5) };
      }
    }
  }
  return {
    shapes: sizes.length,
    bytesPerFeature10k: { median: bytes10k[bytes10k.length >> 1], max: bytes10k[bytes10k.length - 1] },
    bytesPerFeature1M: { median: bytes1M[bytes1M.length >> 1], max: bytes1M[bytes1M.length - 1] },
    worstSupCdfError1M: { error: worst.supError1M, bound: worst.bound1M, shape: worst.shape },
    insertNsPerValue: {
      column500IntoEmpty: round(perValueNs(intoEmptyMs), 1),
      column500Into1M: round(perValueNs(intoLargeMs), 1),
      sortOnly: round(perValueNs(sortMs), 1),
      ratioIntoEmptyVsSort: round(median(intoEmptyMs) / median(sortMs), 2),
      ratioInto1MVsSort: round(median(intoLargeMs) / median(sortMs), 2),
    },
    mergeMs: { twoSketches1M: round(median(mergeMs), 3), window168Buckets: round(median(windowMs), 2) },
    worstMetricErrorVsScipy: worstMetric,
    perShape: sizes,
  };
}
