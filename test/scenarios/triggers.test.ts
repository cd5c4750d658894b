/**
 * Scenarios 2-7: shifts that hurt, shifts that do not, broken data, loops after a retrain, calendar and
 * volume triggers, late labels. Each runs the real profile, drift, CBPE and decision code over
 * synthetic hourly buckets on a simulated clock (see test/support/simulation.ts).
 */

import { describe, expect, it } from "vitest";
import { DAY_MS as DAY, HOUR_MS as HOUR } from "../../contracts/time";
import type { Decision } from "../../lambdas/domain/decision/decision";
import { describeDecisions, NORMAL_WORLD, Simulation, T0 } from "../support/simulation";

const iso = (ms: number) => new Date(ms).toISOString();
const signal = (d: Decision, name: string) => d.signals.find((s) => s.signal === name);
const retrains = (ds: readonly Decision[]) => ds.filter((d) => d.action === "retrain");

describe("scenario 2: abrupt covariate shift that hurts accuracy", () => {
  it("retrains within two evaluations once the shifted data reaches the minimum samples", () => {
    const shiftAt = T0 + 2 * DAY + 9 * HOUR;
    const sim = new Simulation({
      policy: { windowHours: 4 },
      world: (t) => (t >= shiftAt ? { ...NORMAL_WORLD, spread: 0.15 } : NORMAL_WORLD),
    });
    const before = sim.run(shiftAt - DAY, shiftAt + HOUR, 1);
    expect(retrains(before), describeDecisions(before)).toEqual([]);
    // First evaluation whose window holds at least minSamples (500) shifted events.
    const firstCapable = shiftAt + HOUR;
    const after = sim.run(shiftAt + 2 * HOUR, shiftAt + 6 * HOUR, 1);
    expect(sim.buckets.get(shiftAt)!.profile.count).toBeGreaterThanOrEqual(500);
    const all = [...before, ...after];
    const first = retrains(all)[0];
    expect(first, describeDecisions(all)).toBeDefined();
    expect(first!.evaluatedAt).toBeLessThanOrEqual(firstCapable + 2 * HOUR);
    expect(signal(first!, "estimatedPerformance")?.breached).toBe(true);
    expect(signal(first!, "performance")?.breached).toBe(true);
    expect(first!.summary).toContain("Retrain started");
    expect(retrains(all)).toHaveLength(1);
  });
});

describe("scenario 3: drift on a feature the model ignores", () => {
  it("alerts on the drift but does not retrain when the policy requires performance impact", () => {
    const shiftAt = T0 + 2 * DAY;
    const sim = new Simulation({
      policy: { rule: { all: ["drift", { any: ["performance", "estimatedPerformance"] }] } },
      world: (t) => (t >= shiftAt ? { ...NORMAL_WORLD, noiseShift: 2 } : NORMAL_WORLD),
    });
    const ds = sim.run(shiftAt + HOUR, shiftAt + 2 * DAY, 2);
    expect(retrains(ds)).toEqual([]);
    const late = ds.slice(-5);
    for (const d of late) {
      expect(d.action).toBe("alert");
      expect(signal(d, "featureDrift:noise")?.breached).toBe(true);
      // Importance weighting: the ignored feature adds nothing to the drifted share.
      expect(signal(d, "drift")?.breached).toBe(false);
      expect(signal(d, "estimatedPerformance")?.breached).toBe(false);
      expect(signal(d, "performance")?.breached).toBe(false);
      expect(d.summary).toContain("noise");
    }
  });
});

