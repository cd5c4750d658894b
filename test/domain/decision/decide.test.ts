import { describe, expect, it } from "vitest";
import type { FeatureSpec, ProfileSpec } from "../../../contracts/model";
import { parsePolicy, type TriggerPolicyInput } from "../../../contracts/policy";
import { HOUR_MS as HOUR } from "../../../contracts/time";
import { decide, suppressRetrain } from "../../../lambdas/domain/decision/decide";
import type {
  BaselineInput,
  Decision,
  DecisionInputs,
  WindowBucket,
} from "../../../lambdas/domain/decision/decision";
import type { HistoryEntry } from "../../../lambdas/domain/decision/stability";
import { emptyProfile } from "../../../lambdas/domain/stats/profile";
import { mergeProfileList } from "../../../lambdas/domain/stats/profile-merge";
import { addOutcome, addPrediction } from "../../../lambdas/domain/stats/profile-update";
import {
  baselineProfile,
  FEATURES,
  NORMAL_WORLD,
  Rng,
  SPEC,
  sampleEvent,
  T0,
  type World,
} from "../../support/simulation";

const NOW = T0 + 10 * 24 * HOUR;

/** 24 hourly buckets ending at NOW, the last `recent` hours drawn from `late`. */
function buckets(world: World, late: World = world, recent = 0, perHour = 600): WindowBucket[] {
  const rng = new Rng(3);
  return Array.from({ length: 24 }, (_, h) => {
    const start = NOW - (24 - h) * HOUR;
    const w = h >= 24 - recent ? late : world;
    const profile = emptyProfile(SPEC);
    for (let i = 0; i < perHour; i++) {
      const e = sampleEvent(rng, h, w);
      addPrediction(profile, e);
      if (i % 2 === 0) addOutcome(profile, e);
    }
    return { bucketStart: start, profile, received: perHour, quarantined: {} };
  });
}

const baseline = { version: "v1", profile: baselineProfile(new Rng(9), 20_000) };
const healthy = buckets(NORMAL_WORLD);
const degraded = buckets({ ...NORMAL_WORLD, spread: 0.15 });
const noiseDrift = buckets({ ...NORMAL_WORLD, noiseShift: 2, spread: 1.5 });
const broken = buckets(
  { ...NORMAL_WORLD, spread: 0.15 },
  { ...NORMAL_WORLD, spread: 0.15, nullFeatures: ["x2"] },
  1,
);

function run(
  policy: TriggerPolicyInput,
  windowBuckets: WindowBucket[],
  over: Partial<DecisionInputs> = {},
): Decision {
  return decide(parsePolicy(policy), {
    modelId: "m",
    spec: SPEC,
    now: NOW,
    features: FEATURES,
    window: { buckets: windowBuckets },
    labelHorizonHours: 168,
    bucketMinutes: 60,
    baseline,
    history: [],
    state: { retrainStarts: [], labelsSinceTraining: 0, runActive: false },
    ...over,
  });
}

const held = (hoursAgo: number, values: Record<string, number> = {}): HistoryEntry => ({
  evaluatedAt: NOW - hoursAgo * HOUR,
  ruleSatisfied: true,
  action: "alert",
  values,
});
const noPersistence = { stability: { persistence: { m: 1, n: 1 } } };
const reasons = (d: Decision) => d.suppressions.map((s) => s.reason);

