/**
 * The validation gate's statistics against reference values from SciPy/numpy
 * (scripts/gen-gate-fixtures.py -> test/fixtures/scipy-gate.json; CI only reads the JSON).
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { cohenKappa, spearman } from "../../../lambdas/domain/stats/agreement";
import { delongNonInferiority, pairedAuc } from "../../../lambdas/domain/stats/delong";
import { pairedBootstrapNonInferiority } from "../../../lambdas/domain/stats/paired-bootstrap";
import { pairedLossNonInferiority } from "../../../lambdas/domain/stats/paired-loss";
import { pairedProportionNonInferiority } from "../../../lambdas/domain/stats/paired-proportions";
import { studentTSf, studentTUpperQuantile } from "../../../lambdas/domain/stats/student-t";

interface Expected {
  readonly [key: string]: number;
}
interface Fixtures {
  readonly scipy: string;
  readonly studentT: {
    readonly sf: { t: number; df: number; sf: number }[];
    readonly quantiles: { tail: number; df: number; quantile: number }[];
  };
  readonly pairedProportions: {
    name: string;
    n: number;
    challengerOnly: number;
    championOnly: number;
    margin: number;
    alpha: number;
    expected: Expected;
  }[];
  readonly delong: {
    name: string;
    labels: number[];
    challenger: number[];
    champion: number[];
    margin: number;
    alpha: number;
    expected: Expected;
  }[];
  readonly pairedLoss: {
    name: string;
    challenger: number[];
    champion: number[];
    ratioMargin: number;
    alpha: number;
    expected: Expected;
  }[];
  readonly agreement: {
    readonly spearman: { name: string; x: number[]; y: number[]; rho: number }[];
    readonly kappa: { name: string; a: string[]; b: string[]; kappa: number }[];
  };
  readonly bootstrap: {
    name: string;
    metric: "precision" | "f1" | "macroF1";
    labels: number[];
    challenger: number[];
    champion: number[];
    alpha: number;
    expected: Expected;
  }[];
}

const fixtures = JSON.parse(readFileSync("test/fixtures/scipy-gate.json", "utf8")) as Fixtures;

/** |actual - expected| within `relative` of the expected magnitude (or `absolute` near zero). */
function expectClose(
  actual: number,
  expected: number,
  relative: number,
  what: string,
  absolute = 1e-12,
): void {
  expect(Math.abs(actual - expected), `${what}: ${actual} vs ${expected}`).toBeLessThanOrEqual(
    Math.max(absolute, relative * Math.abs(expected)),
  );
}

describe(`Student t against SciPy ${fixtures.scipy}`, () => {
  it.each(fixtures.studentT.sf.map((c) => [`t ${c.t}, df ${c.df}`, c] as const))("sf(%s)", (_n, c) => {
    expectClose(studentTSf(c.t, c.df), c.sf, 1e-10, "sf", 1e-15);
  });
  it.each(fixtures.studentT.quantiles.map((c) => [`tail ${c.tail}, df ${c.df}`, c] as const))(
    "isf(%s)",
    (_n, c) => {
      expectClose(studentTUpperQuantile(c.tail, c.df), c.quantile, 1e-10, "isf");
    },
  );
});

describe("paired proportions: Tango's score test and interval vs a numerical restricted MLE", () => {
  it.each(fixtures.pairedProportions.map((c) => [c.name, c] as const))("%s", (_n, c) => {
    const test = pairedProportionNonInferiority(c, c.margin, c.alpha);
    expectClose(test.estimate, c.expected.estimate!, 1e-12, "estimate");
    expectClose(test.statistic, c.expected.statistic!, 1e-6, "statistic", 1e-7);
    expectClose(test.pValue, c.expected.pValue!, 1e-6, "p-value", 1e-10);
    expectClose(test.interval[0], c.expected.lower!, 1e-6, "lower", 1e-8);
    expectClose(test.interval[1], c.expected.upper!, 1e-6, "upper", 1e-8);
    expect(test.rejected).toBe(c.expected.pValue! < c.alpha);
    // The verdict and the interval say the same: H0 rejected iff the lower bound clears -margin.
    expect(test.rejected).toBe(test.interval[0] > -c.margin);
  });
});

describe("DeLong paired AUCs vs brute-force structural components (numpy) and Mann-Whitney U (SciPy)", () => {
  it.each(fixtures.delong.map((c) => [c.name, c] as const))("%s", (_n, c) => {
    const auc = pairedAuc(
      c.challenger,
      c.champion,
      c.labels.map((y) => y === 1),
    )!;
    expectClose(auc.challenger, c.expected.aucChallenger!, 1e-12, "AUC challenger");
    expectClose(auc.challenger, c.expected.aucChallengerMannWhitney!, 1e-12, "AUC = U / (m n)");
    expectClose(auc.champion, c.expected.aucChampion!, 1e-12, "AUC champion");
    expectClose(auc.variance, c.expected.variance!, 1e-9, "variance");
    const test = delongNonInferiority(auc, c.margin, c.alpha);
    expectClose(test.statistic, c.expected.statistic!, 1e-9, "statistic");
    expectClose(test.pValue, c.expected.pValue!, 1e-7, "p-value", 1e-15);
    expectClose(test.interval[0], c.expected.lower!, 1e-9, "lower");
    expectClose(test.interval[1], c.expected.upper!, 1e-9, "upper");
  });

  it("is undefined with fewer than two rows of a class", () => {
    expect(pairedAuc([0.1, 0.9, 0.8], [0.2, 0.7, 0.6], [false, true, true])).toBeUndefined();
  });

  it("passes identical rankings (zero variance) when the margin is positive", () => {
    const scores = [0.1, 0.4, 0.35, 0.8, 0.9, 0.2];
    const labels = [false, true, false, true, true, false];
    const test = delongNonInferiority(pairedAuc(scores, scores, labels)!, 0.01, 0.05);
    expect(test).toMatchObject({ estimate: 0, statistic: Number.POSITIVE_INFINITY, rejected: true });
  });
});

