import { describe, expect, it } from "vitest";
import {
  compareProfiles,
  DriftInputError,
  jensenShannon,
  psi,
  summaryDrift,
} from "../../../lambdas/domain/stats/drift";
import { emptyCategorical, emptyNumeric, emptyProfile } from "../../../lambdas/domain/stats/profile";
import { addCategorical, addNumeric } from "../../../lambdas/domain/stats/profile-update";

function numeric(values: Array<number | null>) {
  const s = emptyNumeric();
  for (const v of values) addNumeric(s, v);
  return s;
}

function categorical(values: Array<string | boolean | null>) {
  const s = emptyCategorical();
  for (const v of values) addCategorical(s, v);
  return s;
}

describe("drift edge cases", () => {
  it.each([
    ["identical samples", [1, 2, 3], [1, 2, 3], { ks: 0, wasserstein: 0, psi: 0, jensenShannon: 0 }],
    ["disjoint samples", [0, 0, 0], [1, 1], { ks: 1, wasserstein: 1, wassersteinNormalized: Infinity }],
    [
      "constant equal features",
      [5, 5],
      [5, 5, 5],
      { ks: 0, wasserstein: 0, wassersteinNormalized: 0, psi: 0 },
    ],
  ] as const)("numeric: %s", (_name, ref, cur, expected) => {
    const d = summaryDrift(numeric([...ref]), numeric([...cur]));
    expect(d.type).toBe("numeric");
    for (const [k, v] of Object.entries(expected))
      expect((d as unknown as Record<string, number>)[k], k).toBe(v);
  });

  it("all-missing or empty sides give NaN metrics and the sample sizes", () => {
    const d = summaryDrift(numeric([null, null]), numeric([1, 2]));
    expect(d).toMatchObject({ type: "numeric", n: { reference: 0, current: 2 } });
    expect(d.type === "numeric" && Number.isNaN(d.ks)).toBe(true);
    const c = summaryDrift(emptyCategorical(), categorical(["a"]));
    expect(c.type === "categorical" && Number.isNaN(c.chiSquared)).toBe(true);
  });

  it("categorical: one category on both sides has zero drift and p-value 1; a one-sided category counts", () => {
    expect(summaryDrift(categorical(["a", "a"]), categorical(["a"]))).toMatchObject({
      chiSquared: 0,
      chiSquaredPValue: 1,
      lInfinity: 0,
      jensenShannon: 0,
      psi: 0,
    });
    const d = summaryDrift(categorical(["a", "a", true]), categorical(["a", "b"]));
    expect(d.type === "categorical" && d.lInfinity).toBeCloseTo(0.5, 12);
  });

  it("rejects comparing a numeric with a categorical summary", () => {
    expect(() => summaryDrift(numeric([1]), categorical(["a"]))).toThrow(DriftInputError);
  });

  it("compareProfiles skips features missing on one side", () => {
    const a = emptyProfile({ task: "regression", features: { x: "numeric", y: "categorical" } });
    const b = emptyProfile({ task: "regression", features: { x: "numeric" } });
    expect(Object.keys(compareProfiles(a, b))).toEqual(["x"]);
  });

  it("psi floors proportions at 1e-4 and JS is base-2 bounded by 1", () => {
    expect(psi([1, 0], [0, 1])).toBeCloseTo(2 * (1 - 1e-4) * Math.log(1 / 1e-4), 9);
    expect(jensenShannon([1, 0], [0, 1])).toBeCloseTo(1, 12);
  });
});
