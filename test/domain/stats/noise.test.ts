import { describe, expect, it } from "vitest";
import { jensenShannon, psi } from "../../../lambdas/domain/stats/drift";
import {
  bridgeIntegralMoments,
  chiSquaredUpperQuantile,
  gammaUpperQuantile,
  jensenShannonNoiseFloor,
  ksNoiseFloor,
  lInfinityNoiseFloor,
  normalUpperQuantile,
  psiNoiseFloor,
  rateIncreaseNoiseFloor,
  wassersteinNoiseFloor,
} from "../../../lambdas/domain/stats/noise";
import { SeededRandom } from "../../../local/prng";

// Reference values: scipy.stats 1.10 (chi2.isf, norm.isf, gamma.isf with shape mean^2/var, scale var/mean).
describe("quantiles against SciPy", () => {
  it.each([
    [1e-4, 9, 33.719948438964636],
    [0.05, 1, 3.8414588206941285],
    [1e-3, 4, 18.466826952903173],
    [1e-6, 99, 180.79201532589974],
  ])("chi2.isf(%s, %s)", (tail, df, expected) => {
    expect(chiSquaredUpperQuantile(tail, df)).toBeCloseTo(expected, 6);
  });

  it.each([
    [1e-4, 3.7190164854556804],
    [0.05, 1.6448536269514729],
    [2.5e-6, 4.564787730280885],
  ])("norm.isf(%s)", (tail, expected) => {
    expect(normalUpperQuantile(tail)).toBeCloseTo(expected, 6);
  });

  it.each([
    [1e-4, 1.0, 0.25, 3.97845350015779],
    [0.01, 2.0, 1.0, 5.022558757415808],
  ])("gamma.isf(%s) with mean %s, variance %s", (tail, mean, variance, expected) => {
    expect(gammaUpperQuantile(tail, mean, variance)).toBeCloseTo(expected, 5);
  });

  it("KS critical value is the Kolmogorov limit (kstwobign.isf(1e-4) = 2.22525) at large sizes", () => {
    const n = 1_000_000;
    expect(ksNoiseFloor(n, n, 1e-4) * Math.sqrt(n / 2)).toBeCloseTo(2.2252513961950457, 3);
  });

  it("is zero when a side is empty or there is nothing to compare", () => {
    expect(psiNoiseFloor(0, 10, 10, 1e-4)).toBe(0);
    expect(jensenShannonNoiseFloor(10, 10, 1, 1e-4)).toBe(0);
    expect(ksNoiseFloor(10, 0, 1e-4)).toBe(0);
    expect(lInfinityNoiseFloor(10, 10, 1, 0.5, 1e-4)).toBe(0);
  });

  it("shrinks as 1/n for PSI and 1/sqrt(n) for the distances", () => {
    expect(psiNoiseFloor(4000, 4000, 10, 1e-4) / psiNoiseFloor(1000, 1000, 10, 1e-4)).toBeCloseTo(0.25, 10);
    expect(ksNoiseFloor(40_000, 40_000, 1e-4) / ksNoiseFloor(10_000, 10_000, 1e-4)).toBeCloseTo(0.5, 3);
    expect(
      jensenShannonNoiseFloor(4000, 4000, 10, 1e-4) / jensenShannonNoiseFloor(1000, 1000, 10, 1e-4),
    ).toBeCloseTo(0.5, 10);
  });
});

// Exact statistics of raw samples, as pinned in docs/statistics.md (numpy "linear" quantile edges of the
// reference, duplicate edges merged, a value equal to an edge in the bin above).
function quantileLinear(sorted: Float64Array, q: number): number {
  const h = (sorted.length - 1) * q;
  const i = Math.floor(h);
  const j = Math.min(i + 1, sorted.length - 1);
  return sorted[i]! + (h - i) * (sorted[j]! - sorted[i]!);
}

function binned(ref: Float64Array, cur: Float64Array, bins: number): { r: number[]; c: number[] } {
  const edges: number[] = [];
  for (let i = 1; i < bins; i++) {
    const e = quantileLinear(ref, i / bins);
    if (edges.length === 0 || edges[edges.length - 1] !== e) edges.push(e);
  }
  const counts = (xs: Float64Array) => {
    const out = new Array<number>(edges.length + 1).fill(0);
    for (const x of xs) {
      let b = 0;
      while (b < edges.length && x >= edges[b]!) b++;
      out[b]! += 1;
    }
    return out.map((k) => k / xs.length);
  };
  return { r: counts(ref), c: counts(cur) };
}

function ksExact(a: Float64Array, b: Float64Array): number {
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < a.length && j < b.length) {
    const x = Math.min(a[i]!, b[j]!);
    while (i < a.length && a[i] === x) i++;
    while (j < b.length && b[j] === x) j++;
    d = Math.max(d, Math.abs(i / a.length - j / b.length));
  }
  return d;
}

function w1Exact(a: Float64Array, b: Float64Array): number {
  const all = Float64Array.from([...a, ...b]).sort();
  let i = 0;
  let j = 0;
  let total = 0;
  for (let k = 0; k < all.length - 1; k++) {
    const x = all[k]!;
    while (i < a.length && a[i]! <= x) i++;
    while (j < b.length && b[j]! <= x) j++;
    total += Math.abs(i / a.length - j / b.length) * (all[k + 1]! - x);
  }
  return total;
}

