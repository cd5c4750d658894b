import { describe, expect, it } from "vitest";
import { kolmogorovSf, ks2SampPValue } from "../../../lambdas/domain/stats/distributions";
import { errorBound, sketchPieces } from "../../../lambdas/domain/stats/sketch";
import {
  buildProfile,
  evaluateCase,
  loadFixtures,
  PARTIALS,
  supCdfError,
} from "../../../scripts/scipy-accuracy";
import { samples } from "../../../scripts/scipy-samples";

const fixtures = loadFixtures();

/** Targets from issue 2, for profiles built event by event and merged from >= 20 partial profiles. */
const tolerance: Record<string, (expected: number) => number> = {
  ks: () => 0.01,
  jensenShannon: () => 0.01,
  psi: (e) => Math.max(0.01, 0.05 * Math.abs(e)),
  wassersteinNormalized: () => 0.01,
};

describe(`drift metrics against SciPy ${fixtures.scipy} (${PARTIALS} merged partial profiles per side)`, () => {
  it.each(fixtures.cases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    const actual = evaluateCase(c) as unknown as Record<string, number>;
    expect(actual.type).toBe(c.type);
    for (const [metric, expected] of Object.entries(c.expected)) {
      const value = actual[metric]!;
      if (c.type === "categorical") {
        expect(Math.abs(value - expected), metric).toBeLessThanOrEqual(
          1e-9 * Math.max(Math.abs(expected), 1e-300),
        );
      } else if (tolerance[metric]) {
        expect(Math.abs(value - expected), metric).toBeLessThanOrEqual(tolerance[metric](expected));
      }
    }
  });

  // Below 1e-17 with n > 20,000 the tail uses SciPy's own large-n asymptotic formula (a few % relative).
  it.each(fixtures.kstwo.map((k) => [k.n, k.d, k.sf] as const))("kstwo.sf(n=%i, d=%s) = %s", (n, d, sf) => {
    const relative = sf < 1e-17 ? 0.05 : 1e-7;
    expect(Math.abs(kolmogorovSf(n, d) - sf)).toBeLessThanOrEqual(relative * sf + 1e-300);
  });

  it("reports SciPy's asymptotic KS p-value exactly when the statistic is exact", () => {
    const exact = fixtures.cases.filter((c) => c.type === "numeric" && c.name.startsWith("discrete-small"));
    expect(exact.length).toBeGreaterThan(0);
    for (const c of exact) {
      const ks = c.expected.ks!;
      const p = ks2SampPValue(ks, c.reference.n, c.current.n);
      expect(Math.abs(p - c.expected.ksPValue!)).toBeLessThanOrEqual(1e-9 * c.expected.ksPValue! + 1e-300);
    }
  });
});

const adversarial = fixtures.cases.filter((c) => c.name.startsWith("adversarial-"));

describe("adversarial shapes (issue 12): the bound holds on the data, and each metric is within its bound", () => {
  it("the fixtures hold the adversarial cases", () => {
    expect(adversarial.length).toBeGreaterThanOrEqual(10);
  });

  it.each(adversarial.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    for (const side of [c.reference, c.current]) {
      const values = Float64Array.from(samples(side.spec, side.seed, side.n) as Iterable<number>);
      const summary = buildProfile("numeric", side).features.x!;
      if (summary.kind !== "numeric") throw new Error("numeric summary expected");
      const bound = errorBound(summary.sketch);
      expect(bound).toBeLessThanOrEqual(0.005);
      expect(supCdfError(sketchPieces(summary.sketch), Float64Array.from(values).sort())).toBeLessThanOrEqual(
        bound + 1e-12,
      );
    }
    const d = evaluateCase(c);
    if (d.type !== "numeric") throw new Error("numeric drift expected");
    // KS: the bound is guaranteed (the sum of the two sketches' bounds, <= 0.01).
    expect(Math.abs(d.ks - c.expected.ks!)).toBeLessThanOrEqual(d.bounds.ks + 1e-12);
    expect(d.bounds.ks).toBeLessThanOrEqual(0.01);
  });
});
