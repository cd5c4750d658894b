import { describe, expect, it } from "vitest";
import { performanceMetrics } from "../../../lambdas/domain/stats/performance";
import { emptyProfile } from "../../../lambdas/domain/stats/profile";
import { deserializeProfile, serializeProfile } from "../../../lambdas/domain/stats/profile-codec";
import { addOutcome } from "../../../lambdas/domain/stats/profile-update";

describe("performance metrics from sufficient statistics", () => {
  it("binary: confusion metrics, AUC, log loss and Brier", () => {
    const p = emptyProfile({ task: "binary", features: {} });
    const outcomes: Array<[number, number, number]> = [
      [1, 0.9, 1],
      [1, 0.8, 0],
      [0, 0.3, 1],
      [0, 0.1, 0],
      [1, 0.7, 1],
    ];
    for (const [prediction, score, label] of outcomes) addOutcome(p, { prediction, score, label });
    const m = performanceMetrics(deserializeProfile(serializeProfile(p)).performance);
    expect(m.n).toBe(5);
    expect(m.accuracy).toBeCloseTo(3 / 5, 12);
    expect(m.precision).toBeCloseTo(2 / 3, 12);
    expect(m.recall).toBeCloseTo(2 / 3, 12);
    expect(m.f1).toBeCloseTo(2 / 3, 12);
    // Positives 0.9, 0.3, 0.7 vs negatives 0.8, 0.1: pairs won 2 + 1 + 1 = 4 of 6.
    expect(m.auc).toBeCloseTo(4 / 6, 12);
    const ll = -(Math.log(0.9) + Math.log(0.2) + Math.log(0.3) + Math.log(0.9) + Math.log(0.7)) / 5;
    expect(m.logLoss).toBeCloseTo(ll, 12);
    expect(m.brier).toBeCloseTo((0.01 + 0.64 + 0.49 + 0.01 + 0.09) / 5, 12);
  });

  it("binary: no scores and no positive predictions leave those metrics out", () => {
    const p = emptyProfile({ task: "binary", features: {} });
    addOutcome(p, { prediction: 0, label: 1 });
    const m = performanceMetrics(p.performance);
    expect(m).toEqual({ n: 1, accuracy: 0, recall: 0, f1: 0 });
  });

  it("multiclass: accuracy, macro-F1 and log loss from probabilities", () => {
    const p = emptyProfile({ task: "multiclass", features: {}, classes: ["a", "b", "c"] });
    const rows: Array<[string, string]> = [
      ["a", "a"],
      ["a", "b"],
      ["b", "b"],
      ["c", "c"],
    ];
    for (const [label, prediction] of rows)
      addOutcome(p, { label, prediction, probabilities: { [label]: 0.5 } });
    const m = performanceMetrics(p.performance);
    expect(m.accuracy).toBeCloseTo(0.75, 12);
    // F1: a = 2/3, b = 2/3, c = 1.
    expect(m.macroF1).toBeCloseTo((2 / 3 + 2 / 3 + 1) / 3, 12);
    expect(m.logLoss).toBeCloseTo(Math.log(2), 12);
  });

  it("regression: MAE, RMSE and MAPE over nonzero labels; invalid outcomes are counted, not used", () => {
    const p = emptyProfile({ task: "regression", features: {} });
    for (const [prediction, label] of [
      [1, 2],
      [3, 0],
      [5, 4],
    ]) {
      addOutcome(p, { prediction: prediction!, label: label! });
    }
    addOutcome(p, { prediction: Number.NaN, label: 1 });
    const m = performanceMetrics(p.performance);
    expect(m.n).toBe(3);
    expect(m.mae).toBeCloseTo(5 / 3, 12);
    expect(m.rmse).toBeCloseTo(Math.sqrt(11 / 3), 12);
    expect(m.mape).toBeCloseTo((0.5 + 0.25) / 2, 12);
    expect(p.performance.task === "regression" && p.performance.invalid).toBe(1);
  });
});
