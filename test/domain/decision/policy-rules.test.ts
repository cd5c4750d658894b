import { describe, expect, it } from "vitest";
import { parsePolicy } from "../../../contracts/policy";
import { DAY_MS as DAY, HOUR_MS as HOUR } from "../../../contracts/time";
import { evaluateRule } from "../../../lambdas/domain/decision/rules";
import {
  dataQualityVerdict,
  missingRateVerdict,
  quarantineRateVerdict,
  volumeVerdict,
} from "../../../lambdas/domain/decision/signals/data-quality";
import {
  aggregateDriftVerdict,
  type DriftMeasures,
  featureDriftVerdict,
  topDrifted,
} from "../../../lambdas/domain/decision/signals/drift";
import { labelVolumeVerdict } from "../../../lambdas/domain/decision/signals/label-volume";
import { modelAgeVerdict } from "../../../lambdas/domain/decision/signals/model-age";
import { testedThreshold } from "../../../lambdas/domain/decision/signals/performance";
import { performanceLimit } from "../../../lambdas/domain/decision/signals/performance-limit";
import { predictionDriftVerdict } from "../../../lambdas/domain/decision/signals/prediction-drift";
import { scheduleVerdict } from "../../../lambdas/domain/decision/signals/schedule";
import {
  adaptiveLimit,
  budgetCheck,
  cooldownCheck,
  type HistoryEntry,
  hourOfWeek,
  persistenceCheck,
} from "../../../lambdas/domain/decision/stability";
import type { Verdict } from "../../../lambdas/domain/decision/verdict";

const policy = parsePolicy({});
const T0 = Date.parse("2026-11-02T00:00:00Z"); // a Monday

const numeric = (psi: number, nRef = 1000, nCur = 1000): DriftMeasures => ({
  type: "numeric",
  n: { reference: nRef, current: nCur },
  psi,
  jensenShannon: psi / 2,
  ks: psi / 2,
  wassersteinNormalized: psi,
});

describe("performance limits and the one-sided test", () => {
  it.each<[string, Parameters<typeof performanceLimit>, number | undefined]>([
    ["relative drop of 5 % from 0.9", ["accuracy", undefined, 0.05, 0.9], 0.855],
    ["the stricter of floor and relative drop", ["accuracy", 0.88, 0.05, 0.9], 0.88],
    ["floor alone", ["accuracy", 0.8, 0.05, undefined], 0.8],
    ["error metrics: a ceiling 10 % above", ["rmse", undefined, 0.1, 1], 1.1],
    ["error metrics: the stricter is the lower", ["rmse", 1.05, 0.1, 1], 1.05],
    ["neither floor nor baseline", ["accuracy", undefined, 0.05, undefined], undefined],
  ])("%s", (_name, args, expected) => {
    const limit = performanceLimit(...args);
    if (expected === undefined) expect(limit).toBeUndefined();
    else expect(limit).toBeCloseTo(expected, 12);
  });

  const estimate = (value: number, se: number | undefined) => ({
    value,
    se,
    denominator: 500,
    denominatorName: "labelled pairs",
  });

  it("moves the limit by z times the combined error of window and baseline", () => {
    const tested = testedThreshold({
      higherIsBetter: true,
      limit: 0.855,
      relativeLimitBinds: true,
      maxRelativeDrop: 0.05,
      window: estimate(0.84, 0.012),
      baseline: estimate(0.9, 0.009),
      alpha: 0.001,
    });
    const se = Math.sqrt(0.012 ** 2 + (0.95 * 0.009) ** 2);
    expect(tested.se).toBeCloseTo(se, 12);
    expect(tested.z).toBeCloseTo(3.0902, 3);
    expect(tested.threshold).toBeCloseTo(0.855 - 3.0902323 * se, 5);
  });

  it("uses only the window's error when the floor binds, and moves up for error metrics", () => {
    const floor = testedThreshold({
      higherIsBetter: true,
      limit: 0.88,
      relativeLimitBinds: false,
      maxRelativeDrop: 0.05,
      window: estimate(0.85, 0.01),
      baseline: estimate(0.9, 0.5),
      alpha: 0.001,
    });
    expect(floor.se).toBeCloseTo(0.01, 12);
    const rmse = testedThreshold({
      higherIsBetter: false,
      limit: 1.1,
      relativeLimitBinds: true,
      maxRelativeDrop: 0.1,
      window: estimate(1.3, 0.02),
      baseline: estimate(1, 0.01),
      alpha: 0.001,
    });
    expect(rmse.threshold).toBeGreaterThan(1.1);
  });

  it("compares the point values when the statistics carry no standard error", () => {
    const tested = testedThreshold({
      higherIsBetter: true,
      limit: 0.855,
      relativeLimitBinds: true,
      maxRelativeDrop: 0.05,
      window: estimate(0.84, undefined),
      baseline: estimate(0.9, 0.01),
      alpha: 0.001,
    });
    expect(tested).toMatchObject({ threshold: 0.855, se: undefined });
  });
});

