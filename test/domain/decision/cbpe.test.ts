import { describe, expect, it } from "vitest";
import { estimatePerformance, expectedConfusion } from "../../../lambdas/domain/decision/cbpe";
import { emptyNumeric } from "../../../lambdas/domain/stats/profile";
import { addNumeric } from "../../../lambdas/domain/stats/profile-update";

/** Summary of the given scores. */
const scores = (values: readonly number[]) => {
  const s = emptyNumeric();
  for (const v of values) addNumeric(s, v);
  return s;
};

/** n scores evenly spread over [lo, hi]. */
const spread = (lo: number, hi: number, n: number): number[] =>
  Array.from({ length: n }, (_, i) => lo + ((hi - lo) * (i + 0.5)) / n);

describe("CBPE", () => {
  it.each([
    ["confident model", [0.99, 0.01, 0.98, 0.02], 0.985],
    ["uncertain model", [0.5, 0.55, 0.45, 0.52], 0.53],
    ["all positive", [0.8, 0.8], 0.8],
  ])("expected accuracy of a %s", (_name, values, expected) => {
    expect(estimatePerformance(scores(values)).accuracy).toBeCloseTo(expected, 2);
  });

  it("matches the simulated accuracy of a calibrated model", () => {
    // For scores uniform on [0, 1], E[max(p, 1 - p)] = 0.75.
    const est = estimatePerformance(scores(spread(0, 1, 20_000)));
    expect(est.n).toBe(20_000);
    expect(est.accuracy).toBeCloseTo(0.75, 2);
    // Expected TP = integral of p over [0.5, 1] = 0.375; FN = 0.125; FP = 0.125.
    expect(est.precision).toBeCloseTo(0.75, 2);
    expect(est.recall).toBeCloseTo(0.75, 2);
    expect(est.f1).toBeCloseTo(0.75, 2);
  });

  it("drops when scores move toward the decision threshold", () => {
    const before = estimatePerformance(scores([...spread(0, 0.2, 5000), ...spread(0.8, 1, 5000)]));
    const after = estimatePerformance(scores(spread(0.3, 0.7, 10_000)));
    expect(before.accuracy!).toBeGreaterThan(0.85);
    expect(after.accuracy!).toBeLessThan(0.65);
  });

  it("handles empty summaries and custom thresholds", () => {
    expect(estimatePerformance(undefined)).toEqual({ n: 0 });
    expect(estimatePerformance(scores([]))).toEqual({ n: 0 });
    const c = expectedConfusion(scores([0.6, 0.6]), 0.7);
    expect(c.tp).toBe(0);
    expect(c.fn).toBeCloseTo(1.2, 6);
  });
});