describe("decide", () => {
  it.each([
    ["healthy window", {}, healthy, {}, "none", []],
    ["degradation, first evaluation: persistence holds it back", {}, degraded, {}, "alert", ["persistence"]],
    ["degradation, second evaluation", {}, degraded, { history: [held(1)] }, "retrain", []],
    [
      "degradation during an active run",
      noPersistence,
      degraded,
      { state: { retrainStarts: [], labelsSinceTraining: 0, runActive: true } },
      "alert",
      ["runActive"],
    ],
    [
      "degradation, budget used up",
      noPersistence,
      degraded,
      {
        state: {
          retrainStarts: [1, 2, 3, 4].map((d) => NOW - d * 24 * HOUR),
          labelsSinceTraining: 0,
          runActive: false,
        },
      },
      "alert",
      ["budget"],
    ],
    ["degradation with broken data", noPersistence, broken, {}, "alert", ["dataQualityGate"]],
    [
      "drift without performance impact, rule requires impact",
      { rule: { all: ["drift", { any: ["performance", "estimatedPerformance"] }] } },
      noiseDrift,
      {},
      "alert",
      [],
    ],
  ] as const)("%s", (_name, policy, windowBuckets, over, action, suppressed) => {
    const d = run(policy, windowBuckets as unknown as WindowBucket[], over as Partial<DecisionInputs>);
    expect(d.action, d.summary).toBe(action);
    expect(reasons(d)).toEqual(suppressed);
    expect(d.severity).toBe(action === "retrain" ? "retrain" : action === "alert" ? "warn" : "info");
  });

  it("without a baseline judges only what needs none", () => {
    const d = run({ signals: { modelAge: { enabled: true, maxAgeDays: 1 } } }, degraded, {
      baseline: undefined,
      state: {
        championTrainedAt: NOW - 3 * 24 * HOUR,
        retrainStarts: [],
        labelsSinceTraining: 0,
        runActive: false,
      },
    });
    expect(d.signals.find((s) => s.signal === "drift")?.skipped).toBeDefined();
    expect(d.signals.find((s) => s.signal === "performance")?.skipped).toBe(
      "no baseline metric and no floor",
    );
    expect(d.action).toBe("retrain");
    expect(d.baselineVersion).toBeNull();
    expect(d.rule.explanation).toContain("modelAge=true");
  });

  it("reports weighted-score contributions", () => {
    const d = run(
      {
        rule: { score: { weights: { performance: 2, drift: 1, predictionDrift: 1 }, threshold: 3 } },
        ...noPersistence,
      },
      degraded,
    );
    expect(d.rule.score).toBe(4);
    expect(d.rule.contributions.map((c) => [c.signal, c.contribution])).toEqual([
      ["performance", 2],
      ["drift", 1],
      ["predictionDrift", 1],
    ]);
    expect(d.action).toBe("retrain");
    expect(d.summary).toContain("Contributions: performance 2, drift 1, predictionDrift 1");
  });

  it("adaptive limits absorb a signal that is always this high", () => {
    const policy = {
      stability: {
        adaptive: {
          enabled: true,
          minHistory: 5,
          referenceHours: 12,
          signals: ["predictionDrift" as const],
        },
      },
    };
    const staticOnly = run({}, noiseDrift);
    const value = staticOnly.values.predictionDrift!;
    expect(staticOnly.signals.find((s) => s.signal === "predictionDrift")?.breached).toBe(true);
    const history = [1, 2, 3, 4, 5, 6].map((h) => ({
      ...held(h),
      values: { predictionDrift: value * (1 + (h % 2 ? 0.05 : -0.05)) },
    }));
    // The reference period: the 12 h after a deployment 13 h ago.
    const state = {
      retrainStarts: [],
      labelsSinceTraining: 0,
      runActive: false,
      lastDeployAt: NOW - 13 * HOUR,
    };
    const adaptive = run(policy, noiseDrift, { history, state });
    const v = adaptive.signals.find((s) => s.signal === "predictionDrift")!;
    expect(v.threshold!).toBeGreaterThan(value);
    expect(v.breached).toBe(false);
  });

  it("is deterministic: the same inputs give the same decision", () => {
    expect(run({}, degraded, { history: [held(1)] })).toEqual(run({}, degraded, { history: [held(1)] }));
  });

  it("suppressRetrain turns a retrain into an explained alert", () => {
    const d = run(noPersistence, degraded);
    expect(d.action).toBe("retrain");
    const s = suppressRetrain(
      d,
      { reason: "runActive", message: "run x holds the lease" },
      parsePolicy(noPersistence),
    );
    expect(s).toMatchObject({ action: "alert", severity: "warn" });
    expect(s.summary).toContain("Retrain not started: runActive: run x holds the lease");
  });

  it("gives the same decision from a pre-merged window profile", () => {
    // As the stats adapters merge a window (mergeProfileList, like mergeWindow).
    const merged = mergeProfileList(degraded.map((b) => b.profile));
    const fromBuckets = run({}, degraded, { history: [held(1)] });
    const fromMerged = run({}, degraded, {
      history: [held(1)],
      window: { buckets: degraded, merged: { from: NOW - 24 * HOUR, to: NOW, profile: merged } },
    });
    expect(fromMerged).toEqual(fromBuckets);
  });
});