describe("drift verdicts", () => {
  const cfg = policy.signals.drift; // psi 0.2, share 0.3, importance weighting, minSamples 500
  it.each([
    ["below threshold", numeric(0.1), false, undefined],
    ["above threshold", numeric(0.35), true, undefined],
    [
      "too few current samples",
      numeric(0.9, 1000, 100),
      false,
      "samples reference=1000 current=100 < minimum 500",
    ],
    [
      "too few reference samples",
      numeric(0.9, 10, 1000),
      false,
      "samples reference=10 current=1000 < minimum 500",
    ],
    ["absent", undefined, false, "feature absent from baseline or window"],
  ])("feature %s", (_name, measures, breached, reason) => {
    const v = featureDriftVerdict(cfg, "age", measures);
    expect(v.signal).toBe("featureDrift:age");
    expect(v.breached).toBe(breached);
    expect(v.skipped).toBe(reason);
  });

  it("honours per-feature overrides and categorical methods", () => {
    const c = parsePolicy({
      signals: { drift: { features: { age: { threshold: 0.5 }, id: { ignore: true } } } },
    }).signals.drift;
    expect(featureDriftVerdict(c, "age", numeric(0.35)).breached).toBe(false);
    expect(featureDriftVerdict(c, "id", numeric(5)).skipped).toBe("ignored by policy");
    const cat: DriftMeasures = {
      type: "categorical",
      n: { reference: 900, current: 900 },
      jensenShannon: 0.15,
    };
    expect(featureDriftVerdict(c, "plan", cat)).toMatchObject({ breached: true, threshold: 0.1 });
  });

  const verdicts = (psis: Record<string, number>): Verdict[] =>
    Object.entries(psis).map(([f, psi]) => featureDriftVerdict(cfg, f, numeric(psi)));

  it.each([
    ["no drifted feature", { a: 0.01, b: 0.02, c: 0.03 }, { a: 1, b: 1, c: 1 }, false, 0],
    ["one of three, uniform weights", { a: 0.5, b: 0.02, c: 0.03 }, { a: 1, b: 1, c: 1 }, true, 1 / 3],
    ["ignored feature drifts (importance 0)", { a: 0.5, b: 0.02, c: 0.03 }, { a: 0, b: 1, c: 1 }, false, 0],
    ["important feature drifts", { a: 0.5, b: 0.02, c: 0.03 }, { a: 8, b: 1, c: 1 }, true, 0.8],
  ])("aggregate: %s", (_name, psis, importance, breached, share) => {
    const v = aggregateDriftVerdict(cfg, verdicts(psis), importance);
    expect(v.breached).toBe(breached);
    expect(v.value).toBeCloseTo(share, 9);
  });

  it("reports top drifted features with values and thresholds", () => {
    expect(topDrifted(verdicts({ a: 0.5, b: 0.02, c: 0.3 }), 2)).toEqual([
      "a psi 0.5 (threshold 0.2)",
      "c psi 0.3 (threshold 0.2)",
    ]);
  });

  it.each([
    ["stable outputs", { prediction: numeric(0.05) }, false],
    ["score drifts", { prediction: numeric(0.05), score: numeric(0.4) }, true],
    ["too few", { prediction: numeric(0.9, 10, 10) }, false],
  ])("prediction drift: %s", (_name, outputs, breached) => {
    expect(predictionDriftVerdict(policy.signals.predictionDrift, outputs).breached).toBe(breached);
  });
});

