import { describe, expect, it } from "vitest";
import {
  applyValidationGate,
  type GateInput,
  jensenShannonDistance,
  predictionShift,
  type ValidationGate,
} from "../../../lambdas/domain/retraining/validation-gate";

describe("applyValidationGate", () => {
  const cases: Array<[string, ValidationGate, GateInput, boolean, string[]]> = [
    [
      "better challenger passes",
      { metric: "auc", minMetric: 0.7, minImprovement: 0.01 },
      { task: "binary", challenger: { auc: 0.85, n: 500 }, champion: { auc: 0.8, n: 500 } },
      true,
      [],
    ],
    [
      "below the absolute floor",
      { metric: "auc", minMetric: 0.9 },
      { task: "binary", challenger: { auc: 0.85 }, champion: { auc: 0.8 } },
      false,
      ["minimum"],
    ],
    [
      "not enough improvement",
      { metric: "accuracy", minImprovement: 0.02 },
      { task: "binary", challenger: { accuracy: 0.81 }, champion: { accuracy: 0.8 } },
      false,
      ["improvement"],
    ],
    [
      "lower-is-better metric improves when it drops",
      { metric: "rmse", minMetric: 5, minImprovement: 0.5 },
      { task: "regression", challenger: { rmse: 3 }, champion: { rmse: 4 } },
      true,
      [],
    ],
    [
      "lower-is-better metric above the ceiling",
      { metric: "rmse", minMetric: 2 },
      { task: "regression", challenger: { rmse: 3 } },
      false,
      ["minimum"],
    ],
    [
      "first model: no champion, only the floor applies",
      { metric: "auc", minMetric: 0.6, minImprovement: 0.1 },
      { task: "binary", challenger: { auc: 0.7 } },
      true,
      [],
    ],
    [
      "missing challenger metric is a rejection",
      { metric: "auc" },
      { task: "binary", challenger: { accuracy: 0.9 } },
      false,
      ["minimum"],
    ],
    [
      "prediction shift too large",
      { metric: "auc", maxPredictionShift: 0.1 },
      { task: "binary", challenger: { auc: 0.9 }, champion: { auc: 0.8 }, predictionShift: 0.3 },
      false,
      ["predictionShift"],
    ],
    [
      "holdout too small",
      { metric: "auc", minHoldout: 200 },
      { task: "binary", challenger: { auc: 0.9, n: 50 }, champion: { auc: 0.8, n: 50 } },
      false,
      ["holdoutSize"],
    ],
    [
      "default metric by task (macroF1 for multiclass)",
      {},
      { task: "multiclass", challenger: { macroF1: 0.6 }, champion: { macroF1: 0.6 } },
      true,
      [],
    ],
  ];

  it.each(cases)("%s", (_name, gate, input, passed, failedChecks) => {
    const verdict = applyValidationGate(gate, input);
    expect(verdict.passed).toBe(passed);
    expect(verdict.checks.filter((c) => !c.passed).map((c) => c.name)).toEqual(failedChecks);
    expect(verdict.reasons).toHaveLength(failedChecks.length);
  });
});

describe("predictionShift", () => {
  it.each([
    ["identical classes", [0, 1, 0, 1], [0, 1, 0, 1], 0],
    ["disjoint classes", ["a", "a"], ["b", "b"], 1],
  ] as const)("%s", (_n, a, b, expected) => {
    expect(predictionShift(a, b)).toBeCloseTo(expected, 10);
  });

  it("is small for the same numeric distribution and large for a shifted one", () => {
    const base = Array.from({ length: 1000 }, (_, i) => i / 1000);
    expect(predictionShift(base, base)).toBe(0);
    expect(
      predictionShift(
        base,
        base.map((x) => x + 0.5),
      ),
    ).toBeGreaterThan(0.5);
  });

  it("matches scipy's jensenshannon(base=2) on a known pair", () => {
    // scipy.spatial.distance.jensenshannon([0.1, 0.4, 0.5], [0.3, 0.3, 0.4], base=2) = 0.216634024495...
    expect(jensenShannonDistance([0.1, 0.4, 0.5], [0.3, 0.3, 0.4])).toBeCloseTo(0.216634024495, 10);
  });
});