describe("decide: the data-quality gate", () => {
  const degradedWorld = { ...NORMAL_WORLD, spread: 0.15 };
  /** Degraded traffic where hours `nullHoursAgo` (1 = the last hour) emit `feature` as null. */
  const outage = (feature: string, nullHoursAgo: readonly number[], perHour = 600): WindowBucket[] => {
    const rng = new Rng(5);
    return Array.from({ length: 24 }, (_, h) => {
      const world = nullHoursAgo.includes(24 - h)
        ? { ...degradedWorld, nullFeatures: [feature] }
        : degradedWorld;
      const profile = emptyProfile(SPEC);
      for (let i = 0; i < perHour; i++) {
        const e = sampleEvent(rng, h, world);
        addPrediction(profile, e);
        if (i % 2 === 0) addOutcome(profile, e);
      }
      return { bucketStart: NOW - (24 - h) * HOUR, profile, received: perHour, quarantined: {} };
    });
  };
  const entry = (hoursAgo: number, values: Record<string, number> = {}, gated = false): HistoryEntry => ({
    evaluatedAt: NOW - hoursAgo * HOUR,
    ruleSatisfied: gated,
    action: "alert",
    values,
    ...(gated ? { gated } : {}),
  });
  const twoHourOutage = outage("x2", [10, 11]);
  /** The breach has gated every 6 h for the last `hours` hours. */
  const gatingFor = (hours: number) =>
    Array.from({ length: hours / 6 }, (_, i) => entry(6 * (i + 1), { dataQualityGating: 1 }, true));
  const dq = (d: Decision) => d.signals.find((v) => v.signal === "dataQuality")!;

  it.each([
    [
      "a 2-h outage between two evaluations 12 h apart is judged and gates",
      twoHourOutage,
      [entry(12)],
      { action: "alert", suppressed: ["dataQualityGate"], dqBreached: true },
    ],
    [
      "the same outage, already judged by an evaluation after it, is not judged again",
      twoHourOutage,
      [entry(9)],
      { action: "retrain", suppressed: [], dqBreached: false },
    ],
    [
      "a feature the model ignores (importance 0) turning null is no data-quality breach",
      outage("noise", [1, 2, 3]),
      [entry(6)],
      { action: "retrain", suppressed: [], dqBreached: false },
    ],
    [
      "a breach that has lasted maxGateHours (48 h) escalates and no longer gates",
      outage("x2", [1, 2, 3, 4, 5, 6]),
      gatingFor(48),
      { action: "retrain", suppressed: [], dqBreached: true },
    ],
    [
      "a breach that has lasted 42 h still gates",
      outage("x2", [1, 2, 3, 4, 5, 6]),
      gatingFor(42),
      { action: "alert", suppressed: ["dataQualityGate"], dqBreached: true },
    ],
    [
      "a volume collapse (a tenth of last week's rate) alerts but does not gate",
      outage("x2", [], 60),
      Array.from({ length: 7 }, (_, d) => entry(24 * (d + 1) - 6, { eventsPerHour: 600 })),
      { action: "retrain", suppressed: [], dqBreached: true },
    ],
  ] as const)("%s", (_name, windowBuckets, history, expected) => {
    const d = run(noPersistence, windowBuckets as WindowBucket[], { history: [...history] });
    expect(d.action, d.summary).toBe(expected.action);
    expect(reasons(d)).toEqual(expected.suppressed);
    expect(dq(d).breached, dq(d).message).toBe(expected.dqBreached);
  });

  it("names the sub-window of an outage and the noise floor it was judged against", () => {
    const v = run(noPersistence, twoHourOutage, { history: [entry(12)] });
    const x2 = dq(v).message;
    const from = new Date(NOW - 10 * HOUR).toISOString().slice(0, 16).replace("T", " ");
    expect(x2).toContain("x2 missing-rate increase");
    expect(x2).toContain(`of 600 in ${from}`);
    expect(x2).toMatch(/sampling noise at n=20000\/600 reaches 0\.0\d/);
  });

  it("at low volume a sub-window widens until it holds minEvents (20) predictions, and is judged whole", () => {
    // 8 predictions an hour: the last hour widens to three (24 events), all of them with x2 null.
    const v = run(noPersistence, outage("x2", [1, 2, 3], 8), { history: [entry(6)] });
    const from = new Date(NOW - 3 * HOUR).toISOString().slice(0, 16).replace("T", " ");
    expect(dq(v).breached).toBe(true);
    expect(dq(v).message).toContain(`of 24 in ${from}`);
  });

  it("the escalation says the baseline may be outdated and how to re-baseline", () => {
    const d = run(noPersistence, outage("x2", [1, 2, 3, 4, 5, 6]), { history: gatingFor(48) });
    expect(dq(d).evidence).toMatchObject({ escalated: true, sustainedHours: 48 });
    expect(dq(d).message).toMatch(/breached for 48 h .*baseline be outdated.*No longer blocking retraining/);
    expect(d.summary).toContain("npm run cli -- rebaseline --config <configuration> --model m");
  });

  it("an evaluation the gate suppressed does not count toward persistence", () => {
    const persistence = { stability: { persistence: { m: 2, n: 3 } } };
    const gated = run(persistence, degraded, { history: [entry(1, {}, true)] });
    expect(gated.action).toBe("alert");
    expect(reasons(gated)).toEqual(["persistence"]);
    const counted = run(persistence, degraded, { history: [held(1)] });
    expect(counted.action).toBe("retrain");
  });
});