describe("triggers", () => {
  const age = parsePolicy({ signals: { modelAge: { enabled: true, maxAgeDays: 30, schedule: "0 3 * * 1" } } })
    .signals.modelAge;
  it.each([
    [29, false],
    [31, true],
  ])("model age %d days breached=%s", (days, breached) => {
    expect(modelAgeVerdict(age, T0, T0 + days * DAY).breached).toBe(breached);
  });
  it.each([
    ["before Monday 03:00", T0, T0 + 2 * HOUR, false],
    ["after Monday 03:00", T0, T0 + 4 * HOUR, true],
    ["retrained after the occurrence", T0 + 3.5 * HOUR, T0 + 5 * HOUR, false],
  ])("schedule %s", (_name, since, now, breached) => {
    expect(scheduleVerdict(age, since, now).breached).toBe(breached);
  });
  it.each([
    [49_999, false],
    [50_000, true],
  ])("label volume %d breached=%s", (n, breached) => {
    const cfg = parsePolicy({ signals: { labelVolume: { enabled: true } } }).signals.labelVolume;
    expect(labelVolumeVerdict(cfg, n).breached).toBe(breached);
    expect(labelVolumeVerdict(policy.signals.labelVolume, n).skipped).toBe("disabled");
  });
});

describe("data quality", () => {
  const cfg = policy.signals.dataQuality;
  it.each([
    ["stable", 0.01, 0.02, 1000, false, undefined],
    ["feature turned null", 0.01, 1, 1000, true, undefined],
    ["quiet window", 0.01, 1, 15, false, "15 events < minimum 20"],
  ])("missing rate %s", (_n, baselineRate, currentRate, currentTotal, breached, reason) => {
    const v = missingRateVerdict(cfg, { feature: "age", baselineRate, currentRate, currentTotal });
    expect(v.breached).toBe(breached);
    expect(v.skipped).toBe(reason);
  });
  it.each([
    [1000, { schema: 10 }, false],
    [1000, { schema: 80 }, true],
  ])("quarantine rate of %d received, %j", (received, q, breached) => {
    expect(quarantineRateVerdict(cfg, received, q).breached).toBe(breached);
  });
  it.each([
    ["normal", 900, 1000, 950, false],
    ["collapse vs baseline", 100, 1000, undefined, true],
    ["collapse vs recent only", 100, undefined, 1000, true],
    ["no reference", 100, undefined, undefined, false],
    // A lasting drop that the last week's median has absorbed is the new normal, not an alert forever.
    ["drop absorbed by the recent median", 100, 1000, 110, false],
    ["collapse vs the recent median, baseline lower", 100, 80, 1000, true],
  ])("volume %s", (_n, cur, base, recent, breached) => {
    expect(volumeVerdict(cfg, cur, base, recent).breached).toBe(breached);
  });
  it("volume threshold can be overridden (adaptive limit)", () => {
    expect(volumeVerdict(cfg, 500, 1000, undefined, 0.6)).toMatchObject({ breached: true, threshold: 0.6 });
  });
  it("rolls up into dataQuality", () => {
    const bad = missingRateVerdict(cfg, {
      feature: "age",
      baselineRate: 0,
      currentRate: 1,
      currentTotal: 1000,
    });
    const ok = quarantineRateVerdict(cfg, 1000, {});
    expect(dataQualityVerdict([bad, ok])).toMatchObject({ breached: true, value: 1 });
    expect(dataQualityVerdict([ok]).breached).toBe(false);
  });
});