describe("paired t on per-row losses vs scipy.stats.ttest_1samp, Fieller interval of the ratio", () => {
  it.each(fixtures.pairedLoss.map((c) => [c.name, c] as const))("%s", (_n, c) => {
    const test = pairedLossNonInferiority(c.challenger, c.champion, c.ratioMargin, c.alpha)!;
    expectClose(test.estimate, c.expected.ratio!, 1e-12, "ratio");
    expectClose(test.statistic, c.expected.statistic!, 1e-9, "t");
    expectClose(test.pValue, c.expected.pValue!, 1e-8, "p-value", 1e-15);
    expectClose(test.interval[0], c.expected.lower!, 1e-8, "Fieller lower");
    expectClose(test.interval[1], c.expected.upper!, 1e-8, "Fieller upper");
    expect(test.rejected).toBe(test.interval[1] < c.ratioMargin);
  });

  it("reports an unbounded interval when the champion's mean loss is indistinguishable from zero", () => {
    const test = pairedLossNonInferiority([0, 1, 0, 2], [0, 0, 1, 0], 1.05, 0.05)!;
    expect(test.interval[1]).toBe(Number.POSITIVE_INFINITY);
    expect(test.rejected).toBe(false);
  });
});

describe("agreement: Spearman vs scipy.stats.spearmanr, Cohen's kappa vs numpy", () => {
  it.each(fixtures.agreement.spearman.map((c) => [c.name, c] as const))("spearman %s", (_n, c) => {
    expectClose(spearman(c.x, c.y)!, c.rho, 1e-12, "rho");
  });
  it.each(fixtures.agreement.kappa.map((c) => [c.name, c] as const))("kappa %s", (_n, c) => {
    expectClose(cohenKappa(c.a, c.b)!, c.kappa, 1e-12, "kappa");
  });
  it.each([
    ["a constant vector", [1, 1, 1], [1, 2, 3]],
    ["a single row", [1], [2]],
  ])("spearman is undefined for %s", (_n, x, y) => {
    expect(spearman(x, y)).toBeUndefined();
  });
});

/** Precision, F1 or macro F1 of class-index predictions on the listed rows. */
function metricOn(
  metric: "precision" | "f1" | "macroF1",
  labels: readonly number[],
  predictions: readonly number[],
  rows: ArrayLike<number>,
): number | undefined {
  const classes = [...new Set([...labels, ...predictions])];
  const tp = new Map<number, number>();
  const predicted = new Map<number, number>();
  const actual = new Map<number, number>();
  for (let k = 0; k < rows.length; k++) {
    const row = rows[k]!;
    const y = labels[row]!;
    const p = predictions[row]!;
    predicted.set(p, (predicted.get(p) ?? 0) + 1);
    actual.set(y, (actual.get(y) ?? 0) + 1);
    if (y === p) tp.set(y, (tp.get(y) ?? 0) + 1);
  }
  const f1Of = (c: number) => {
    const den = (predicted.get(c) ?? 0) + (actual.get(c) ?? 0);
    return den > 0 ? (2 * (tp.get(c) ?? 0)) / den : 0;
  };
  if (metric === "precision") {
    const den = predicted.get(1) ?? 0;
    return den > 0 ? (tp.get(1) ?? 0) / den : undefined;
  }
  if (metric === "f1") return f1Of(1);
  return classes.reduce((s, c) => s + f1Of(c), 0) / classes.length;
}

describe("paired bootstrap vs scipy.stats.bootstrap(paired=True, percentile, 20,000 resamples)", () => {
  it.each(fixtures.bootstrap.map((c) => [c.name, c] as const))("%s", (_n, c) => {
    const all = Uint32Array.from(c.labels.keys());
    const difference = (rows: Uint32Array = all) => {
      const h = metricOn(c.metric, c.labels, c.challenger, rows);
      const k = metricOn(c.metric, c.labels, c.champion, rows);
      return h === undefined || k === undefined ? undefined : h - k;
    };
    const test = pairedBootstrapNonInferiority(c.labels.length, difference, 0.01, c.alpha)!;
    expectClose(test.estimate, c.expected.difference!, 1e-12, "difference");
    // Monte Carlo error of 2,000 percentile resamples: about 0.1 standard error; allow 0.25.
    const tolerance = 0.25 * c.expected.standardError!;
    expect(Math.abs(test.interval[0] - c.expected.lower!)).toBeLessThanOrEqual(tolerance);
    expect(Math.abs(test.interval[1] - c.expected.upper!)).toBeLessThanOrEqual(tolerance);
    // Deterministic: the same rows give the same interval.
    expect(pairedBootstrapNonInferiority(c.labels.length, difference, 0.01, c.alpha)!.interval).toEqual(
      test.interval,
    );
  });
});