describe("decide: the label-free estimate on models it does not apply to", () => {
  const SKIP_REASON = "label-free estimate only for binary classifiers";
  const CLASSES = ["a", "b", "c"] as const;
  const features: readonly FeatureSpec[] = [{ name: "x", kind: "numeric" }];

  /** One event of a healthy multiclass or regression model (predictions right ~90% / close to the label). */
  function event(task: "multiclass" | "regression", rng: Rng) {
    const x = rng.normal();
    if (task === "regression") {
      const label = 10 + 3 * x + rng.normal();
      return { features: { x }, prediction: 10 + 3 * x, label };
    }
    const label = CLASSES[Math.min(2, Math.floor(rng.next() * 3))]!;
    const prediction = rng.next() < 0.9 ? label : CLASSES[(CLASSES.indexOf(label) + 1) % 3]!;
    return { features: { x }, prediction, label };
  }

  function inputs(task: "multiclass" | "regression"): {
    spec: ProfileSpec;
    window: WindowBucket[];
    baseline: BaselineInput;
  } {
    const spec: ProfileSpec =
      task === "multiclass"
        ? { task, classes: CLASSES, features: { x: "numeric" } }
        : { task, features: { x: "numeric" } };
    const rng = new Rng(11);
    const base = emptyProfile(spec);
    for (let i = 0; i < 5000; i++) {
      const e = event(task, rng);
      addPrediction(base, e);
      addOutcome(base, e);
    }
    const window = Array.from({ length: 24 }, (_, h) => {
      const profile = emptyProfile(spec);
      for (let i = 0; i < 300; i++) {
        const e = event(task, rng);
        addPrediction(profile, e);
        addOutcome(profile, e);
      }
      return { bucketStart: NOW - (24 - h) * HOUR, profile, received: 300, quarantined: {} };
    });
    return { spec, window, baseline: { version: "v1", profile: base } };
  }

  const metricOf = { multiclass: "accuracy", regression: "rmse" } as const;
  // Each policy would let a judged estimate trigger: default rule, a rule on the estimate alone, a
  // weighted score on it, an unreachable floor, adaptive limits with history of the estimate.
  const policies: Array<[string, TriggerPolicyInput]> = [
    ["default rule", {}],
    ["rule on the estimate alone", { rule: { any: ["estimatedPerformance"] } }],
    [
      "weighted score on the estimate",
      { rule: { score: { weights: { estimatedPerformance: 1 }, threshold: 0.1 } } },
    ],
    ["unreachable floor", { signals: { estimatedPerformance: { floor: 1 } } }],
    ["adaptive limits", { stability: { adaptive: { enabled: true, signals: ["estimatedPerformance"] } } }],
  ];
  const cases = (["multiclass", "regression"] as const).flatMap((task) =>
    policies.map(([name, policy]) => [task, name, policy] as const),
  );

  it.each(cases)("%s, %s: skipped with a reason, never breached, never retrains", (task, _name, over) => {
    const { spec, window, baseline } = inputs(task);
    const policy = parsePolicy({
      ...over,
      signals: { ...over.signals, performance: { metric: metricOf[task] } },
      stability: { ...over.stability, persistence: { m: 1, n: 1 } },
    });
    expect(policy.signals.estimatedPerformance.enabled).toBe(true);
    const history = [1, 2, 3, 4, 5, 6].map((h) => held(h, { estimatedPerformance: 0.9 + h / 100 }));
    const d = decide(policy, {
      modelId: "m",
      spec,
      now: NOW,
      features,
      window: { buckets: window },
      labelHorizonHours: 168,
      bucketMinutes: 60,
      baseline,
      history,
      state: { retrainStarts: [], labelsSinceTraining: 0, runActive: false },
    });
    const v = d.signals.find((s) => s.signal === "estimatedPerformance");
    expect(v).toMatchObject({
      skipped: SKIP_REASON,
      breached: false,
      value: null,
      threshold: null,
      strength: 0,
    });
    expect(d.signals.find((s) => s.signal === "performance")).toMatchObject({ breached: false });
    expect(d.signals.find((s) => s.signal === "performance")?.skipped).toBeUndefined();
    expect(d.metrics.estimatedMetric).toBeNull();
    expect(d.values.estimatedPerformance ?? null).toBeNull();
    expect(d.ruleSatisfied).toBe(false);
    expect(d.action).not.toBe("retrain");
    expect(d.summary).toContain(`estimatedPerformance: not evaluated (${SKIP_REASON})`);
  });

  it("control: the same unreachable floor breaches on a binary classifier", () => {
    const d = run({ signals: { estimatedPerformance: { floor: 1 } } }, healthy);
    expect(d.signals.find((s) => s.signal === "estimatedPerformance")).toMatchObject({ breached: true });
    expect(d.metrics.estimatedMetric).toEqual(expect.any(Number));
  });
});