describe("evaluateRule", () => {
  const v = (signal: string, breached: boolean, strength = breached ? 1 : 0): Verdict => ({
    signal,
    value: 0,
    threshold: 0,
    direction: "above",
    breached,
    strength,
    message: "",
    evidence: {},
  });
  const signals = new Map(
    [v("drift", true), v("performance", false, 0.5), v("estimatedPerformance", true)].map((x) => [
      x.signal,
      x,
    ]),
  );
  it.each([
    ["leaf", "drift", true],
    ["all with a false leaf", { all: ["drift", "performance"] }, false],
    [
      "requiring performance impact",
      { all: ["drift", { any: ["performance", "estimatedPerformance"] }] },
      true,
    ],
    ["missing signal", "labelVolume", false],
    ["score above threshold", { score: { weights: { drift: 1, performance: 2 }, threshold: 2 } }, true],
    ["score below threshold", { score: { weights: { drift: 1, performance: 2 }, threshold: 2.5 } }, false],
  ] as const)("%s", (_name, rule, satisfied) => {
    expect(evaluateRule(rule, signals).satisfied).toBe(satisfied);
  });
  it("reports contributions", () => {
    const r = evaluateRule({ score: { weights: { drift: 1, performance: 2 }, threshold: 2 } }, signals);
    expect(r.score).toBe(2);
    expect(r.contributions).toEqual([
      { signal: "drift", weight: 1, strength: 1, contribution: 1 },
      { signal: "performance", weight: 2, strength: 0.5, contribution: 1 },
    ]);
    expect(r.explanation).toBe("score(drift 1x1 + performance 2x0.5 = 2 >= 2)");
  });
});

