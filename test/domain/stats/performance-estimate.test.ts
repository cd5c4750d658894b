import { describe, expect, it } from "vitest";
import type { PerformanceMetricName } from "../../../contracts/policy";
import { mulberry32 } from "../../../lambdas/domain/stats/mulberry32";
import {
  aucStandardError,
  estimateMetric,
  f1StandardError,
  macroF1StandardError,
} from "../../../lambdas/domain/stats/performance-estimate";
import { emptyProfile, type MulticlassPerformance } from "../../../lambdas/domain/stats/profile";
import { deserializeProfile, serializeProfile } from "../../../lambdas/domain/stats/profile-codec";
import { mergeProfiles } from "../../../lambdas/domain/stats/profile-merge";
import { addOutcome } from "../../../lambdas/domain/stats/profile-update";

const binary = () => emptyProfile({ task: "binary", features: {} });

/** A binary profile with the given confusion counts (scores 0.9 / 0.1 for predicted 1 / 0). */
function confusion(tp: number, fp: number, tn: number, fn: number) {
  const p = binary();
  const add = (label: number, prediction: number, times: number) => {
    for (let i = 0; i < times; i++) addOutcome(p, { label, prediction, score: prediction === 1 ? 0.9 : 0.1 });
  };
  add(1, 1, tp);
  add(0, 1, fp);
  add(0, 0, tn);
  add(1, 0, fn);
  return p;
}

describe("estimateMetric: value, standard error, denominator", () => {
  const p = confusion(30, 10, 150, 10);
  it.each<[PerformanceMetricName, number, number, number]>([
    ["accuracy", 180 / 200, Math.sqrt((0.9 * 0.1) / 200), 200],
    ["precision", 30 / 40, Math.sqrt((0.75 * 0.25) / 40), 40],
    ["recall", 30 / 40, Math.sqrt((0.75 * 0.25) / 40), 40],
  ])("%s is a binomial proportion on its own denominator", (metric, value, se, denominator) => {
    const e = estimateMetric(p.performance, metric)!;
    expect(e.value).toBeCloseTo(value, 12);
    expect(e.se!).toBeCloseTo(se, 12);
    expect(e.denominator).toBe(denominator);
  });

  it("rests recall at 2 % prevalence on the positives, not on every label", () => {
    const rare = confusion(3, 2, 190, 1);
    const recall = estimateMetric(rare.performance, "recall")!;
    expect(recall.denominator).toBe(4);
    expect(recall.denominatorName).toBe("positives");
    expect(estimateMetric(rare.performance, "accuracy")!.denominator).toBe(196);
  });

  it("log loss and Brier standard errors equal the sample variance of the per-outcome losses", () => {
    const rng = mulberry32(7);
    const p2 = binary();
    const losses: number[] = [];
    for (let i = 0; i < 500; i++) {
      const label = rng() < 0.3 ? 1 : 0;
      const score = Math.min(0.99, Math.max(0.01, label === 1 ? 0.6 + 0.3 * rng() : 0.4 * rng()));
      addOutcome(p2, { label, prediction: score >= 0.5 ? 1 : 0, score });
      losses.push(label === 1 ? -Math.log(score) : -Math.log(1 - score));
    }
    const mean = losses.reduce((a, b) => a + b, 0) / losses.length;
    const variance = losses.reduce((a, b) => a + (b - mean) ** 2, 0) / losses.length;
    const e = estimateMetric(p2.performance, "logLoss")!;
    expect(e.value).toBeCloseTo(mean, 10);
    expect(e.se!).toBeCloseTo(Math.sqrt(variance / losses.length), 10);
  });

  it("keeps standard errors through serialization and merges", () => {
    const a = confusion(10, 5, 50, 5);
    const b = confusion(12, 3, 40, 2);
    const merged = deserializeProfile(serializeProfile(mergeProfiles(a, b)));
    const direct = estimateMetric(confusion(22, 8, 90, 7).performance, "brier")!;
    expect(estimateMetric(merged.performance, "brier")!.se!).toBeCloseTo(direct.se!, 12);
  });

  it("reads a version-1 profile: same value, standard error unknown where the sums are missing", () => {
    const v1 =
      '{"v":1,"t":"binary","n":0,"l":4,"f":{},"p":["c",0,0,0,100,0,0,{}],"r":["1",4,2,1,1,0,4,1.2,0.3,"","",0],"s":["n",0,0,0,0,0,"Infinity","-Infinity",0,320,""]}';
    const decoded = (() => {
      try {
        return deserializeProfile(v1);
      } catch {
        return undefined;
      }
    })();
    // The hand-written document above must be accepted for the test to mean anything.
    expect(decoded).toBeDefined();
    const logLoss = estimateMetric(decoded!.performance, "logLoss")!;
    expect(logLoss.value).toBeCloseTo(0.3, 12);
    expect(logLoss.se).toBeUndefined();
    expect(estimateMetric(decoded!.performance, "accuracy")!.se).toBeGreaterThan(0);
  });

  it("returns undefined for a metric the task does not produce", () => {
    expect(estimateMetric(p.performance, "rmse")).toBeUndefined();
  });
});

