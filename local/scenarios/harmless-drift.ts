/**
 * Harmless drift: SEA concept 1 throughout, but the attribute the concept ignores (`f3`) drifts far
 * from day 30% on (and a new `device` category appears). Feature drift is large, model accuracy is
 * unchanged: an importance-weighted policy should not retrain (a warning that names the drifted features is expected).
 */

import { DAY_MS } from "../../contracts/time";
import { categorical, WithIgnoredFeatures } from "../generators/extras";
import { SEA_FEATURES, SeaGenerator } from "../generators/sea";
import { SCENARIO_EPOCH, type Scenario, type ScenarioOptions } from "./types";

export function harmlessDriftScenario(options: ScenarioOptions = {}): Scenario {
  const days = options.days ?? 30;
  const start = SCENARIO_EPOCH;
  const from = start + Math.round(days * 0.3) * DAY_MS;
  const ramp = 3 * DAY_MS;
  const sea = new SeaGenerator({
    noise: 0.05,
    featureShift: (t, f) => (f === "f3" ? 6 * Math.min(1, Math.max(0, (t - from) / ramp)) : 0),
  });
  const before = categorical({ ios: 5, android: 5 });
  const after = categorical({ ios: 3, android: 3, web: 4 });
  const generator = new WithIgnoredFeatures(sea, {
    device: (t, rng) => (t < from ? before(t, rng) : after(t, rng)),
  });
  return {
    name: "harmless-drift",
    description: "SEA concept 1; an ignored feature (f3) and a categorical drift strongly: expect no retrain",
    modelId: "ads",
    seed: options.seed ?? 13,
    start,
    days,
    eventsPerDay: options.eventsPerDay ?? 160,
    features: [...SEA_FEATURES, { name: "device", kind: "categorical", importance: 0 }],
    generator,
    traffic: () => 1,
    labelRate: 0.8,
    labelDelayHours: [6, 30],
    malformedRate: () => 0,
    initialTrainingExamples: 1500,
    markers: [{ at: from, label: "f3 and device drift (ignored by the concept)", kind: "drift" }],
    expect: { retrain: false, alert: true },
  };
}