describe("stability", () => {
  const entry = (
    hoursAgo: number,
    ruleSatisfied: boolean,
    values: Record<string, number> = {},
  ): HistoryEntry => ({
    evaluatedAt: T0 - hoursAgo * HOUR,
    ruleSatisfied,
    action: "none",
    values,
  });
  it.each([
    ["first evaluation", true, [], false, 1],
    ["second in a row", true, [entry(1, true)], true, 2],
    ["one of three", true, [entry(1, false), entry(2, false)], false, 1],
    ["rule does not hold now", false, [entry(1, true), entry(2, true)], false, 2],
    ["retry of the same window ignores itself", true, [{ ...entry(0, true) }], false, 1],
  ])("persistence %s", (_n, now, history, passed, count) => {
    const r = persistenceCheck({ m: 2, n: 3 }, now, history, T0);
    expect(r.passed).toBe(passed);
    expect(r.count).toBe(count);
    expect(r.suppression !== undefined).toBe(now && !passed);
  });
  it.each([
    ["no previous retrain", undefined, undefined, 0, false],
    ["retrain 2 h ago", T0 - 2 * HOUR, undefined, 0, true],
    ["deploy 30 h ago", T0 - 40 * HOUR, T0 - 30 * HOUR, 0, false],
    ["deploy 10 h ago", T0 - 40 * HOUR, T0 - 10 * HOUR, 0, true],
  ])("cooldown %s", (_n, retrain, deploy, _x, suppressed) => {
    expect(cooldownCheck(24, retrain, deploy, T0) !== undefined).toBe(suppressed);
  });
  it.each([
    [[T0 - 1 * DAY, T0 - 2 * DAY, T0 - 3 * DAY], false],
    [[T0 - 1 * DAY, T0 - 2 * DAY, T0 - 3 * DAY, T0 - 4 * DAY], true],
    [[T0 - 1 * DAY, T0 - 2 * DAY, T0 - 3 * DAY, T0 - 40 * DAY], false],
  ])("budget %j suppressed=%s", (starts, suppressed) => {
    expect(budgetCheck({ maxRetrains: 4, periodDays: 30 }, starts, T0) !== undefined).toBe(suppressed);
  });

  const adaptive = parsePolicy({
    stability: { adaptive: { enabled: true, minHistory: 3, k: 3, referenceHours: 24 } },
  }).stability.adaptive;
  // Reference period: the 24 h after a deployment 48 h before T0.
  const deployedAt = T0 - 48 * HOUR;
  const inReference = [0.1, 0.12, 0.08, 0.1].map((x, i) => entry(47 - i, false, { drift: x }));
  it("adaptive limit = mean + k sd of the reference period, never tighter than static", () => {
    const wide = adaptiveLimit(adaptive, "drift", inReference, T0, 0.05, "above", deployedAt);
    expect(wide?.mean).toBeCloseTo(0.1, 9);
    expect(wide?.threshold).toBeCloseTo(0.1 + 3 * Math.sqrt(0.0008 / 3), 9);
    expect(wide?.referenceFrom).toBe(deployedAt);
    expect(adaptiveLimit(adaptive, "drift", inReference, T0, 0.5, "above", deployedAt)?.threshold).toBe(0.5);
  });
  it.each([
    ["fewer values than minHistory", inReference.slice(0, 2), T0, deployedAt],
    ["no reference start (never deployed, no reference baseline)", inReference, T0, undefined],
    ["the reference period is not over yet", inReference, deployedAt + 12 * HOUR, deployedAt],
    ["all values from before the deployment", inReference, T0, T0 - 30 * HOUR],
  ])("no adaptive limit when %s", (_n, history, now, from) => {
    expect(adaptiveLimit(adaptive, "drift", history, now, 0.05, "above", from)).toBeUndefined();
  });
  it("only for the configured signals", () => {
    expect(adaptiveLimit(adaptive, "volume", inReference, T0, 0.05, "above", deployedAt)).toBeUndefined();
  });
  it("cannot be walked down: values after the reference period do not move it", () => {
    const decline = Array.from({ length: 20 }, (_, i) => entry(20 - i, false, { drift: 0.3 + 0.05 * i }));
    const before = adaptiveLimit(adaptive, "drift", inReference, T0, 0.05, "above", deployedAt);
    const after = adaptiveLimit(
      adaptive,
      "drift",
      [...inReference, ...decline],
      T0,
      0.05,
      "above",
      deployedAt,
    );
    expect(after).toEqual(before);
  });
  it("leaves out the evaluations where the signal breached", () => {
    const breached: HistoryEntry = { ...entry(43, true, { drift: 0.9 }), breached: ["drift"] };
    const otherBreach: HistoryEntry = { ...entry(42, true, { drift: 0.1 }), breached: ["performance"] };
    const limit = adaptiveLimit(
      adaptive,
      "drift",
      [...inReference, breached, otherBreach],
      T0,
      0.05,
      "above",
      deployedAt,
    );
    expect(limit?.n).toBe(5);
    expect(limit?.mean).toBeCloseTo(0.1, 9);
  });
  it("seasonal limits use only the same hour of the week", () => {
    const seasonal = { ...adaptive, seasonal: true, referenceHours: 24 * 7 * 5 };
    const history = [1, 2, 3, 4].flatMap((w) => [
      entry(w * 24 * 7, false, { drift: 0.5 }),
      entry(w * 24 * 7 + 1, false, { drift: 0.01 }),
    ]);
    const limit = adaptiveLimit(seasonal, "drift", history, T0, 0.1, "above", T0 - 24 * 7 * 5 * HOUR);
    expect(limit).toMatchObject({ n: 4, mean: 0.5, seasonal: true });
    expect(hourOfWeek(T0)).toBe(0);
  });
  it.each([
    [
      { seasonal: true, referenceHours: 24 * 7 * 4 },
      /referenceHours 672 holds 4 week\(s\), fewer than minHistory \(12\)/,
    ],
    [{ seasonal: true, referenceHours: 24 * 7 * 12 }, undefined],
    [{ seasonal: false, referenceHours: 24 }, undefined],
  ])("a seasonal setting the reference period cannot support is refused: %j", (setting, error) => {
    const parse = () => parsePolicy({ stability: { adaptive: { enabled: true, ...setting } } });
    if (error === undefined) expect(parse).not.toThrow();
    else expect(parse).toThrow(error);
  });
});
