/**
 * Scenario 1: thirty days of stationary traffic with a daily seasonal cycle (volume and the `season`
 * feature follow the hour of day), over a million events: no retrain and no drift alert.
 */

import { describe, expect, it } from "vitest";
import { DAY_MS as DAY, HOUR_MS as HOUR } from "../../contracts/time";
import { describeDecisions, Simulation, T0 } from "../support/simulation";

describe("scenario 1: stationary month with a daily cycle", () => {
  it("never retrains and never alerts on drift", () => {
    const sim = new Simulation({ policy: {}, eventsPerHour: 1450, seed: 1 });
    // Evaluate every 6 hours over 30 days on the default 24-hour window.
    const decisions = sim.run(T0 + DAY, T0 + 31 * DAY, 6);
    expect(sim.events).toBeGreaterThan(1_000_000);
    expect(decisions).toHaveLength(120);
    const actions = decisions.filter((d) => d.action !== "none");
    expect(actions, describeDecisions(actions)).toEqual([]);
    const driftBreaches = decisions.flatMap((d) =>
      d.signals.filter((s) => (s.signal === "drift" || s.signal.startsWith("featureDrift:")) && s.breached),
    );
    expect(driftBreaches).toEqual([]);
    // The signals were really judged, not skipped for lack of data.
    const last = decisions.at(-1)!;
    for (const name of ["performance", "estimatedPerformance", "drift", "predictionDrift", "dataQuality"])
      expect(last.signals.find((s) => s.signal === name)?.skipped, name).toBeUndefined();
    expect(last.metrics.labelled).toBeGreaterThan(10_000);
    expect(last.window.to - last.window.from).toBe(24 * HOUR);
  });
});
