import { describe, expect, it } from "vitest";
import {
  ApprovalSchema,
  DEFAULT_TRIGGER_POLICY,
  driftThreshold,
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
    // No metric: the task's default (gateMetricOf), so a regression model needs no setting.
    expect(ValidationGateSchema.parse({})).toMatchObject({ minImprovement: 0 });
    expect(ValidationGateSchema.parse({}).metric).toBeUndefined();
    expect(ApprovalSchema.parse({})).toMatchObject({ required: "never", timeoutHours: 24 });
    expect(ApprovalSchema.safeParse({ required: "sometimes" }).success).toBe(false);
  });
});