describe("standard errors against simulation", () => {
  it("F1's delta-method error matches the spread of F1 over multinomial samples", () => {
    const shares = [0.2, 0.05, 0.7, 0.05]; // tp, fp, tn, fn
    const n = 2000;
    const rng = mulberry32(11);
    const f1s: number[] = [];
    for (let r = 0; r < 600; r++) {
      const counts = [0, 0, 0, 0];
      for (let i = 0; i < n; i++) {
        let u = rng();
        let k = 0;
        while (k < 3 && u >= shares[k]!) {
          u -= shares[k]!;
          k++;
        }
        counts[k]! += 1;
      }
      f1s.push((2 * counts[0]!) / (2 * counts[0]! + counts[1]! + counts[3]!));
    }
    const mean = f1s.reduce((a, b) => a + b, 0) / f1s.length;
    const sd = Math.sqrt(f1s.reduce((a, b) => a + (b - mean) ** 2, 0) / (f1s.length - 1));
    const se = f1StandardError(0.2 * n, 0.05 * n, 0.05 * n, n);
    expect(se / sd).toBeGreaterThan(0.85);
    expect(se / sd).toBeLessThan(1.15);
  });

  it("AUC's Hanley-McNeil error: A = 0.8 on 50 + 50 gives Q1 = 2/3, Q2 = 32/45, se = 0.04450", () => {
    // (0.8 * 0.2 + 49 * (2/3 - 0.64) + 49 * (32/45 - 0.64)) / 2500 = 0.0019804...
    expect(aucStandardError(0.8, 50, 50)).toBeCloseTo(0.0445022, 6);
  });

  it("AUC's error matches the spread of AUCs over samples (binormal, 200 + 200)", () => {
    const rng = mulberry32(5);
    const normal = () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
    const aucs: number[] = [];
    for (let r = 0; r < 300; r++) {
      const pos = Array.from({ length: 200 }, () => normal() + 1.2);
      const neg = Array.from({ length: 200 }, () => normal());
      let wins = 0;
      for (const x of pos) for (const y of neg) wins += x > y ? 1 : x === y ? 0.5 : 0;
      aucs.push(wins / (200 * 200));
    }
    const mean = aucs.reduce((a, b) => a + b, 0) / aucs.length;
    const sd = Math.sqrt(aucs.reduce((a, b) => a + (b - mean) ** 2, 0) / (aucs.length - 1));
    const se = aucStandardError(mean, 200, 200);
    expect(se / sd).toBeGreaterThan(0.8);
    expect(se / sd).toBeLessThan(1.25);
  });

  it("macro F1's resampled error is deterministic and shrinks with the sample", () => {
    const small: MulticlassPerformance = {
      task: "multiclass",
      n: 60,
      confusion: { a: { a: 15, b: 5 }, b: { b: 16, c: 4 }, c: { c: 18, a: 2 } },
      probabilityN: 0,
      logLossSum: 0,
      invalid: 0,
    };
    const large: MulticlassPerformance = {
      ...small,
      n: 600,
      confusion: { a: { a: 150, b: 50 }, b: { b: 160, c: 40 }, c: { c: 180, a: 20 } },
    };
    expect(macroF1StandardError(small)).toBe(macroF1StandardError(small));
    expect(macroF1StandardError(large) / macroF1StandardError(small)).toBeGreaterThan(0.22);
    expect(macroF1StandardError(large) / macroF1StandardError(small)).toBeLessThan(0.45);
  });
});