describe("scenario 4: a feature turns null for two hours", () => {
  it("raises a data-quality alert and refuses to retrain on broken data", () => {
    const outage = { from: T0 + 2 * DAY + 10 * HOUR, to: T0 + 2 * DAY + 12 * HOUR };
    const sim = new Simulation({
      // A sensitive policy: a short window and no persistence, so the damage the nulls do to the
      // predictions would trigger a retrain if the data-quality gate did not stop it.
      policy: { windowHours: 2, stability: { persistence: { m: 1, n: 1 } } },
      world: (t) =>
        t >= outage.from && t < outage.to ? { ...NORMAL_WORLD, nullFeatures: ["x2"] } : NORMAL_WORLD,
    });
    const ds = sim.run(outage.from - 6 * HOUR, outage.to + 8 * HOUR, 1);
    expect(retrains(ds), describeDecisions(ds)).toEqual([]);
    const during = ds.filter((d) => d.evaluatedAt > outage.from && d.evaluatedAt <= outage.to);
    expect(during).toHaveLength(2);
    for (const d of during) {
      expect(d.action).toBe("alert");
      expect(signal(d, "dataQuality")?.breached).toBe(true);
      expect(signal(d, "missingRate:x2")?.breached).toBe(true);
    }
    expect(
      during.some((d) => d.ruleSatisfied && d.suppressions.some((s) => s.reason === "dataQualityGate")),
    ).toBe(true);
    const healthy = ds.filter((d) => d.evaluatedAt <= outage.from || d.evaluatedAt > outage.to + 2 * HOUR);
    for (const d of healthy) expect(signal(d, "dataQuality")?.breached, iso(d.evaluatedAt)).toBe(false);
  });
});

describe("scenario 5: degradation that persists right after a retrain", () => {
  it("does not start a second retrain inside the cooldown", () => {
    const shiftAt = T0 + 2 * DAY;
    const sim = new Simulation({
      // An absolute floor keeps the rule breached after the retrain (the new baseline is degraded too).
      policy: {
        windowHours: 4,
        signals: { performance: { floor: 0.8 }, estimatedPerformance: { floor: 0.8 } },
        stability: { cooldownHours: 24 },
      },
      trainingHours: 2,
      world: (t) => (t >= shiftAt ? { ...NORMAL_WORLD, spread: 0.15 } : NORMAL_WORLD),
    });
    const ds = sim.run(shiftAt + HOUR, shiftAt + 30 * HOUR, 1);
    const started = retrains(ds);
    expect(started.length, describeDecisions(ds)).toBeGreaterThanOrEqual(1);
    const first = started[0]!.evaluatedAt;
    expect(sim.deploys[0]).toBe(first + 2 * HOUR);
    const inCooldown = ds.filter((d) => d.evaluatedAt > first && d.evaluatedAt < sim.deploys[0]! + 24 * HOUR);
    expect(inCooldown.length).toBeGreaterThan(20);
    for (const d of inCooldown) {
      expect(d.action).toBe("alert");
      expect(d.ruleSatisfied).toBe(true);
      expect(d.suppressions.map((s) => s.reason)).toContain("cooldown");
    }
    expect(inCooldown[0]!.suppressions.map((s) => s.reason)).toContain("runActive");
    expect(started.filter((d) => d.evaluatedAt < sim.deploys[0]! + 24 * HOUR)).toHaveLength(1);
  });
});