type Draw = (rng: SeededRandom) => number;
/** Name, draw, and whether the data has ties (KS is then conservative: fewer exceedances, never more). */
const DISTRIBUTIONS: ReadonlyArray<[string, Draw, boolean]> = [
  ["normal", (rng) => rng.normal(100, 3), false],
  ["lognormal", (rng) => Math.exp(rng.normal(0, 1)), false],
  ["discrete (12 values)", (rng) => Math.floor(Math.abs(rng.normal(0, 4))), true],
];

/** Share of same-distribution sample pairs whose statistic exceeds its noise floor at `alpha`. */
function exceedance(
  draw: Draw,
  n: number,
  m: number,
  statistic: (ref: Float64Array, cur: Float64Array) => { value: number; floor: number },
  replicates = 1500,
): number {
  const rng = new SeededRandom(20261129);
  let over = 0;
  for (let r = 0; r < replicates; r++) {
    const ref = Float64Array.from({ length: n }, () => draw(rng)).sort();
    const cur = Float64Array.from({ length: m }, () => draw(rng)).sort();
    const { value, floor } = statistic(ref, cur);
    if (value > floor) over++;
  }
  return over / replicates;
}

// A floor is a (1 - alpha) quantile of the statistic under the null: about alpha of same-distribution pairs
// exceed it. Checked at alpha = 0.02 (30 expected exceedances of 1,500): between alpha/3 and 2 alpha.
describe.each(DISTRIBUTIONS)("noise floors hold alpha under the null: %s", (_name, draw, ties) => {
  const alpha = 0.02;
  const within = (rate: number) => {
    expect(rate).toBeGreaterThan(alpha / 3);
    expect(rate).toBeLessThan(2 * alpha);
  };

  it("PSI and JS over reference-quantile bins", () => {
    const psiRate = exceedance(draw, 600, 400, (ref, cur) => {
      const { r, c } = binned(ref, cur, 10);
      return { value: psi(r, c), floor: psiNoiseFloor(ref.length, cur.length, r.length, alpha) };
    });
    const jsRate = exceedance(draw, 600, 400, (ref, cur) => {
      const { r, c } = binned(ref, cur, 10);
      return {
        value: jensenShannon(r, c),
        floor: jensenShannonNoiseFloor(ref.length, cur.length, r.length, alpha),
      };
    });
    within(psiRate);
    within(jsRate);
  });

  it("KS", () => {
    const rate = exceedance(draw, 600, 400, (ref, cur) => ({
      value: ksExact(ref, cur),
      floor: ksNoiseFloor(ref.length, cur.length, alpha),
    }));
    if (ties) expect(rate).toBeLessThan(2 * alpha);
    else within(rate);
  });

  it("W1 from the reference's bridge-integral moments", () => {
    within(
      exceedance(draw, 600, 400, (ref, cur) => ({
        value: w1Exact(ref, cur),
        floor: wassersteinNoiseFloor(
          ref.length,
          cur.length,
          bridgeIntegralMoments((p) => quantileLinear(ref, p)),
          alpha,
        ),
      })),
    );
  });
});

describe("categorical and rate floors under the null", () => {
  const alpha = 0.02;
  const weights = [0.5, 0.3, 0.15, 0.05];
  const drawCategory = (rng: SeededRandom) => {
    let u = rng.next();
    for (let k = 0; k < weights.length; k++) {
      u -= weights[k]!;
      if (u < 0) return k;
    }
    return weights.length - 1;
  };

  it("L-infinity over categories", () => {
    const rate = exceedance(drawCategory, 500, 300, (ref, cur) => {
      const share = (xs: Float64Array, k: number) => xs.filter((x) => x === k).length / xs.length;
      let value = 0;
      let maxSd = 0;
      for (let k = 0; k < weights.length; k++) {
        value = Math.max(value, Math.abs(share(ref, k) - share(cur, k)));
        const pooled = (share(ref, k) * ref.length + share(cur, k) * cur.length) / (ref.length + cur.length);
        maxSd = Math.max(maxSd, Math.sqrt(pooled * (1 - pooled)));
      }
      return { value, floor: lInfinityNoiseFloor(ref.length, cur.length, weights.length, maxSd, alpha) };
    });
    // Bonferroni is conservative: at most alpha, not much below alpha / 10.
    expect(rate).toBeLessThanOrEqual(alpha * 1.5);
    expect(rate).toBeGreaterThan(alpha / 10);
  });

  it("a missing-rate increase", () => {
    const rate = exceedance(
      (rng) => (rng.next() < 0.1 ? 1 : 0),
      2000,
      200,
      (ref, cur) => {
        const baseline = ref.reduce((s, x) => s + x, 0) / ref.length;
        const current = cur.reduce((s, x) => s + x, 0) / cur.length;
        return {
          value: current - baseline,
          floor: rateIncreaseNoiseFloor(baseline, ref.length, cur.length, alpha),
        };
      },
    );
    expect(rate).toBeLessThan(2 * alpha);
    expect(rate).toBeGreaterThan(alpha / 4);
  });
});
