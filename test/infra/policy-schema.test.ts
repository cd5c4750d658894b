import { describe, expect, it } from "vitest";
import {
  ApprovalSchema,
  DEFAULT_TRIGGER_POLICY,
  driftThreshold,
  gateMarginOf,
  gateMetricOf,
  PolicyError,
  parsePolicy,
  ruleSignals,
  ValidationGateSchema,
} from "../../contracts/policy";

describe("TriggerPolicySchema", () => {
  it("fills every default from an empty object", () => {
    const policy = parsePolicy({});
    expect(policy).toEqual(DEFAULT_TRIGGER_POLICY);
    expect(policy.windowHours).toBe(24);
    expect(policy.signals.drift.numericMethod).toBe("psi");
    expect(policy.stability.persistence).toEqual({ m: 2, n: 3 });
    expect(policy.rule).toEqual({
      any: ["performance", "estimatedPerformance", "labelVolume", "modelAge", "schedule"],
    });
  });

  it.each([
    [{ signals: { drift: { maxDriftedShare: 2 } } }, "policy.signals.drift.maxDriftedShare"],
    [{ signals: { modelAge: { schedule: "every tuesday" } } }, "policy.signals.modelAge.schedule"],
    [{ signals: { modelAge: { timezone: "Mars/Olympus" } } }, "policy.signals.modelAge.timezone"],
    [{ signals: { performance: { metric: "vibes" } } }, "policy.signals.performance.metric"],
    [{ signals: { drift: { numericMethod: "chiSquared" } } }, "policy.signals.drift.numericMethod"],
    [{ rule: { any: ["nope"] } }, "policy.rule"],
    [{ stability: { persistence: { m: 4, n: 3 } } }, "policy.stability.persistence"],
    [{ stability: { cooldownHours: -1 } }, "policy.stability.cooldownHours"],
    [{ windwoHours: 3 }, "policy"],
  ])("rejects %j naming %s", (input, path) => {
    let error: unknown;
    try {
      parsePolicy(input);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PolicyError);
    expect((error as PolicyError).message).toContain(path);
  });

  it("accepts nested all/any/score rules and lists their signals", () => {
    const policy = parsePolicy({
      rule: {
        any: [
          { all: ["drift", { any: ["performance", "estimatedPerformance"] }] },
          { score: { weights: { predictionDrift: 1, drift: 2 }, threshold: 2.5 } },
        ],
      },
    });
    expect([...ruleSignals(policy.rule)].sort()).toEqual([
      "drift",
      "estimatedPerformance",
      "performance",
      "predictionDrift",
    ]);
  });

  it("resolves drift thresholds: override, then policy, then method default", () => {
    const policy = parsePolicy({
      signals: { drift: { categoricalThreshold: 0.3, features: { age: { threshold: 0.5 } } } },
    });
    expect(driftThreshold(policy.signals.drift, "age", "numeric")).toBe(0.5);
    expect(driftThreshold(policy.signals.drift, "income", "numeric")).toBe(0.2);
    expect(driftThreshold(policy.signals.drift, "plan", "categorical")).toBe(0.3);
  });
});

describe("ValidationGateSchema and ApprovalSchema", () => {
  it("default to a safe automatic gate", () => {
    // A paired non-inferiority test; metric and margin follow the task (gateMetricOf, gateMarginOf).
    expect(ValidationGateSchema.parse({})).toEqual({
      hypothesis: "nonInferiority",
      alpha: 0.05,
      power: 0.8,
      assumedDiscordance: 0.1,
      assumedLossCv: 1,
      minAgreement: 0.5,
    });
    expect(gateMarginOf({}, gateMetricOf({}, "binary"))).toBe(0.01);
    expect(gateMarginOf({}, gateMetricOf({}, "regression"))).toBe(0.05);
    expect(ApprovalSchema.parse({})).toMatchObject({ required: "never", timeoutHours: 24 });
    expect(ApprovalSchema.safeParse({ required: "sometimes" }).success).toBe(false);
  });

  it.each([
    ["minImprovement", /minImprovement: replaced by margin/],
    ["maxPredictionShift", /maxPredictionShift: replaced by minAgreement/],
    ["minHoldout", /minHoldout: removed: the minimum holdout is derived/],
  ])("refuses the replaced gate field %s, saying what replaced it", (field, message) => {
    const parsed = ValidationGateSchema.safeParse({ [field]: 0 });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.message).toMatch(message);
  });

  it("refuses a margin outside (0, 1)", () => {
    expect(ValidationGateSchema.safeParse({ margin: 0 }).success).toBe(false);
    expect(ValidationGateSchema.safeParse({ margin: 1 }).success).toBe(false);
  });
});