describe("scenario 6: volume and model-age triggers", () => {
  it("the new-label volume trigger fires once when due", () => {
    const sim = new Simulation({
      policy: { signals: { labelVolume: { enabled: true, minNewLabels: 15_000 } } },
      championTrainedAt: T0 + DAY,
      eventsPerHour: 1500,
      labelShare: 0.5,
    });
    // Due after ~20 h of ~750 labels/h; due again ~20 h after the deploy, beyond this horizon.
    const ds = sim.run(T0 + DAY + HOUR, T0 + 2 * DAY + 12 * HOUR, 1);
    const fired = retrains(ds);
    expect(fired, describeDecisions(ds)).toHaveLength(1);
    const d = fired[0]!;
    expect(signal(d, "labelVolume")).toMatchObject({ breached: true });
    expect(signal(d, "labelVolume")!.value!).toBeGreaterThanOrEqual(15_000);
    // The previous evaluation was not due yet.
    const prev = ds[ds.indexOf(d) - 1]!;
    expect(signal(prev, "labelVolume")!.value!).toBeLessThan(15_000);
    // After the deploy the count restarts from the new training time.
    expect(signal(ds.at(-1)!, "labelVolume")!.value!).toBeLessThan(15_000);
  });

  it("the model-age trigger fires once when due", () => {
    const sim = new Simulation({
      policy: { signals: { modelAge: { enabled: true, maxAgeDays: 3 } } },
      championTrainedAt: T0,
      eventsPerHour: 300,
    });
    const ds = sim.run(T0 + DAY, T0 + 5 * DAY, 6);
    const fired = retrains(ds);
    expect(fired, describeDecisions(ds)).toHaveLength(1);
    expect(fired[0]!.evaluatedAt).toBe(T0 + 3 * DAY + 6 * HOUR);
    expect(signal(fired[0]!, "modelAge")!.value!).toBeGreaterThan(3);
    expect(signal(ds.at(-1)!, "modelAge")!.value!).toBeLessThan(2);
  });

  it("the cron schedule fires once per occurrence", () => {
    const sim = new Simulation({
      policy: { signals: { modelAge: { enabled: true, maxAgeDays: 365, schedule: "0 3 * * 1" } } },
      championTrainedAt: T0 - DAY,
      eventsPerHour: 300,
    });
    // T0 is a Monday: the occurrence is T0 + 3 h; the next one a week later.
    const ds = sim.run(T0 + HOUR, T0 + 6 * DAY, 2);
    const fired = retrains(ds);
    expect(fired, describeDecisions(ds)).toHaveLength(1);
    expect(fired[0]!.evaluatedAt).toBe(T0 + 3 * HOUR);
  });
});

describe("scenario 7: labels delayed by three days", () => {
  it("the label-free estimate catches a degradation that realized accuracy shows only later", () => {
    const shiftAt = T0 + 4 * DAY;
    const sim = new Simulation({
      policy: {
        signals: { performance: { windowHours: 24 * 4 } },
        // Alert-only run: observe when each signal sees the degradation.
        rule: { all: ["performance", "estimatedPerformance", "labelVolume"] },
      },
      labelDelayHours: 72,
      eventsPerHour: 800,
      world: (t) => (t >= shiftAt ? { ...NORMAL_WORLD, spread: 0.2 } : NORMAL_WORLD),
    });
    const ds = sim.run(shiftAt - DAY, shiftAt + 5 * DAY, 4);
    const firstBreach = (name: string) =>
      ds.find((d) => d.evaluatedAt >= shiftAt && signal(d, name)?.breached)?.evaluatedAt;
    const estimated = firstBreach("estimatedPerformance");
    const realized = firstBreach("performance");
    expect(estimated, describeDecisions(ds)).toBeDefined();
    expect(realized).toBeDefined();
    expect(estimated!).toBeLessThanOrEqual(shiftAt + 8 * HOUR);
    expect(realized! - estimated!).toBeGreaterThanOrEqual(2.5 * DAY);
    // Before the shift, neither fires: the estimate is not noisy.
    for (const d of ds.filter((x) => x.evaluatedAt < shiftAt))
      expect(signal(d, "estimatedPerformance")?.breached).toBe(false);
  });

  it("with the default rule, the estimate alone starts the retrain days before labels arrive", () => {
    const shiftAt = T0 + 4 * DAY;
    const sim = new Simulation({
      policy: { signals: { performance: { windowHours: 24 * 4 } } },
      labelDelayHours: 72,
      eventsPerHour: 800,
      world: (t) => (t >= shiftAt ? { ...NORMAL_WORLD, spread: 0.2 } : NORMAL_WORLD),
    });
    const ds = sim.run(shiftAt - DAY, shiftAt + DAY, 4);
    const first = retrains(ds)[0];
    expect(first, describeDecisions(ds)).toBeDefined();
    expect(first!.evaluatedAt).toBeLessThanOrEqual(shiftAt + 12 * HOUR);
    expect(signal(first!, "estimatedPerformance")?.breached).toBe(true);
    expect(signal(first!, "performance")?.breached).toBe(false);
  });
});
